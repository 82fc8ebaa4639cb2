package enroll

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
)

// How an activation link is delivered.
const (
	ViaSMS   = "sms"
	ViaEmail = "email"
	ViaShow  = "" // only shown to the admin
)

// Saved activation texts (message_templates rows). The SMS pair is stored
// with the install text as "subject" and the activation text as "body".
const (
	TemplateActivationEmail = "activation_email"
	TemplateActivationSMS   = "activation_sms"
)

// Errors of sending activation links.
var (
	ErrNoNumber = errors.New("enroll: the device has no phone number to text")
	ErrNoEmail  = errors.New("enroll: the user has no email address")
	ErrBadVia   = errors.New("enroll: send by sms or email")
)

// InvalidTextError lists what is wrong with an edited message, as sentences.
type InvalidTextError struct{ Problems []string }

func (e *InvalidTextError) Error() string {
	return "enroll: invalid message text: " + strings.Join(e.Problems, " ")
}

// ActivationSend says how to send activation links.
type ActivationSend struct {
	Via       string        // ViaSMS, ViaEmail or ViaShow
	TTL       time.Duration // ActivationTTL when zero
	EmailText notify.Text
	SMSText   notify.ActivationSMSText
	// WithLogo shows the organisation's logo (LogoURL) at the top of the email.
	WithLogo bool
	LogoURL  string
}

// Validate checks the texts of the chosen channel.
func (r ActivationSend) Validate() error {
	var problems []string
	switch r.Via {
	case ViaEmail:
		problems = notify.ValidateText(notify.KindActivationEmail, r.EmailText)
	case ViaSMS:
		for _, p := range notify.ValidateText(notify.KindSMSInstall, notify.Text{Body: r.SMSText.Install}) {
			problems = append(problems, "First text: "+p)
		}
		for _, p := range notify.ValidateText(notify.KindSMSActivation, notify.Text{Body: r.SMSText.Activation}) {
			problems = append(problems, "Second text: "+p)
		}
	case ViaShow:
	default:
		return ErrBadVia
	}
	if len(problems) > 0 {
		return &InvalidTextError{Problems: problems}
	}
	return nil
}

// ActivationTexts returns the saved activation texts, or the defaults.
func (s *Service) ActivationTexts(ctx context.Context) (notify.Text, notify.ActivationSMSText, error) {
	email, sms := notify.DefaultActivationEmail, notify.DefaultActivationSMS
	t, err := s.store.MessageTemplate(ctx, TemplateActivationEmail)
	if err == nil {
		email = notify.Text{Subject: t.Subject, Body: t.Body}
	} else if !errors.Is(err, store.ErrNotFound) {
		return email, sms, fmt.Errorf("enroll: activation texts: %w", err)
	}
	t, err = s.store.MessageTemplate(ctx, TemplateActivationSMS)
	if err == nil {
		sms = notify.ActivationSMSText{Install: t.Subject, Activation: t.Body}
	} else if !errors.Is(err, store.ErrNotFound) {
		return email, sms, fmt.Errorf("enroll: activation texts: %w", err)
	}
	return email, sms, nil
}

// saveTextTx keeps the text the admin sent with, for next time.
func saveTextTx(ctx context.Context, q store.Queries, r ActivationSend, now time.Time, who audit.Who) error {
	var t store.MessageTemplate
	switch r.Via {
	case ViaEmail:
		t = store.MessageTemplate{Name: TemplateActivationEmail, Subject: r.EmailText.Subject, Body: r.EmailText.Body, UpdatedAt: now}
	case ViaSMS:
		t = store.MessageTemplate{Name: TemplateActivationSMS, Subject: r.SMSText.Install, Body: r.SMSText.Activation, UpdatedAt: now}
	default:
		return nil
	}
	old, err := q.MessageTemplate(ctx, t.Name)
	if err == nil && old.Subject == t.Subject && old.Body == t.Body {
		return nil
	}
	if err := q.PutMessageTemplate(ctx, t); err != nil {
		return err
	}
	return q.InsertAudit(ctx, audit.Entry(now, who, audit.MessageTemplateSaved, audit.TargetTemplate, t.Name, nil))
}

// ActivationTarget is one device to send an activation link to.
type ActivationTarget struct {
	UserID  int64
	PhoneID int64
}

// ActivationOutcome is what happened to one target of SendActivations.
type ActivationOutcome struct {
	Target   ActivationTarget
	Username string
	Device   string // how the device is shown: number, or "tablet (platform)"
	Issued   *IssuedActivation
	// Skipped says why nothing was sent (pending link, no number...), as
	// one of the errors of this package; nil when sent.
	Skipped error
}

// SendActivations issues an activation code for every target and queues its
// messages (two SMS, or one email), in ONE transaction. A target that cannot
// be sent to (a link already pending, no number for SMS, no email address, a
// device that cannot be activated) is skipped with its reason; the others
// are sent. The text used is saved for next time.
func (s *Service) SendActivations(ctx context.Context, targets []ActivationTarget, r ActivationSend, who audit.Who) ([]ActivationOutcome, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var out []ActivationOutcome
	err := s.store.InTx(ctx, func(q store.Queries) error {
		out = out[:0]
		now := s.clock.Now()
		org, err := notify.LoadOrg(ctx, q, s.orgName(ctx), r.LogoURL)
		if err != nil {
			return err
		}
		sent := 0
		for _, t := range targets {
			o, err := s.sendActivationTx(ctx, q, t, r, org, now, who)
			if err != nil {
				return err
			}
			if o.Skipped == nil {
				sent++
			}
			out = append(out, o)
		}
		if sent > 0 {
			return saveTextTx(ctx, q, r, now, who)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("enroll: send activations: %w", err)
	}
	return out, nil
}

// SendActivation is SendActivations for one device. A skipped target comes
// back as its error.
func (s *Service) SendActivation(ctx context.Context, t ActivationTarget, r ActivationSend, who audit.Who) (IssuedActivation, error) {
	out, err := s.SendActivations(ctx, []ActivationTarget{t}, r, who)
	if err != nil {
		return IssuedActivation{}, err
	}
	if out[0].Skipped != nil {
		return IssuedActivation{}, out[0].Skipped
	}
	return *out[0].Issued, nil
}

// DeviceLabel is how a list names a phone.
func DeviceLabel(p store.Phone) string {
	if p.Type == store.PhoneTablet {
		if p.Name != "" {
			return p.Name + " (tablet, " + p.Platform + ")"
		}
		return "Tablet (" + p.Platform + ")"
	}
	label := FormatNumber(p.Number)
	if p.Extension != "" {
		label += " ext. " + p.Extension
	}
	if p.Name != "" {
		label = p.Name + ", " + label
	}
	return label
}

func (s *Service) sendActivationTx(ctx context.Context, q store.Queries, t ActivationTarget, r ActivationSend, org notify.Org, now time.Time, who audit.Who) (ActivationOutcome, error) {
	o := ActivationOutcome{Target: t}
	u, err := q.UserByID(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		o.Skipped = ErrUserNotFound
		return o, nil
	}
	if err != nil {
		return o, err
	}
	o.Username = u.Username
	ph, err := PhoneOfUser(ctx, q, u, t.PhoneID)
	if errors.Is(err, ErrPhoneNotOfUser) {
		o.Skipped = err
		return o, nil
	}
	if err != nil {
		return o, err
	}
	o.Device = DeviceLabel(ph)
	switch {
	case r.Via == ViaSMS && (ph.Number == "" || ph.Type != store.PhoneMobile):
		o.Skipped = ErrNoNumber
		return o, nil
	case r.Via == ViaEmail && strings.TrimSpace(u.Email) == "":
		o.Skipped = ErrNoEmail
		return o, nil
	}
	issued, err := s.IssueActivationTx(ctx, q, u, ph, r.TTL, r.Via, who)
	var pending *ActivationPendingError
	if errors.As(err, &pending) || errors.Is(err, ErrNotActivatable) || errors.Is(err, ErrInvalidTTL) {
		o.Skipped = err
		return o, nil
	}
	if err != nil {
		return o, err
	}
	switch r.Via {
	case ViaSMS:
		msgs := notify.ActivationSMS(org, u, ph.Number, issued.InstallURL, issued.URL, issued.Code.ExpiresAt, &r.SMSText)
		msgs[0].IntentKey = notify.ActivationIntent(issued.Code.ID, "sms-install")
		msgs[1].IntentKey = notify.ActivationIntent(issued.Code.ID, "sms-activate")
		for _, m := range msgs {
			if _, err := notify.Enqueue(ctx, q, m, now); err != nil {
				return o, err
			}
		}
	case ViaEmail:
		m := notify.ActivationEmail(org, u, issued.InstallURL, issued.URL, issued.Code.ExpiresAt, &r.EmailText, r.WithLogo)
		m.IntentKey = notify.ActivationIntent(issued.Code.ID, "email")
		if _, err := notify.Enqueue(ctx, q, m, now); err != nil {
			return o, err
		}
	}
	o.Issued = &issued
	return o, nil
}

package enroll

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// Phones through the Admin API: Duo's model, where a phone is created on
// its own and then attached to users.

// Errors of phones written through the Admin API.
var (
	ErrPhoneHasNoUser = errors.New("attach the phone to a user before activating it")
	ErrNumberTaken    = errors.New("a phone with that number and extension exists already; attach that phone instead")
	ErrInvalidDelay   = errors.New("predelay and postdelay are whole numbers of seconds from 0 to 60")
)

// APIPhoneFields are the fields of a phone as the Admin API sets them.
type APIPhoneFields struct {
	NewPhone
	Extension           string
	Predelay, Postdelay *string
}

// preparePhoneFields checks f and returns the record to store.
func preparePhoneFields(f APIPhoneFields) (store.APIPhone, error) {
	ph, err := preparePhone(f.NewPhone)
	if err != nil {
		return store.APIPhone{}, err
	}
	if f.Extension != "" {
		ext := strings.TrimSpace(f.Extension)
		if len(ext) > 10 || strings.Trim(ext, "0123456789") != "" {
			return store.APIPhone{}, ErrInvalidNumber
		}
		ph.Extension = ext
	}
	for _, d := range []*string{f.Predelay, f.Postdelay} {
		if d == nil {
			continue
		}
		ok := len(*d) > 0 && len(*d) <= 2 && strings.Trim(*d, "0123456789") == ""
		if !ok || (len(*d) == 2 && *d > "60") {
			return store.APIPhone{}, ErrInvalidDelay
		}
	}
	return store.APIPhone{Phone: ph, Predelay: f.Predelay, Postdelay: f.Postdelay}, nil
}

// CreateAPIPhone creates a phone that belongs to no user yet, with its
// audit record. ErrNumberTaken when its number is another phone's.
func (s *Service) CreateAPIPhone(ctx context.Context, f APIPhoneFields, who audit.Who) (store.APIPhone, error) {
	p, err := preparePhoneFields(f)
	if err != nil {
		return p, err
	}
	p.Key, p.CreatedAt = secret.NewID("DP", 20), s.clock.Now()
	err = s.store.InTx(ctx, func(q store.Queries) error {
		if p.Number != "" {
			if _, err := q.PhoneByNumber(ctx, p.Number, p.Extension); err == nil {
				return ErrNumberTaken
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := q.CreatePhone(ctx, &p.Phone); err != nil {
			return err
		}
		if err := q.UpdateAPIPhone(ctx, p); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(p.CreatedAt, who, audit.PhoneCreated, audit.TargetPhone, p.Key,
			map[string]any{"type": p.Type, "platform": p.Platform, "number": p.Number}))
	})
	return p, err
}

// UpdateAPIPhone writes f over phone p with an audit record. A changed
// number must not be another phone's.
func (s *Service) UpdateAPIPhone(ctx context.Context, p store.APIPhone, f APIPhoneFields, who audit.Who) error {
	next, err := preparePhoneFields(f)
	if err != nil {
		return err
	}
	next.ID, next.Key = p.ID, p.Key
	return s.store.InTx(ctx, func(q store.Queries) error {
		if next.Number != "" && (next.Number != p.Number || next.Extension != p.Extension) {
			if _, err := q.PhoneByNumber(ctx, next.Number, next.Extension); err == nil {
				return ErrNumberTaken
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := q.UpdateAPIPhone(ctx, next); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.clock.Now(), who, audit.PhoneUpdated, audit.TargetPhone, p.Key,
			map[string]any{"type": next.Type, "platform": next.Platform, "number": next.Number, "name": next.Name}))
	})
}

// DeleteAPIPhone deletes phone p, detaching it from its users, with an
// audit record for the phone and one for each user who loses it.
func (s *Service) DeleteAPIPhone(ctx context.Context, p store.APIPhone, who audit.Who) error {
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.DeletePhone(ctx, p.ID); err != nil {
			return err
		}
		for _, u := range p.Users {
			if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.PhoneDetached, audit.TargetUser, u.Username,
				map[string]any{"phone_id": p.Key, "deleted": true})); err != nil {
				return err
			}
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.PhoneDeleted, audit.TargetPhone, p.Key,
			map[string]any{"number": p.Number, "users": len(p.Users)}))
	})
}

// AttachAPIPhone gives phone p to user u (a phone may be shared), with
// its audit record; attaching twice changes nothing.
func (s *Service) AttachAPIPhone(ctx context.Context, u store.User, p store.Phone, who audit.Who) error {
	return s.store.InTx(ctx, func(q store.Queries) error {
		linked, err := q.UserPhoneLinked(ctx, u.ID, p.ID)
		if err != nil || linked {
			return err
		}
		if err := q.AttachPhone(ctx, u.ID, p.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.clock.Now(), who, audit.PhoneAttached, audit.TargetUser, u.Username,
			map[string]any{"phone_id": p.Key, "activated": p.Activated}))
	})
}

// DetachAPIPhone takes phone p from user u, with its audit record; the
// phone itself stays. A phone not attached is left as is.
func (s *Service) DetachAPIPhone(ctx context.Context, u store.User, p store.Phone, who audit.Who) error {
	return s.store.InTx(ctx, func(q store.Queries) error {
		linked, err := q.UserPhoneLinked(ctx, u.ID, p.ID)
		if err != nil || !linked {
			return err
		}
		if err := q.DetachPhone(ctx, u.ID, p.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.clock.Now(), who, audit.PhoneDetached, audit.TargetUser, u.Username,
			map[string]any{"phone_id": p.Key}))
	})
}

// holderOf is the user an activation of p is for: its first user.
func holderOf(p store.APIPhone) (store.User, error) {
	if len(p.Users) == 0 {
		return store.User{}, ErrPhoneHasNoUser
	}
	return p.Users[0], nil
}

// IssueAPIActivation creates an activation link for p (for its first
// user) to be handed out by the caller, valid for ttl, with its audit
// record: the admin section's "show link", with the same rule that a link
// sent earlier and still working blocks a new one.
func (s *Service) IssueAPIActivation(ctx context.Context, p store.APIPhone, ttl time.Duration, who audit.Who) (IssuedActivation, error) {
	u, err := holderOf(p)
	if err != nil {
		return IssuedActivation{}, err
	}
	var out IssuedActivation
	err = s.store.InTx(ctx, func(q store.Queries) error {
		out, err = s.IssueActivationTx(ctx, q, u, p.Phone, ttl, ViaShow, who)
		return err
	})
	return out, err
}

// DuoSMSText turns Duo's message placeholders (<insturl>, <acturl>) into
// the portal's ({insturl}, {acturl}).
func DuoSMSText(s string) string {
	return strings.NewReplacer("<insturl>", notify.PInstURL, "<acturl>", notify.PActURL).Replace(s)
}

// SendAPIActivationSMS texts p the install and activation messages (each
// "" for the default) through the outbox, as the admin section's send
// does, for p's first user.
func (s *Service) SendAPIActivationSMS(ctx context.Context, p store.APIPhone, ttl time.Duration, install, activation string, who audit.Who) (IssuedActivation, error) {
	u, err := holderOf(p)
	if err != nil {
		return IssuedActivation{}, err
	}
	text := notify.DefaultActivationSMS
	if install != "" {
		text.Install = DuoSMSText(install)
	}
	if activation != "" {
		text.Activation = DuoSMSText(activation)
	}
	return s.SendActivation(ctx, ActivationTarget{UserID: u.ID, PhoneID: p.ID},
		ActivationSend{Via: ViaSMS, TTL: ttl, SMSText: text}, who)
}

// SendAPIInstallSMS texts p the install message alone through the outbox,
// with its audit record.
func (s *Service) SendAPIInstallSMS(ctx context.Context, p store.APIPhone, install string, who audit.Who) (string, error) {
	text := notify.DefaultActivationSMS
	if install != "" {
		text.Install = DuoSMSText(install)
	}
	if probs := notify.ValidateText(notify.KindSMSInstall, notify.Text{Body: text.Install}); len(probs) > 0 {
		return "", &InvalidTextError{Problems: probs}
	}
	if p.Number == "" || p.Type != store.PhoneMobile {
		return "", ErrNoNumber
	}
	var u store.User
	if len(p.Users) > 0 {
		u = p.Users[0]
	}
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(q store.Queries) error {
		org, err := notify.LoadOrg(ctx, q, s.orgName(ctx), "")
		if err != nil {
			return err
		}
		msgs := notify.ActivationSMS(org, u, p.Number, s.InstallURL(p.Platform), "", now, &text)
		msgs[0].IntentKey = fmt.Sprintf("install-sms:%s:%d", p.Key, now.UnixNano())
		if _, err := notify.Enqueue(ctx, q, msgs[0], now); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.InstallSMSQueued, audit.TargetPhone, p.Key, map[string]any{"number": p.Number}))
	})
	return text.Install, err
}

// E164 is number (with +country code, or a US number without) in the
// E.164 form phones are stored in, for looking phones up by number.
func E164(number string) (string, error) {
	ph, err := preparePhone(NewPhone{Type: store.PhoneLandline, Number: number})
	return ph.Number, err
}

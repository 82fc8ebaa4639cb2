package factors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// The send limit of SMS passcodes: at most SMSSendLimit texts to one phone
// in any SMSSendWindow. Texts cost money and reach a person; a script that
// knows a username must not be able to flood their phone.
const (
	SMSSendLimit  = 3
	SMSSendWindow = 15 * time.Minute
)

// Errors of SendSMSPasscode; nothing was sent or written.
var (
	// ErrSMSNotAccepted: the policy of the login does not accept SMS.
	ErrSMSNotAccepted = errors.New("factors: SMS passcodes are not accepted here")
	// ErrNoSMSPhone: the user has no phone that takes SMS passcodes (or
	// none with the id asked for).
	ErrNoSMSPhone = errors.New("factors: no phone takes SMS passcodes")
	// ErrSMSUserBlocked: the account is disabled or locked out.
	ErrSMSUserBlocked = errors.New("factors: the account cannot sign in")
)

// SMSLimitError means the phone had SMSSendLimit texts in the window; the
// next can be sent after RetryAfter.
type SMSLimitError struct {
	RetryAfter time.Duration
}

func (e *SMSLimitError) Error() string {
	return fmt.Sprintf("factors: SMS passcode limit reached, retry after %s", e.RetryAfter)
}

// SMSSent says where a passcode went.
type SMSSent struct {
	Phone     store.Phone
	ExpiresAt time.Time
}

// UseSMS gives the service what texting a passcode needs beyond the
// database: the organisation's name (the messages' header) and a wake-up
// for the outbox worker, so that the text leaves at once rather than at
// the worker's next poll. Either may be nil.
func (s *Service) UseSMS(orgName func(context.Context) string, wake func()) {
	s.orgName, s.wake = orgName, wake
}

// SMSPhonesOf lists u's phones that take SMS passcodes (verify.SMSPhones).
func (s *Service) SMSPhonesOf(ctx context.Context, userID int64) ([]store.Phone, error) {
	phones, err := s.store.PhonesByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("factors: phones: %w", err)
	}
	return verify.SMSPhones(phones), nil
}

// SendSMSPasscode texts a fresh one-time passcode to a phone of u that
// takes them: the one whose public id is device, or the first when device
// is "" or "auto". methods are the authentication methods the login
// accepts (the effective policy's); SMS must be among them. The code is
// valid verify.SMSPasscodeTTL and once, stored only as a keyed hash, and
// checked by verify.CheckPasscode like every passcode, so the lockout
// holds. The code, its text in the outbox (ahead of bulk mail), the
// phone's send count and the audit record are written in one transaction,
// which also counts the phone's sends against the limit (*SMSLimitError).
func (s *Service) SendSMSPasscode(ctx context.Context, u store.User, methods []string, device string, who audit.Who) (SMSSent, error) {
	if !slices.Contains(methods, store.MethodSMS) {
		return SMSSent{}, ErrSMSNotAccepted
	}
	if u.Status == store.StatusDisabled || u.Status == store.StatusLockedOut {
		return SMSSent{}, ErrSMSUserBlocked
	}
	phones, err := s.SMSPhonesOf(ctx, u.ID)
	if err != nil {
		return SMSSent{}, err
	}
	var phone *store.Phone
	for i := range phones {
		if device == "" || device == "auto" || phones[i].Key == device {
			phone = &phones[i]
			break
		}
	}
	if phone == nil {
		return SMSSent{}, ErrNoSMSPhone
	}
	name := ""
	if s.orgName != nil {
		name = s.orgName(ctx)
	}
	now := s.clock.Now()
	sent := SMSSent{Phone: *phone, ExpiresAt: now.Add(verify.SMSPasscodeTTL)}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		n, oldest, err := q.SMSPasscodesSentSince(ctx, phone.ID, now.Add(-SMSSendWindow))
		if err != nil {
			return err
		}
		if n >= SMSSendLimit {
			return &SMSLimitError{RetryAfter: max(oldest.Add(SMSSendWindow).Sub(now), time.Second)}
		}
		code := newDigits(verify.SMSPasscodeDigits)
		p := store.SMSPasscode{UserID: u.ID, PhoneID: phone.ID, CodeHash: verify.HashSMSPasscode(s.smsKey, code),
			CreatedAt: now, ExpiresAt: sent.ExpiresAt}
		if err := q.CreateSMSPasscode(ctx, &p, now.Add(-SMSSendWindow)); err != nil {
			return err
		}
		org, err := notify.LoadOrg(ctx, q, name, "")
		if err != nil {
			return err
		}
		msg := notify.SMSPasscodeText(org, phone.Number, code, verify.SMSPasscodeTTL)
		msg.IntentKey = notify.SMSPasscodeIntent(p.ID)
		if _, err := notify.Enqueue(ctx, q, msg, now); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.SMSPasscodeSent, audit.TargetUser, u.Username,
			map[string]any{"factor": verify.FactorSMSPasscode, "device": phone.Key, "expires_at": sent.ExpiresAt.Unix()}))
	})
	var limit *SMSLimitError
	if errors.As(err, &limit) {
		return SMSSent{}, limit
	}
	if err != nil {
		return SMSSent{}, fmt.Errorf("factors: send sms passcode: %w", err)
	}
	if s.wake != nil {
		s.wake()
	}
	return sent, nil
}

// SendSMSPasscodeByName is SendSMSPasscodeGlobal for a username typed on
// a page that must not tell whether the username exists (the device
// page): an unknown user gets ErrNoSMSPhone, as a user without such a
// phone does.
func (s *Service) SendSMSPasscodeByName(ctx context.Context, username string, who audit.Who) (SMSSent, error) {
	u, err := s.store.UserByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return SMSSent{}, ErrNoSMSPhone
	}
	if err != nil {
		return SMSSent{}, fmt.Errorf("factors: send sms passcode: %w", err)
	}
	who.Name = u.Username
	return s.SendSMSPasscodeGlobal(ctx, u, who)
}

// SendSMSPasscodeGlobal is SendSMSPasscode where no application is in
// question (the device page, an enrollment link's proof step): under the
// methods the global policy accepts, to u's first phone that takes texts.
func (s *Service) SendSMSPasscodeGlobal(ctx context.Context, u store.User, who audit.Who) (SMSSent, error) {
	methods, err := policy.OrganisationMethods(ctx, s.store)
	if err != nil {
		return SMSSent{}, fmt.Errorf("factors: send sms passcode: %w", err)
	}
	return s.SendSMSPasscode(ctx, u, methods, "", who)
}

// GlobalSMSPhone is the phone SendSMSPasscodeGlobal would text for the
// user userID; ok is false when the global policy does not accept SMS or
// the user has no phone that takes texts. Pages that know the user offer
// "Text me a code" by it.
func (s *Service) GlobalSMSPhone(ctx context.Context, userID int64) (phone store.Phone, ok bool, err error) {
	methods, err := policy.OrganisationMethods(ctx, s.store)
	if err != nil {
		return store.Phone{}, false, fmt.Errorf("factors: sms phone: %w", err)
	}
	if !slices.Contains(methods, store.MethodSMS) {
		return store.Phone{}, false, nil
	}
	phones, err := s.SMSPhonesOf(ctx, userID)
	if err != nil || len(phones) == 0 {
		return store.Phone{}, false, err
	}
	return phones[0], true, nil
}

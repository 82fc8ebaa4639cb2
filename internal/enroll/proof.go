package enroll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/org"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
	"enrollportal/internal/verify"
)

// ErrProofRequired means the user already has a factor, so a new one needs
// proof of an existing one in the same session, or an admin-issued reset
// (the new-factor rule). Whoever holds only an enrollment link of an
// enrolled user cannot add a device with it.
var ErrProofRequired = errors.New("enroll: adding a device needs proof of an existing one")

// ProofTTL is how long a proved factor lets a browser add or remove devices.
const ProofTTL = 10 * time.Minute

// newFactorReader reads what the new-factor rule decides on.
type newFactorReader interface {
	store.FactorQueries
	store.EnrollmentLinkQueries
}

// mayAdd applies the new-factor rule to sub adding a factor to owner: a
// user without a factor may; one with a factor only when sub.Proved or
// through a live reset link of theirs. Run inside the transaction that
// stores the factor, it decides on what is committed, not on what a page
// saw earlier.
func mayAdd(ctx context.Context, q newFactorReader, sub Subject, owner store.User, now time.Time) error {
	if sub.Proved {
		return nil
	}
	has, err := q.HasFactor(ctx, owner.ID)
	if err != nil || !has {
		return err
	}
	if sub.LinkID != 0 {
		l, err := q.EnrollmentLinkByID(ctx, sub.LinkID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && l.Reset && l.UserID == owner.ID && LinkState(l, now) == nil {
			return nil
		}
	}
	return ErrProofRequired
}

// NeedsProof reports whether sub must prove an existing factor before the
// enrollment steps let them add one (see mayAdd). The steps ask for the
// proof first; the transaction that adds the factor checks again.
func (s *Service) NeedsProof(ctx context.Context, sub Subject) (bool, error) {
	if !sub.Exists() {
		return false, nil
	}
	err := mayAdd(ctx, s.store, sub, sub.User, s.clock.Now())
	if errors.Is(err, ErrProofRequired) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("enroll: needs proof: %w", err)
	}
	return false, nil
}

// SendResetLink is the admin's answer to a lost phone: a fresh enrollment
// link for u (ending older ones) that adds the next device without proof of
// an existing one, audited, and emailed through the outbox when u has a
// valid address (emailed reports it), in one transaction. The reset ends
// with the link.
func (s *Service) SendResetLink(ctx context.Context, u store.User, who audit.Who) (issued IssuedLink, emailed bool, err error) {
	now := s.clock.Now()
	emailed = HasValidEmail(u)
	err = s.store.InTx(ctx, func(q store.Queries) error {
		var err error
		if issued, err = s.issueLinkTx(ctx, q, u, now, LinkTTL, true, who); err != nil {
			return err
		}
		if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentResetSent, audit.TargetUser, u.Username,
			map[string]any{"link_id": issued.Link.ID, "expires_at": issued.Link.ExpiresAt.Unix(), "emailed": emailed})); err != nil {
			return err
		}
		if !emailed {
			return nil
		}
		return s.queueLinkEmailTx(ctx, q, u, issued.Link, issued.Token, 1, who)
	})
	return issued, emailed, err
}

// SendResetLinkByName is SendResetLink for a username (the command line).
func (s *Service) SendResetLinkByName(ctx context.Context, username string, who audit.Who) (IssuedLink, bool, error) {
	u, err := s.store.UserByUsername(ctx, users.Normalize(username))
	if errors.Is(err, store.ErrNotFound) {
		return IssuedLink{}, false, ErrUserNotFound
	}
	if err != nil {
		return IssuedLink{}, false, fmt.Errorf("enroll: reset: %w", err)
	}
	return s.SendResetLink(ctx, u, who)
}

// deviceChangeEmailTx tells the user, through the outbox, that a device was
// added to or removed from their account, so that a change they did not
// make does not go unnoticed. Users without a valid address get nothing.
func (s *Service) deviceChangeEmailTx(ctx context.Context, q store.Queries, u store.User, change, device string, now time.Time) error {
	n, err := s.deviceNotice(ctx, q, u, change, device, now)
	if err != nil {
		return err
	}
	return n.enqueueTx(ctx, q, u, now)
}

// deviceNotice is the email of deviceChangeEmailTx, composed for user.
// Composed before the transaction that makes the change (from the cached
// settings), it leaves that transaction only the outbox row to write: the
// transaction of a correct code is shared with the other logins'
// (verify.CheckCode), one at a time, and rendering the email there held
// them all up.
type deviceNotice struct {
	user store.User
	msg  *store.Message // nil: the user has no valid address
}

func (s *Service) deviceNotice(ctx context.Context, r org.Reader, u store.User, change, device string, now time.Time) (deviceNotice, error) {
	if !HasValidEmail(u) {
		return deviceNotice{user: u}, nil
	}
	o, err := notify.LoadOrg(ctx, r, s.orgName(ctx), "")
	if err != nil {
		return deviceNotice{}, err
	}
	msg := notify.DeviceChangeEmail(o, u, change, device, now, s.baseURL+"/my-devices")
	return deviceNotice{user: u, msg: &msg}, nil
}

// enqueueTx queues the notice for owner, the user as the transaction reads
// them; composed for the user as they were before it, it is composed again
// if their name or address has changed since.
func (n deviceNotice) enqueueTx(ctx context.Context, q store.Queries, owner store.User, now time.Time) error {
	if n.user.ID != owner.ID || n.user.Username != owner.Username || n.user.Email != owner.Email ||
		n.user.RealName != owner.RealName || n.user.FirstName != owner.FirstName || n.user.LastName != owner.LastName {
		return errNoticeStale
	}
	if n.msg == nil {
		return nil
	}
	_, err := notify.Enqueue(ctx, q, *n.msg, now)
	return err
}

// errNoticeStale: the notice was composed for a user who has changed since.
var errNoticeStale = errors.New("enroll: device notice composed for an older version of the user")

// ProvePasscode checks a passcode u types to prove a factor they have
// (an authenticator app, or any other passcode the login paths accept),
// with the login rules: one counted attempt (verify.CheckPasscode), wrong
// codes towards the lockout. A right code is audited; the caller keeps the
// proof in the session for ProofTTL.
func (s *Service) ProvePasscode(ctx context.Context, u store.User, code string, who audit.Who) (verify.Passcode, error) {
	u, err := s.store.UserByID(ctx, u.ID)
	if err != nil {
		return verify.Passcode{}, fmt.Errorf("enroll: prove: %w", err)
	}
	if err := policy.StatusError(u); err != nil {
		return verify.Passcode{}, err
	}
	pc, err := verify.CheckPasscode(ctx, s.store, s.clock, u, code, s, who, audit.FactorProofFailed)
	if err != nil {
		return pc, err
	}
	err = s.store.InsertAudit(ctx, audit.Entry(s.clock.Now(), who, audit.FactorProved, audit.TargetUser, u.Username,
		map[string]any{"factor": pc.Factor, "device": pc.Device}))
	return pc, err
}

// ProveKey checks a security-key assertion u's browser made to prove a
// factor (see BeginKeyLogin and FinishKeyLogin, with the same bindTo), and
// audits the proof.
func (s *Service) ProveKey(ctx context.Context, u store.User, sealedSession []byte, bindTo string, body io.Reader, who audit.Who) error {
	if err := policy.StatusError(u); err != nil {
		return err
	}
	k, err := s.FinishKeyLogin(ctx, u, sealedSession, bindTo, body, who)
	if err != nil {
		return err
	}
	return s.store.InsertAudit(ctx, audit.Entry(s.clock.Now(), who, audit.FactorProved, audit.TargetUser, u.Username,
		map[string]any{"factor": "webauthn_security_key", "device": k.Key}))
}

// ErrNotProved is the one answer the device page gives when a sign-in does
// not prove a factor, whatever the reason (no such user, a wrong code, no
// device, a locked or disabled account), so that it never tells whether a
// username exists.
var ErrNotProved = errors.New("enroll: no factor proved")

// ProveByName is ProvePasscode for a username typed on the device page:
// the user it proves, or ErrNotProved.
func (s *Service) ProveByName(ctx context.Context, username, code string, who audit.Who) (store.User, error) {
	u, err := s.store.UserByUsername(ctx, users.Normalize(username))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrNotProved
	}
	if err != nil {
		return store.User{}, fmt.Errorf("enroll: prove: %w", err)
	}
	who.Name = u.Username
	_, err = s.ProvePasscode(ctx, u, code, who)
	if err != nil && !errors.Is(err, ErrUserDisabled) && !errors.Is(err, verify.ErrLockedOut) &&
		!errors.Is(err, verify.ErrNoPasscodeDevice) && !errors.As(err, new(*verify.WrongCodeError)) {
		return store.User{}, err
	}
	if err != nil {
		return store.User{}, ErrNotProved
	}
	return u, nil
}

// BeginKeyProofByName starts a security-key proof for a username typed on
// the device page; ErrKeyNotAccepted alike for an unknown user and one
// without a key.
func (s *Service) BeginKeyProofByName(ctx context.Context, username, bindTo string) (optionsJSON, sealed []byte, err error) {
	u, err := s.store.UserByUsername(ctx, users.Normalize(username))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrKeyNotAccepted
	}
	if err != nil {
		return nil, nil, fmt.Errorf("enroll: key proof: %w", err)
	}
	return s.BeginKeyLogin(ctx, u, bindTo)
}

// ProveKeyByName finishes BeginKeyProofByName: the user the key proved.
func (s *Service) ProveKeyByName(ctx context.Context, username string, sealed []byte, bindTo string, body io.Reader, who audit.Who) (store.User, error) {
	u, err := s.store.UserByUsername(ctx, users.Normalize(username))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrKeyNotAccepted
	}
	if err != nil {
		return store.User{}, fmt.Errorf("enroll: key proof: %w", err)
	}
	who.Name = u.Username
	if err := s.ProveKey(ctx, u, sealed, bindTo, body, who); err != nil {
		if errors.Is(err, ErrUserDisabled) {
			return store.User{}, ErrKeyNotAccepted
		}
		return store.User{}, err
	}
	return u, nil
}

// AddDeviceLinkTTL is how long the link the device page makes for "Add a
// device" works.
const AddDeviceLinkTTL = 30 * time.Minute

// AddDeviceLink makes the enrollment link the device page sends a signed-in
// user through to add a device; the browser's proof lets it past the
// new-factor rule.
func (s *Service) AddDeviceLink(ctx context.Context, u store.User, who audit.Who) (IssuedLink, error) {
	return s.IssueLink(ctx, u.Username, AddDeviceLinkTTL, who)
}

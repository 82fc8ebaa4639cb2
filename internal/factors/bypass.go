package factors

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// Limits of an admin's bypass codes.
const (
	MaxBypassCodes   = 10
	MaxBypassUses    = 100
	DefaultBypassTTL = 24 * time.Hour
	// RecoveryCodes is how many single-use recovery codes a user makes at
	// once on the device page.
	RecoveryCodes = 10
)

// ErrInvalidBypassOptions means the count, the uses or the validity is out
// of range; nothing was changed.
var ErrInvalidBypassOptions = errors.New("factors: invalid bypass code options")

// Store is what the factors service uses of the database: users, their
// phones, bypass codes and OATH tokens, the global policy (which methods
// an SMS passcode may stand for), and transactions for every change (each
// with its audit record).
type Store interface {
	store.Transactor
	store.UserQueries
	store.PhoneQueries
	store.BypassCodeQueries
	store.FactorQueries
	store.TokenQueries
	policy.GlobalPolicyReader
}

// Service issues and clears bypass codes, and texts SMS passcodes.
type Service struct {
	store     Store
	clock     clock.Clock
	bypassKey []byte
	smsKey    []byte
	orgName   func(context.Context) string // see UseSMS
	wake      func()
}

// New returns a Service. The bypass-code and SMS passcode keys are derived
// from box as enroll.Service derives them, so that codes issued here are
// found at login.
func New(st Store, c clock.Clock, box *secret.Box) *Service {
	return &Service{store: st, clock: c, bypassKey: box.SubKey("bypass-code"), smsKey: box.SubKey("sms-passcode")}
}

// BypassOptions say how many codes to make and how they work.
type BypassOptions struct {
	Count int           // 1 to MaxBypassCodes
	Uses  int           // how many times each works, 1 to MaxBypassUses
	TTL   time.Duration // how long they work; 0 means they never expire
	// Replace ends every code the user has before the new ones are made,
	// in the same transaction (the Admin API's default).
	Replace bool
}

// Validate checks the options.
func (o BypassOptions) Validate() error {
	if o.Count < 1 || o.Count > MaxBypassCodes || o.Uses < 1 || o.Uses > MaxBypassUses || o.TTL < 0 {
		return ErrInvalidBypassOptions
	}
	return nil
}

// BypassSummary is what an admin sees of a user's codes: never the codes.
type BypassSummary struct {
	Codes     int        // live codes
	Uses      int        // uses left over all live codes
	ExpiresAt *time.Time // the soonest expiry of a live code; nil: none expires
	Recovery  int        // live codes the user made (recovery codes)
}

// IssueBypassCodes makes o.Count new codes for u, valid as o says, in one
// transaction with their audit record, and returns them: the only time
// they are ever shown. Only their keyed hashes are stored.
func (s *Service) IssueBypassCodes(ctx context.Context, u store.User, o BypassOptions, who audit.Who) ([]string, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var codes []string
	err := s.store.InTx(ctx, func(q store.Queries) error {
		var err error
		codes, err = s.IssueBypassCodesTx(ctx, q, u, o, who)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("factors: issue bypass codes: %w", err)
	}
	return codes, nil
}

// IssueBypassCodesTx is IssueBypassCodes inside the caller's transaction q,
// for a change of which the codes are one part (a user created by the Auth
// API's enroll with codes).
func (s *Service) IssueBypassCodesTx(ctx context.Context, q store.Queries, u store.User, o BypassOptions, who audit.Who) ([]string, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var expires *time.Time
	if o.TTL > 0 {
		t := now.Add(o.TTL)
		expires = &t
	}
	var replaced int64
	if o.Replace {
		var err error
		if replaced, err = q.DeleteBypassCodes(ctx, u.ID, ""); err != nil {
			return nil, err
		}
	}
	codes, err := s.insertCodesTx(ctx, q, u, o.Count, o.Uses, expires, who, now)
	if err != nil {
		return nil, err
	}
	details := map[string]any{"count": o.Count, "uses": o.Uses, "replaced": replaced}
	if expires != nil {
		details["expires_at"] = expires.Unix()
	}
	return codes, q.InsertAudit(ctx, audit.Entry(now, who, audit.BypassCodesCreated, audit.TargetUser, u.Username, details))
}

// CreateRecoveryCodes makes RecoveryCodes single-use codes that never
// expire for u, who proved a factor on the device page; the user's earlier
// recovery codes stop working. Admins' bypass codes are left alone.
func (s *Service) CreateRecoveryCodes(ctx context.Context, u store.User, who audit.Who) ([]string, error) {
	now := s.clock.Now()
	var codes []string
	err := s.store.InTx(ctx, func(q store.Queries) error {
		replaced, err := q.DeleteBypassCodes(ctx, u.ID, audit.ActorUser+":")
		if err != nil {
			return err
		}
		if codes, err = s.insertCodesTx(ctx, q, u, RecoveryCodes, 1, nil, who, now); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.RecoveryCodesMade, audit.TargetUser, u.Username,
			map[string]any{"count": RecoveryCodes, "replaced": replaced}))
	})
	if err != nil {
		return nil, fmt.Errorf("factors: recovery codes: %w", err)
	}
	return codes, nil
}

// insertCodesTx stores n fresh codes for u, none equal to another of the
// user's live codes (the hash is unique per user).
func (s *Service) insertCodesTx(ctx context.Context, q store.Queries, u store.User, n, uses int, expires *time.Time,
	who audit.Who, now time.Time) ([]string, error) {
	existing, err := q.BypassCodesByUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, b := range existing {
		taken[string(b.CodeHash)] = true
	}
	codes := make([]string, 0, n)
	for len(codes) < n {
		code := newDigits(verify.BypassCodeDigits)
		h := verify.HashBypassCode(s.bypassKey, code)
		if taken[string(h)] {
			continue
		}
		taken[string(h)] = true
		b := store.BypassCode{Key: secret.NewID("DB", 20), UserID: u.ID, CodeHash: h, UsesLeft: uses, CreatedBy: who.Type + ":" + who.Name,
			CreatedAt: now, ExpiresAt: expires}
		if err := q.CreateBypassCode(ctx, &b); err != nil {
			return nil, err
		}
		codes = append(codes, code)
	}
	return codes, nil
}

// newDigits draws n uniform random digits (a bypass code, an SMS passcode).
func newDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic("factors: no randomness: " + err.Error())
		}
		b[i] = byte('0' + n.Int64())
	}
	return string(b)
}

// BypassCodesOf summarises u's live codes.
func (s *Service) BypassCodesOf(ctx context.Context, userID int64) (BypassSummary, error) {
	all, err := s.store.BypassCodesByUser(ctx, userID)
	if err != nil {
		return BypassSummary{}, fmt.Errorf("factors: bypass codes: %w", err)
	}
	now := s.clock.Now()
	var sum BypassSummary
	for _, b := range all {
		if !b.Live(now) {
			continue
		}
		sum.Codes++
		sum.Uses += b.UsesLeft
		if strings.HasPrefix(b.CreatedBy, audit.ActorUser+":") {
			sum.Recovery++
		}
		if b.ExpiresAt != nil && (sum.ExpiresAt == nil || b.ExpiresAt.Before(*sum.ExpiresAt)) {
			e := *b.ExpiresAt
			sum.ExpiresAt = &e
		}
	}
	return sum, nil
}

// ClearBypassCodes removes every code of u (the admin's and the user's
// recovery codes), audited, in one transaction, and says how many there
// were.
func (s *Service) ClearBypassCodes(ctx context.Context, u store.User, who audit.Who) (int64, error) {
	now := s.clock.Now()
	var n int64
	err := s.store.InTx(ctx, func(q store.Queries) error {
		var err error
		if n, err = q.DeleteBypassCodes(ctx, u.ID, ""); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.BypassCodesCleared, audit.TargetUser, u.Username,
			map[string]any{"codes": n}))
	})
	if err != nil {
		return 0, fmt.Errorf("factors: clear bypass codes: %w", err)
	}
	return n, nil
}

// ErrBypassCodeNotFound means no code has that id (it may have been used
// up, deleted or never issued); nothing was changed.
var ErrBypassCodeNotFound = errors.New("factors: no bypass code with that id")

// BypassCodes lists the codes that work now, with their users: every
// user's when userID is 0. The codes themselves are never shown again;
// the list says who made each, how many uses are left and until when.
func (s *Service) BypassCodes(ctx context.Context, userID int64, offset, limit int) ([]store.ListedBypassCode, int, error) {
	list, total, err := s.store.LiveBypassCodes(ctx, store.BypassCodeFilter{UserID: userID, Now: s.clock.Now(), Offset: offset, Limit: limit})
	if err != nil {
		return nil, 0, fmt.Errorf("factors: bypass codes: %w", err)
	}
	return list, total, nil
}

// BypassCode returns the code with the public id key while it works;
// ErrBypassCodeNotFound otherwise.
func (s *Service) BypassCode(ctx context.Context, key string) (store.ListedBypassCode, error) {
	l, err := s.store.BypassCodeByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !l.Live(s.clock.Now())) {
		return l, ErrBypassCodeNotFound
	}
	if err != nil {
		return l, fmt.Errorf("factors: bypass code: %w", err)
	}
	return l, nil
}

// DeleteBypassCode ends the one code with the public id key, audited on
// its user, in one transaction: ErrBypassCodeNotFound when no such code
// exists. The user's other codes keep working.
func (s *Service) DeleteBypassCode(ctx context.Context, key string, who audit.Who) error {
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(q store.Queries) error {
		l, err := q.BypassCodeByKey(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return ErrBypassCodeNotFound
		}
		if err != nil {
			return err
		}
		if err := q.DeleteBypassCode(ctx, l.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.BypassCodeDeleted, audit.TargetUser, l.User.Username,
			map[string]any{"bypass_code_id": l.Key}))
	})
	if err != nil && !errors.Is(err, ErrBypassCodeNotFound) {
		return fmt.Errorf("factors: delete bypass code: %w", err)
	}
	return err
}

// HasLiveBypassCodes reports whether the user has a code that works now.
func (s *Service) HasLiveBypassCodes(ctx context.Context, userID int64) (bool, error) {
	sum, err := s.BypassCodesOf(ctx, userID)
	return sum.Codes > 0, err
}

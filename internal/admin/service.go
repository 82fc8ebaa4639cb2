package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
	"enrollportal/internal/verify"
)

// Sign-in limits: MaxFailures wrong passwords or codes in a row lock the
// account for LockFor. IdleTimeout and MaxSessionAge end sessions.
const (
	MaxFailures   = 5
	LockFor       = 15 * time.Minute
	IdleTimeout   = 30 * time.Minute
	MaxSessionAge = 12 * time.Hour
	// SetupLinkTTL is how long the owner setup link printed at first start
	// works.
	SetupLinkTTL = 24 * time.Hour
)

// Errors with a sentence a person can act on.
var (
	// ErrBadCredentials is the one answer to a failed sign-in, whatever the
	// cause (unknown email, wrong password, locked account), so that the
	// page never tells whether an email has an account.
	ErrBadCredentials = errors.New("the email or password is not right, or the account is locked for a while")
	ErrBadCode        = errors.New("that code is not right; enter the newest code your app shows (a used code cannot be used again)")
	ErrInvalidEmail   = errors.New("enter an email address such as name@example.com")
	ErrEmailTaken     = errors.New("an admin with that email already exists")
	ErrInvalidRole    = errors.New("choose one of the roles: owner, administrator, user_manager, application_manager, help_desk, read_only")
	ErrNameTooLong    = errors.New("a name is at most 200 characters")
	ErrLastOwner      = errors.New("the portal must keep at least one owner; make another admin an owner first")
	ErrSelf           = errors.New("you cannot change or delete your own account here; ask another owner")
	ErrAdminNotFound  = errors.New("there is no such admin")
	ErrSetupLinkGone  = errors.New("this setup link has been used or has expired")
	ErrNoTOTP         = errors.New("this admin has no second factor set up yet")
)

// Service creates admins and signs them in.
type Service struct {
	store store.Store
	clock clock.Clock
	box   *secret.Box
}

// New returns a Service.
func New(st store.Store, c clock.Clock, box *secret.Box) *Service {
	return &Service{store: st, clock: c, box: box}
}

// NormalizeEmail returns the stored form of an admin's email.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// NewAdmin is what it takes to create an admin.
type NewAdmin struct {
	Email    string
	Name     string
	Role     string
	Password string
}

func (n NewAdmin) prepare(now time.Time) (store.Admin, error) {
	a := store.Admin{
		Key: secret.NewID("DE", 20), Email: NormalizeEmail(n.Email), Name: strings.TrimSpace(n.Name),
		Role: n.Role, CreatedAt: now,
	}
	if a.Email == "" || users.ValidateEmail(a.Email) != nil {
		return a, ErrInvalidEmail
	}
	if utf8.RuneCountInString(a.Name) > 200 {
		return a, ErrNameTooLong
	}
	if !ValidRole(a.Role) {
		return a, ErrInvalidRole
	}
	if err := ValidatePassword(n.Password); err != nil {
		return a, err
	}
	a.PasswordHash = HashPassword(n.Password)
	return a, nil
}

// Create validates n and creates the admin with its audit record.
func (s *Service) Create(ctx context.Context, n NewAdmin, who audit.Who) (store.Admin, error) {
	now := s.clock.Now()
	a, err := n.prepare(now)
	if err != nil {
		return a, err
	}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		return insertAdmin(ctx, q, &a, now, who)
	})
	return a, err
}

func insertAdmin(ctx context.Context, q store.Queries, a *store.Admin, now time.Time, who audit.Who) error {
	if err := q.CreateAdmin(ctx, a); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return ErrEmailTaken
		}
		return fmt.Errorf("admin: create: %w", err)
	}
	return q.InsertAudit(ctx, audit.Entry(now, who, audit.AdminCreated, audit.TargetAdmin, a.Email, map[string]any{"role": a.Role}))
}

// Count returns how many admins exist.
func (s *Service) Count(ctx context.Context) (int, error) { return s.store.CountAdmins(ctx) }

// IssueSetupLink creates a one-time link that creates an owner, valid for
// SetupLinkTTL, and returns its token (stored only as a hash).
func (s *Service) IssueSetupLink(ctx context.Context, who audit.Who) (token string, expires time.Time, err error) {
	now := s.clock.Now()
	token = secret.NewToken()
	l := store.AdminSetupLink{TokenHash: secret.HashToken(token), Role: RoleOwner, CreatedAt: now, ExpiresAt: now.Add(SetupLinkTTL)}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateAdminSetupLink(ctx, &l); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.AdminSetupLinkCreated, audit.TargetAdmin, "",
			map[string]any{"role": l.Role, "expires_at": l.ExpiresAt.Unix()}))
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("admin: issue setup link: %w", err)
	}
	return token, l.ExpiresAt, nil
}

// OpenSetupLink finds the pending setup link of token.
func (s *Service) OpenSetupLink(ctx context.Context, token string) (store.AdminSetupLink, error) {
	if len(token) < 20 || len(token) > 100 {
		return store.AdminSetupLink{}, ErrSetupLinkGone
	}
	l, err := s.store.AdminSetupLinkByHash(ctx, secret.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return l, ErrSetupLinkGone
	}
	if err != nil {
		return l, fmt.Errorf("admin: open setup link: %w", err)
	}
	if l.UsedAt != nil || !s.clock.Now().Before(l.ExpiresAt) {
		return l, ErrSetupLinkGone
	}
	return l, nil
}

// CompleteSetup uses the setup link of token to create an admin with the
// link's role, in one transaction: a link creates one admin only.
func (s *Service) CompleteSetup(ctx context.Context, token string, n NewAdmin, ip string) (store.Admin, error) {
	l, err := s.OpenSetupLink(ctx, token)
	if err != nil {
		return store.Admin{}, err
	}
	now := s.clock.Now()
	n.Role = l.Role
	a, err := n.prepare(now)
	if err != nil {
		return a, err
	}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		ok, err := q.UseAdminSetupLink(ctx, l.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrSetupLinkGone
		}
		return insertAdmin(ctx, q, &a, now, audit.Admin(a.Email, ip))
	})
	return a, err
}

// SignIn checks an email and password. Any failure is ErrBadCredentials;
// a wrong password counts towards the account's lockout.
func (s *Service) SignIn(ctx context.Context, email, password, ip string) (store.Admin, error) {
	now := s.clock.Now()
	email = NormalizeEmail(email)
	if len(password) > 4*MaxPasswordLength {
		password = password[:4*MaxPasswordLength]
	}
	a, err := s.store.AdminByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.PasswordHash == "") {
		CheckPassword(dummyHash, password) // same work as a real check
		return store.Admin{}, ErrBadCredentials
	}
	if err != nil {
		return store.Admin{}, fmt.Errorf("admin: sign in: %w", err)
	}
	good := CheckPassword(a.PasswordHash, password)
	if a.LockedUntil != nil && now.Before(*a.LockedUntil) {
		_ = s.store.InsertAudit(ctx, audit.Entry(now, audit.Admin(a.Email, ip), audit.AdminSignInFailed, audit.TargetAdmin, a.Email,
			map[string]any{"reason": "locked"}))
		return store.Admin{}, ErrBadCredentials
	}
	if !good {
		if err := s.recordFailure(ctx, a, "password", ip); err != nil {
			return store.Admin{}, err
		}
		return store.Admin{}, ErrBadCredentials
	}
	return a, nil
}

// recordFailure counts a wrong password or code, with its audit records, in
// a transaction of its own.
func (s *Service) recordFailure(ctx context.Context, a store.Admin, what, ip string) error {
	now := s.clock.Now()
	who := audit.Admin(a.Email, ip)
	return s.store.InTx(ctx, func(q store.Queries) error {
		locked, err := q.RecordAdminFailure(ctx, a.ID, MaxFailures, LockFor, now)
		if err != nil {
			return fmt.Errorf("admin: record failure: %w", err)
		}
		if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.AdminSignInFailed, audit.TargetAdmin, a.Email,
			map[string]any{"reason": "wrong " + what})); err != nil {
			return err
		}
		if locked {
			return q.InsertAudit(ctx, audit.Entry(now, who, audit.AdminLockedOut, audit.TargetAdmin, a.Email,
				map[string]any{"until": now.Add(LockFor).Unix()}))
		}
		return nil
	})
}

// Locked reports whether a is locked out now.
func (s *Service) Locked(a store.Admin) bool {
	return a.LockedUntil != nil && s.clock.Now().Before(*a.LockedUntil)
}

func adminAAD(key string) []byte { return []byte("admin:" + key) }

// NewTOTPSecret returns a fresh secret for an admin's authenticator app. It is
// kept by the caller (in the sign-in session) until ConfirmTOTP proves it.
func NewTOTPSecret() string { return secret.NewTOTPSecret() }

// ConfirmTOTP stores base32Secret as a's second factor once code proves the
// app holds it. A wrong code counts towards the lockout.
func (s *Service) ConfirmTOTP(ctx context.Context, a store.Admin, base32Secret, code, ip string) error {
	now := s.clock.Now()
	if s.Locked(a) {
		return ErrBadCredentials
	}
	step, ok := verify.MatchTOTP(base32Secret, verify.NormalizeCode(code), now, 0)
	if !ok {
		if err := s.recordFailure(ctx, a, "code", ip); err != nil {
			return err
		}
		return ErrBadCode
	}
	sealed := s.box.Seal([]byte(base32Secret), adminAAD(a.Key))
	return s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.SetAdminTOTP(ctx, a.ID, sealed, step); err != nil {
			return fmt.Errorf("admin: set totp: %w", err)
		}
		return q.InsertAudit(ctx, audit.Entry(now, audit.Admin(a.Email, ip), audit.AdminTOTPSetUp, audit.TargetAdmin, a.Email, nil))
	})
}

// VerifyTOTP checks a code from a's authenticator app. Each code works once;
// a wrong or replayed code counts towards the lockout.
func (s *Service) VerifyTOTP(ctx context.Context, a store.Admin, code, ip string) error {
	if a.TOTPSecret == nil {
		return ErrNoTOTP
	}
	if s.Locked(a) {
		return ErrBadCredentials
	}
	sec, err := s.box.Open(a.TOTPSecret, adminAAD(a.Key))
	if err != nil {
		return fmt.Errorf("admin: open totp secret: %w", err)
	}
	step, ok := verify.MatchTOTP(string(sec), verify.NormalizeCode(code), s.clock.Now(), a.TOTPLastStep)
	if ok {
		ok, err = s.store.AdvanceAdminTOTPStep(ctx, a.ID, step)
		if err != nil {
			return fmt.Errorf("admin: advance totp step: %w", err)
		}
	}
	if !ok {
		if err := s.recordFailure(ctx, a, "code", ip); err != nil {
			return err
		}
		return ErrBadCode
	}
	return nil
}

// FinishSignIn records a completed sign-in (password and second factor).
func (s *Service) FinishSignIn(ctx context.Context, a store.Admin, ip string) error {
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.RecordAdminSignIn(ctx, a.ID, now); err != nil {
			return fmt.Errorf("admin: record sign-in: %w", err)
		}
		return q.InsertAudit(ctx, audit.Entry(now, audit.Admin(a.Email, ip), audit.AdminSignedIn, audit.TargetAdmin, a.Email, nil))
	})
}

// ChangeRole gives the admin with key a new role. The last owner stays an
// owner, and nobody changes their own role.
func (s *Service) ChangeRole(ctx context.Context, actor store.Admin, key, role, ip string) error {
	if !ValidRole(role) {
		return ErrInvalidRole
	}
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		a, err := otherAdmin(ctx, q, actor, key)
		if err != nil {
			return err
		}
		if a.Role == role {
			return nil
		}
		if a.Role == RoleOwner {
			if err := keepOneOwner(ctx, q); err != nil {
				return err
			}
		}
		if err := q.SetAdminRole(ctx, a.ID, role); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, audit.Admin(actor.Email, ip), audit.AdminRoleChanged, audit.TargetAdmin, a.Email,
			map[string]any{"from": a.Role, "to": role}))
	})
}

// otherAdmin loads the admin with key for a change by actor, who may not
// change their own account.
func otherAdmin(ctx context.Context, q store.Queries, actor store.Admin, key string) (store.Admin, error) {
	a, err := q.AdminByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return a, ErrAdminNotFound
	}
	if err != nil {
		return a, err
	}
	if a.ID == actor.ID {
		return a, ErrSelf
	}
	return a, nil
}

// Delete removes the admin with key. The last owner cannot be deleted, and
// nobody deletes themselves.
func (s *Service) Delete(ctx context.Context, actor store.Admin, key, ip string) error {
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		a, err := otherAdmin(ctx, q, actor, key)
		if err != nil {
			return err
		}
		if a.Role == RoleOwner {
			if err := keepOneOwner(ctx, q); err != nil {
				return err
			}
		}
		if err := q.DeleteAdmin(ctx, a.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, audit.Admin(actor.Email, ip), audit.AdminDeleted, audit.TargetAdmin, a.Email,
			map[string]any{"role": a.Role}))
	})
}

// keepOneOwner refuses a change that would remove the last owner. It runs
// inside the change's transaction, so two owners demoting each other at
// once cannot both succeed.
func keepOneOwner(ctx context.Context, q store.Queries) error {
	n, err := q.CountAdminsWithRole(ctx, RoleOwner)
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastOwner
	}
	return nil
}

// LoadSettings reads the settings the role matrix depends on.
func LoadSettings(ctx context.Context, q store.Queries) (Settings, error) {
	v, err := q.Setting(ctx, SettingHelpDeskMaySend)
	if errors.Is(err, store.ErrNotFound) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("admin: load settings: %w", err)
	}
	return Settings{HelpDeskMaySend: v == "true"}, nil
}

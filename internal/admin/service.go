package admin

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/org"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
	"enrollportal/internal/users"
	"enrollportal/internal/verify"
)

// Sign-in limits. A wrong password or code slows the account down rather
// than locking it: after n recent failures, the next try from an address
// that failed lately waits SlowDelay(n); addresses without recent failures
// are not held up, so that nobody can keep an owner out by guessing. Failures
// are forgotten ForgetFailuresAfter the last one. IdleTimeout and
// MaxSessionAge end sessions.
const (
	FirstDelay          = time.Second
	MaxDelay            = 5 * time.Minute
	ForgetFailuresAfter = time.Hour
	IdleTimeout         = 30 * time.Minute
	MaxSessionAge       = 12 * time.Hour
	// SetupLinkTTL is how long the owner setup link printed at first start
	// works.
	SetupLinkTTL = 24 * time.Hour
	// HashWait is how long a password check waits for a free hashing slot
	// before the caller is told to come back (ErrBusy).
	HashWait = time.Second
)

// SlowDelay is the wait after n recent failures: none before the first, then
// FirstDelay doubling with each failure up to MaxDelay (1 s, 2 s, 4 s, ...
// 4 m 16 s, then 5 m).
func SlowDelay(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := FirstDelay
	for i := 1; i < n && d < MaxDelay; i++ {
		d *= 2
	}
	return min(d, MaxDelay)
}

// Errors with a sentence a person can act on.
var (
	// ErrBadCredentials is the one answer to a failed sign-in, whatever the
	// cause (unknown email, wrong password, locked account), so that the
	// page never tells whether an email has an account.
	ErrBadCredentials = errors.New("the email or password is not right, or there were too many wrong tries lately")
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
	// ErrTOTPTaken: another set-up of the same admin finished first.
	ErrTOTPTaken = errors.New("a second factor was set up for this account meanwhile; sign in again and use it")
	// ErrBusy: every password hashing slot stayed taken for HashWait.
	ErrBusy = errors.New("the portal is busy checking other sign-ins; try again in a moment")
	// ErrSessionEnded: the admin signed out elsewhere, was changed, locked
	// or deleted since the session began.
	ErrSessionEnded = errors.New("this admin session has ended")
)

// Store is what the admin accounts service uses of the database: admins,
// their sign-in records and setup links, audit records, and transactions
// for every change.
type Store interface {
	store.Transactor
	store.AdminQueries
	store.AuditQueries
}

// Service creates admins and signs them in.
type Service struct {
	store Store
	clock clock.Clock
	box   *secret.Box
	// hashSlots bounds the argon2id hashes running at once (each needs
	// 19 MiB): one per CPU, as more would only queue for the CPU while
	// holding their memory.
	hashSlots chan struct{}
}

// New returns a Service.
func New(st Store, c clock.Clock, box *secret.Box) *Service {
	return &Service{store: st, clock: c, box: box, hashSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// withHashSlot runs f once a hashing slot is free, waiting at most HashWait.
func (s *Service) withHashSlot(ctx context.Context, f func()) error {
	select {
	case s.hashSlots <- struct{}{}:
	default:
		t := time.NewTimer(HashWait)
		defer t.Stop()
		select {
		case s.hashSlots <- struct{}{}:
		case <-t.C:
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-s.hashSlots }()
	f()
	return nil
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

// prepare validates n and hashes its password.
func (s *Service) prepare(ctx context.Context, n NewAdmin, now time.Time) (store.Admin, error) {
	a := store.Admin{
		Key: secret.NewID("DE", 20), Email: NormalizeEmail(n.Email), Name: strings.TrimSpace(n.Name),
		Role: n.Role, CreatedAt: now,
	}
	if a.Email == "" || users.ValidateEmail(a.Email) != nil {
		return a, ErrInvalidEmail
	}
	if err := text.Check("name", a.Name); err != nil {
		return a, err
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
	err := s.withHashSlot(ctx, func() { a.PasswordHash = HashPassword(n.Password) })
	return a, err
}

// Create validates n and creates the admin with its audit record.
func (s *Service) Create(ctx context.Context, n NewAdmin, who audit.Who) (store.Admin, error) {
	now := s.clock.Now()
	a, err := s.prepare(ctx, n, now)
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
	// Once an admin exists no setup link may create another: end them all.
	if err := q.EndAdminSetupLinks(ctx, now); err != nil {
		return err
	}
	return q.InsertAudit(ctx, audit.Entry(now, who, audit.AdminCreated, audit.TargetAdmin, a.Email, map[string]any{"role": a.Role}))
}

// Count returns how many admins exist.
func (s *Service) Count(ctx context.Context) (int, error) { return s.store.CountAdmins(ctx) }

// ErrAdminsExist refuses a setup link once any admin exists.
var ErrAdminsExist = errors.New("an admin exists already; ask an owner to add you with portal admin add or on the Admins page")

// IssueSetupLink creates a one-time link that creates an owner, valid for
// SetupLinkTTL, and returns its token (stored only as a hash). It ends every
// link issued before, so that at most one is live, and issues none once an
// admin exists (ErrAdminsExist).
func (s *Service) IssueSetupLink(ctx context.Context, who audit.Who) (token string, expires time.Time, err error) {
	now := s.clock.Now()
	token = secret.NewToken()
	l := store.AdminSetupLink{TokenHash: secret.HashToken(token), Role: RoleOwner, CreatedAt: now, ExpiresAt: now.Add(SetupLinkTTL)}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		if err := noAdminYet(ctx, q); err != nil {
			return err
		}
		if err := q.EndAdminSetupLinks(ctx, now); err != nil {
			return err
		}
		if err := q.CreateAdminSetupLink(ctx, &l); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.AdminSetupLinkCreated, audit.TargetAdmin, "",
			map[string]any{"role": l.Role, "expires_at": l.ExpiresAt.Unix()}))
	})
	if errors.Is(err, ErrAdminsExist) {
		return "", time.Time{}, err
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("admin: issue setup link: %w", err)
	}
	return token, l.ExpiresAt, nil
}

// noAdminYet refuses with ErrAdminsExist once any admin exists.
func noAdminYet(ctx context.Context, q store.Queries) error {
	n, err := q.CountAdmins(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return ErrAdminsExist
	}
	return nil
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
	a, err := s.prepare(ctx, n, now)
	if err != nil {
		return a, err
	}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		// A link only ever creates the first admin: one left over from an
		// earlier start must not add a second owner.
		if err := noAdminYet(ctx, q); errors.Is(err, ErrAdminsExist) {
			return ErrSetupLinkGone
		} else if err != nil {
			return err
		}
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

// SignIn checks an email and password. Any failure is ErrBadCredentials; a
// wrong password slows the account down for the addresses that failed
// lately. ErrBusy when no hashing slot came free in time.
func (s *Service) SignIn(ctx context.Context, email, password, ip string) (store.Admin, error) {
	email = NormalizeEmail(email)
	if len(password) > 4*MaxPasswordLength {
		password = password[:4*MaxPasswordLength]
	}
	a, err := s.store.AdminByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Admin{}, fmt.Errorf("admin: sign in: %w", err)
	}
	known := err == nil && a.PasswordHash != ""
	hash := dummyHash // same work as a real check when no account matches
	if known {
		hash = a.PasswordHash
	}
	var good bool
	if err := s.withHashSlot(ctx, func() { good = CheckPassword(hash, password) }); err != nil {
		return store.Admin{}, err
	}
	if !known {
		return store.Admin{}, ErrBadCredentials
	}
	// The refusals come after the hash, so that they take as long as a
	// wrong password and tell nothing more.
	if err := s.refuseNow(ctx, a, ip); err != nil {
		return store.Admin{}, err
	}
	if !good {
		if err := s.recordFailure(ctx, a, "password", ip); err != nil {
			return store.Admin{}, err
		}
		return store.Admin{}, ErrBadCredentials
	}
	return a, nil
}

// refuseNow answers ErrBadCredentials, with an audit record, when a may not
// try to sign in from ip now: an owner locked the account, or ip failed
// lately and the account's delay has not passed. Such a try is not counted
// as a failure, so that waiting out the delay is enough.
func (s *Service) refuseNow(ctx context.Context, a store.Admin, ip string) error {
	now := s.clock.Now()
	reason := ""
	switch {
	case a.DisabledAt != nil:
		reason = "locked by an owner"
	case a.SlowUntil != nil && now.Before(*a.SlowUntil):
		failed, err := s.store.AdminAddressFailedSince(ctx, a.ID, ip, now.Add(-ForgetFailuresAfter))
		if err != nil {
			return fmt.Errorf("admin: sign in: %w", err)
		}
		if failed {
			reason = "too soon after wrong tries"
		}
	}
	if reason == "" {
		return nil
	}
	details := map[string]any{"reason": reason}
	if a.DisabledAt == nil {
		details["wait_s"] = int(a.SlowUntil.Sub(now).Round(time.Second) / time.Second)
	}
	if err := s.store.InsertAudit(ctx, audit.Entry(now, audit.Admin(a.Email, ip), audit.AdminSignInFailed, audit.TargetAdmin, a.Email, details)); err != nil {
		return err
	}
	return ErrBadCredentials
}

// recordFailure counts a wrong password or code and slows the account down,
// with its audit record, in a transaction of its own.
func (s *Service) recordFailure(ctx context.Context, a store.Admin, what, ip string) error {
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		n, err := q.RecordAdminFailure(ctx, a.ID, ip, now, now.Add(-ForgetFailuresAfter))
		if err != nil {
			return fmt.Errorf("admin: record failure: %w", err)
		}
		delay := SlowDelay(n)
		if err := q.SlowAdmin(ctx, a.ID, now.Add(delay)); err != nil {
			return fmt.Errorf("admin: record failure: %w", err)
		}
		return q.InsertAudit(ctx, audit.Entry(now, audit.Admin(a.Email, ip), audit.AdminSignInFailed, audit.TargetAdmin, a.Email,
			map[string]any{"reason": "wrong " + what, "recent_failures": n, "delay_s": int(delay / time.Second)}))
	})
}

func adminAAD(key string) []byte { return []byte("admin:" + key) }

// NewTOTPSecret returns a fresh secret for an admin's authenticator app. It is
// kept by the caller (in the sign-in session) until ConfirmTOTP proves it.
func NewTOTPSecret() string { return secret.NewTOTPSecret() }

// ConfirmTOTP stores base32Secret as a's second factor once code proves the
// app holds it. A wrong code counts towards the lockout.
func (s *Service) ConfirmTOTP(ctx context.Context, a store.Admin, base32Secret, code, ip string) error {
	now := s.clock.Now()
	if err := s.refuseNow(ctx, a, ip); err != nil {
		return err
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
		err := q.SetAdminTOTP(ctx, a.ID, sealed, step)
		if errors.Is(err, store.ErrConflict) {
			return ErrTOTPTaken
		}
		if err != nil {
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
	if err := s.refuseNow(ctx, a, ip); err != nil {
		return err
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
// The session it starts carries a.SessionGen (see Session).
func (s *Service) FinishSignIn(ctx context.Context, a store.Admin, ip string) error {
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.RecordAdminSignIn(ctx, a.ID, ip, now); err != nil {
			return fmt.Errorf("admin: record sign-in: %w", err)
		}
		return q.InsertAudit(ctx, audit.Entry(now, audit.Admin(a.Email, ip), audit.AdminSignedIn, audit.TargetAdmin, a.Email, nil))
	})
}

// Session returns the admin of a signed-in session that began with session
// generation gen, or ErrSessionEnded when the admin has since signed out,
// been changed, locked or deleted.
func (s *Service) Session(ctx context.Context, id, gen int64) (store.Admin, error) {
	a, err := s.store.AdminByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, ErrSessionEnded
	}
	if err != nil {
		return a, fmt.Errorf("admin: session: %w", err)
	}
	if a.SessionGen != gen || a.DisabledAt != nil {
		return store.Admin{}, ErrSessionEnded
	}
	return a, nil
}

// SignOut ends every session of a, so that a copied cookie stops working
// with the one signed out.
func (s *Service) SignOut(ctx context.Context, a store.Admin, ip string) error {
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.EndAdminSessions(ctx, a.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("admin: sign out: %w", err)
		}
		return q.InsertAudit(ctx, audit.Entry(now, audit.Admin(a.Email, ip), audit.AdminSignedOut, audit.TargetAdmin, a.Email, nil))
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
		if err := keepOneOwner(ctx, q, a); err != nil {
			return err
		}
		if err := q.SetAdminRole(ctx, a.ID, role); err != nil {
			return err
		}
		// Their open sessions end: the next page asks them to sign in
		// again, and they see what the new role allows from the start.
		if err := q.EndAdminSessions(ctx, a.ID); err != nil {
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
		if err := keepOneOwner(ctx, q, a); err != nil {
			return err
		}
		// Deleting the row ends the sessions: Session finds no admin.
		if err := q.DeleteAdmin(ctx, a.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, audit.Admin(actor.Email, ip), audit.AdminDeleted, audit.TargetAdmin, a.Email,
			map[string]any{"role": a.Role}))
	})
}

// SetPassword gives the admin with email a new password and ends all their
// open sessions, so that whoever knew the old one is signed out too.
func (s *Service) SetPassword(ctx context.Context, email, password string, who audit.Who) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	var hash string
	if err := s.withHashSlot(ctx, func() { hash = HashPassword(password) }); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		a, err := q.AdminByEmail(ctx, NormalizeEmail(email))
		if errors.Is(err, store.ErrNotFound) {
			return ErrAdminNotFound
		}
		if err != nil {
			return err
		}
		if err := q.SetAdminPassword(ctx, a.ID, hash); err != nil {
			return err
		}
		if err := q.EndAdminSessions(ctx, a.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.AdminPasswordSet, audit.TargetAdmin, a.Email, nil))
	})
}

// Lock keeps the admin with key out of the admin section, ending their open
// sessions at once, until Unlock. The last owner who can sign in stays
// unlocked, and nobody locks themselves.
func (s *Service) Lock(ctx context.Context, actor store.Admin, key, ip string) error {
	return s.setLocked(ctx, actor, key, true, ip)
}

// Unlock lets a locked admin sign in again.
func (s *Service) Unlock(ctx context.Context, actor store.Admin, key, ip string) error {
	return s.setLocked(ctx, actor, key, false, ip)
}

func (s *Service) setLocked(ctx context.Context, actor store.Admin, key string, lock bool, ip string) error {
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		a, err := otherAdmin(ctx, q, actor, key)
		if err != nil {
			return err
		}
		if (a.DisabledAt != nil) == lock {
			return nil
		}
		at, action := &now, audit.AdminLocked
		if lock {
			if err := keepOneOwner(ctx, q, a); err != nil {
				return err
			}
		} else {
			at, action = nil, audit.AdminUnlocked
		}
		if err := q.SetAdminDisabled(ctx, a.ID, at); err != nil {
			return err
		}
		if err := q.EndAdminSessions(ctx, a.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, audit.Admin(actor.Email, ip), action, audit.TargetAdmin, a.Email, nil))
	})
}

// keepOneOwner refuses a change to a that would leave no owner who can sign
// in. It runs inside the change's transaction, so two owners demoting each
// other at once cannot both succeed.
func keepOneOwner(ctx context.Context, q store.Queries, a store.Admin) error {
	if a.Role != RoleOwner || a.DisabledAt != nil {
		return nil
	}
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
func LoadSettings(ctx context.Context, r org.Reader) (Settings, error) {
	may, err := org.HelpDeskMaySend(ctx, r)
	if err != nil {
		return Settings{}, fmt.Errorf("admin: load settings: %w", err)
	}
	return Settings{HelpDeskMaySend: may}, nil
}

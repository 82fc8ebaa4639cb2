package duo

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/audit"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
	"enrollportal/internal/verify"
)

// errUnknownUserID is a user_id that names no user.
var errUnknownUserID = errors.New("duo: unknown user_id")

// errBadUsername is a username that cannot be one.
var errBadUsername = errors.New("duo: invalid username")

// AuthTransactionTTL is how long the outcome of an async auth can be fetched.
const AuthTransactionTTL = 5 * time.Minute

// login is one authentication attempt as the wire layers hand it over.
type login struct {
	app      store.Application
	username string // as sent; normalized by the application's rule
	userKey  string // Auth API user_id, instead of username
	ip       net.IP // the end user's address
	hostname string // the host the user logs in to, as duo_unix names it
	who      audit.Who
}

// details are the audit details every attempt of l records.
func (l login) details(step string) map[string]any {
	d := map[string]any{"application": l.app.Key, "step": step, "ip": ipString(l.ip)}
	if l.hostname != "" {
		d["hostname"] = l.hostname
	}
	return d
}

// preauthOutcome is what preauth tells a client.
type preauthOutcome struct {
	policy.Decision
	user      *store.User
	username  string        // normalized
	enrollURL string        // for ResultEnroll
	phones    []store.Phone // activated phones that make passcodes, for ResultAuth
	sms       []store.Phone // phones that take SMS passcodes here, for ResultAuth
}

// resolveUser turns user_id into the username it names.
func (a *API) resolveUser(c *gin.Context, l *login) error {
	if l.userKey == "" {
		if users.ValidateUsername(policy.NormalizeUsername(l.app, l.username)) != nil {
			return errBadUsername
		}
		return nil
	}
	u, err := a.store.UserByKey(ctxOf(c), l.userKey)
	if errors.Is(err, store.ErrNotFound) {
		return errUnknownUserID
	}
	if err != nil {
		return err
	}
	l.username = u.Username
	return nil
}

// preauth decides what a user logging in must do. Every outcome but "auth"
// ends the attempt, so it is audited here; "auth" is audited when the
// passcode is checked.
func (a *API) preauth(c *gin.Context, l login) (preauthOutcome, error) {
	ctx := ctxOf(c)
	login, err := a.policy.DecideLogin(ctx, l.app, l.username, l.ip)
	if err != nil {
		return preauthOutcome{}, err
	}
	d := login.Decision
	out := preauthOutcome{Decision: d, user: login.User, username: policy.NormalizeUsername(l.app, l.username)}
	switch d.Result {
	case policy.ResultAuth:
		for _, ph := range login.Phones {
			if ph.Activated && len(ph.TOTPSecret) > 0 {
				out.phones = append(out.phones, ph)
			}
		}
		out.sms = smsPhones(d, login.Phones)
		return out, nil
	case policy.ResultEnroll:
		// A signed, self-contained URL: a host that loops on preauth
		// writes no enrollment rows.
		out.enrollURL = a.enroll.InlineURL(out.username, l.app)
	}
	return out, a.auditAttempt(c, l, out.username, "preauth", d)
}

// allowPasscode spends one passcode try of l's end-user address and one of
// its application and username; false, with the wait, when either has none
// left. A refused address spends nothing of the username's tries.
func (a *API) allowPasscode(l login) (bool, time.Duration) {
	if !a.passcodeTries.Allow(ipString(l.ip)) {
		return false, a.passcodeTries.RetryAfter()
	}
	if !a.userPasscodeTries.Allow(l.app.Key + "\x00" + policy.NormalizeUsername(l.app, l.username)) {
		return false, a.userPasscodeTries.RetryAfter()
	}
	return true, 0
}

// authOutcome is the answer to an auth call.
type authOutcome struct {
	Result    string // allow or deny
	Status    string // Duo's status word
	StatusMsg string
}

func allowed(msg string) authOutcome {
	return authOutcome{Result: "allow", Status: "allow", StatusMsg: msg}
}
func denied(msg string) authOutcome {
	return authOutcome{Result: "deny", Status: "deny", StatusMsg: msg}
}

// authenticate checks a typed passcode for a login that policy sends to
// "auth"; other decisions are applied as they stand (bypass and new users
// under allow get in, the rest are refused). Every outcome is audited.
func (a *API) authenticate(c *gin.Context, l login, passcode string) (authOutcome, error) {
	ctx := ctxOf(c)
	d, u, settled, err := a.decideAuth(c, l)
	if err != nil || settled != nil {
		return deref(settled), err
	}
	username := policy.NormalizeUsername(l.app, l.username)
	code := verify.NormalizeCode(passcode)
	if code == "" || strings.Trim(code, "0123456789") != "" {
		// Not an attempt at a code (an empty line, a menu word): say how to
		// answer, without counting it against the user.
		d.Reason = "no_passcode"
		msg := "Type the 6-digit passcode your authenticator app shows."
		if passcode == "passcode" {
			// The menu's default factor, sent without asking by a client
			// with autopush = yes: login_duo asks for a passcode next when
			// this attempt is denied (with prompts of 2 or more).
			msg = "This server sends no pushes: type the 6-digit passcode your authenticator app shows when asked."
		}
		return denied(msg), a.auditAttempt(c, l, username, "auth", d)
	}
	pc, err := verify.CheckPasscode(ctx, a.store, a.clock, *u, code, a.enroll, l.who, audit.AuthPasscodeFailed)
	var wrong *verify.WrongCodeError
	switch {
	case err == nil:
		details := l.details("auth")
		details["factor"] = auditFactor(pc)
		if pc.Device != "" {
			details["device"] = pc.Device
		}
		e := audit.Entry(a.clock.Now(), l.who, audit.AuthAllowed, audit.TargetUser, u.Username, details)
		if err := a.store.InGroupTx(ctx, func(q store.Queries) error { return q.InsertAudit(ctx, e) }); err != nil {
			return authOutcome{}, err
		}
		return allowed("Success. Logging you in..."), nil
	case errors.As(err, &wrong):
		return denied(fmt.Sprintf("Incorrect passcode. %s before your account is locked; check that your phone's clock is right.", triesLeft(wrong.Remaining))), nil
	case errors.Is(err, verify.ErrLockedOut):
		return denied(policy.LockedOutDenial().Message), nil
	case errors.Is(err, verify.ErrNoPasscodeDevice):
		d.Reason = "no_passcode_device"
		return denied("None of your devices makes passcodes. Use another way to sign in, or enroll a phone."),
			a.auditAttempt(c, l, username, "auth", d)
	}
	return authOutcome{}, err
}

// decideAuth decides an auth call by policy. Every decision but "auth" is
// settled here, audited, and comes back as the outcome; for "auth" the
// outcome is nil and the caller goes on with the user's factor.
func (a *API) decideAuth(c *gin.Context, l login) (policy.Decision, *store.User, *authOutcome, error) {
	d, u, err := a.policy.Decide(ctxOf(c), l.app, l.username, l.ip)
	if err != nil {
		return d, nil, nil, err
	}
	username := policy.NormalizeUsername(l.app, l.username)
	var out authOutcome
	switch d.Result {
	case policy.ResultAuth:
		return d, u, nil, nil
	case policy.ResultAllow:
		out = allowed(d.Message)
	case policy.ResultEnroll:
		out = denied("Enroll in two-factor authentication first: " + a.enroll.InlineURL(username, l.app))
	default:
		out = denied(d.Message)
	}
	return d, u, &out, a.auditAttempt(c, l, username, "auth", d)
}

func deref(o *authOutcome) authOutcome {
	if o == nil {
		return authOutcome{}
	}
	return *o
}

// auditAttempt records the outcome of an attempt that did not reach a
// passcode check. Repeats of the same decision for the same user and
// application count on one record (audit.RecordLogin), and the write
// shares its commit with the other logins of the moment; the answer waits
// for it.
func (a *API) auditAttempt(c *gin.Context, l login, username, step string, d policy.Decision) error {
	action := map[string]string{
		policy.ResultAllow: audit.AuthAllowed, policy.ResultDeny: audit.AuthDenied,
		policy.ResultEnroll: audit.AuthEnrollRequired, policy.ResultAuth: audit.AuthDenied,
	}[d.Result]
	details := l.details(step)
	details["reason"] = d.Reason
	e := audit.Entry(a.clock.Now(), l.who, action, audit.TargetUser, username, details)
	e.RepeatKey = audit.RepeatKey(action, d.Reason, l.app.Key, username)
	ctx := ctxOf(c)
	return a.store.InGroupTx(ctx, func(q store.Queries) error { return audit.RecordLogin(ctx, q, e) })
}

// saveTransaction keeps an outcome for an async client to fetch by txid.
func (a *API) saveTransaction(c *gin.Context, app store.Application, out authOutcome) (string, error) {
	now := a.clock.Now()
	t := store.AuthTransaction{
		TxID: secret.NewToken(), ApplicationID: app.ID, Result: out.Result, Status: out.Status, StatusMsg: out.StatusMsg,
		CreatedAt: now, ExpiresAt: now.Add(AuthTransactionTTL),
	}
	if err := a.store.CreateAuthTransaction(ctxOf(c), &t); err != nil {
		return "", err
	}
	return t.TxID, nil
}

// transaction loads a live transaction of app.
func (a *API) transaction(c *gin.Context, app store.Application, txid string) (store.AuthTransaction, error) {
	if len(txid) == 0 || len(txid) > 100 {
		return store.AuthTransaction{}, store.ErrNotFound
	}
	t, err := a.store.AuthTransactionByTxID(ctxOf(c), app.ID, txid)
	if err != nil {
		return t, err
	}
	if !a.clock.Now().Before(t.ExpiresAt) {
		return t, store.ErrNotFound
	}
	return t, nil
}

func ipString(ip net.IP) string {
	if ip == nil {
		return ""
	}
	return ip.String()
}

// triesLeft says how many passcode tries remain, in the singular for one.
func triesLeft(n int) string {
	if n == 1 {
		return "1 try left"
	}
	return fmt.Sprintf("%d tries left", n)
}

// auditFactor names the factor a passcode proved in the audit record:
// "passcode" for an authenticator app, as before, and the factor's own name
// (bypass_code, ...) for the others.
func auditFactor(pc verify.Passcode) string {
	if pc.Factor == verify.FactorAppPasscode {
		return "passcode"
	}
	return pc.Factor
}

package prompt_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/prompt"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/testkit/testdb"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const redirect = "https://app.example.com/cb"

type rig struct {
	svc    *prompt.Service
	db     *sqlite.DB
	clock  *clock.Fake
	app    store.Application
	id     string
	secret string
}

func newRig(t *testing.T, base string) *rig {
	t.Helper()
	db := testdb.OpenNew(t)
	box, err := secret.NewBox([]byte(secret.NewKey(32)))
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	as := &apps.Service{Store: db, Clock: fc, Box: box}
	c, err := as.Create(context.Background(), apps.NewApp{Name: "Payroll", Kind: store.AppWeb, RedirectURIs: []string{redirect}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := prompt.New(prompt.Options{Store: db, Clock: fc, Secrets: as, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{svc: svc, db: db, clock: fc, app: c.App, id: c.ClientID, secret: c.ClientSecret}
}

func (r *rig) sign(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS512, c).SignedString([]byte(r.secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (r *rig) request(t *testing.T, change func(jwt.MapClaims)) string {
	c := jwt.MapClaims{
		"scope": "openid", "redirect_uri": redirect, "client_id": r.id, "iss": r.id,
		"aud": "https://mfa.example.com:8443", "exp": r.clock.Now().Add(5 * time.Minute).Unix(),
		"state": strings.Repeat("s", 36), "response_type": "code", "duo_uname": "Alice", "use_duo_code_attribute": true,
	}
	if change != nil {
		change(c)
	}
	return r.sign(t, c)
}

// begin starts a login from a valid authorize request and opens it.
func (r *rig) begin(t *testing.T) prompt.Transaction {
	t.Helper()
	ctx := context.Background()
	req, err := r.svc.ParseAuthorize(ctx, r.id, "code", r.request(t, nil), "")
	if err != nil {
		t.Fatal(err)
	}
	token, err := r.svc.Begin(ctx, req, "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := r.svc.Open(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestParseAuthorizeKeepsTheUsernameAsSentAndTheSignedNonce(t *testing.T) {
	r := newRig(t, "https://mfa.example.com:8443")
	req, err := r.svc.ParseAuthorize(context.Background(), r.id, "code",
		r.request(t, func(c jwt.MapClaims) { c["nonce"] = "signed" }), "top-level")
	if err != nil {
		t.Fatal(err)
	}
	if req.Username != "Alice" || req.Nonce != "signed" || !req.UseDuoCode || req.RedirectURI != redirect {
		t.Fatalf("request %+v", req)
	}
	if r.svc.Issuer() != "https://mfa.example.com:8443/oauth/v1/token" {
		t.Fatalf("issuer %q must keep the port", r.svc.Issuer())
	}
}

func TestParseAuthorizeRefusals(t *testing.T) {
	r := newRig(t, "https://mfa.example.com:8443")
	cases := map[string]func(jwt.MapClaims){
		"audience without the port":  func(c jwt.MapClaims) { c["aud"] = "https://mfa.example.com" },
		"two audiences":              func(c jwt.MapClaims) { c["aud"] = []string{"https://mfa.example.com:8443", "https://x"} },
		"expired beyond the leeway":  func(c jwt.MapClaims) { c["exp"] = t0.Add(-61 * time.Second).Unix() },
		"not valid yet":              func(c jwt.MapClaims) { c["nbf"] = t0.Add(2 * time.Minute).Unix() },
		"state of 15 characters":     func(c jwt.MapClaims) { c["state"] = strings.Repeat("s", 15) },
		"state of 1025 characters":   func(c jwt.MapClaims) { c["state"] = strings.Repeat("s", 1025) },
		"use_duo_code as a string":   func(c jwt.MapClaims) { c["use_duo_code_attribute"] = "true" },
		"no exp":                     func(c jwt.MapClaims) { delete(c, "exp") },
		"redirect_uri with a query":  func(c jwt.MapClaims) { c["redirect_uri"] = redirect + "?x=1" },
		"username of 257 characters": func(c jwt.MapClaims) { c["duo_uname"] = strings.Repeat("a", 257) },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := r.svc.ParseAuthorize(context.Background(), r.id, "code", r.request(t, change), "")
			var pe *prompt.Error
			if !errors.As(err, &pe) || pe.Description == "" {
				t.Fatalf("got %v, want a refusal with a description", err)
			}
		})
	}
	if _, err := r.svc.ParseAuthorize(context.Background(), r.id, "code", r.request(t, func(c jwt.MapClaims) {
		c["exp"] = t0.Add(-59 * time.Second).Unix()
	}), ""); err != nil {
		t.Fatalf("a request expired 59 s ago is within the leeway: %v", err)
	}
}

func TestAssertionJTIIsRememberedUntilItExpires(t *testing.T) {
	r := newRig(t, "https://mfa.example.com:8443")
	ctx := context.Background()
	a := r.sign(t, jwt.MapClaims{"iss": r.id, "sub": r.id, "aud": "https://mfa.example.com:8443/oauth/v1/token",
		"exp": t0.Add(5 * time.Minute).Unix(), "jti": "one"})
	if _, err := r.svc.Authenticate(ctx, r.id, a, prompt.PathToken); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Authenticate(ctx, r.id, a, prompt.PathToken); !prompt.IsCode(err, prompt.CodeInvalidClient) {
		t.Fatalf("replay: %v", err)
	}
	// Once the assertion could no longer be accepted its record may go.
	r.clock.Advance(6*time.Minute + prompt.Leeway)
	if n, err := r.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want the one record", n, err)
	}
	if _, err := r.svc.Authenticate(ctx, r.id, a, prompt.PathToken); !prompt.IsCode(err, prompt.CodeInvalidClient) {
		t.Fatalf("an expired assertion after the sweep: %v", err)
	}
}

func TestCodeIsSingleUseShortLivedAndBound(t *testing.T) {
	r := newRig(t, "https://mfa.example.com:8443")
	ctx := context.Background()
	issue := func() string {
		tx := r.begin(t)
		if _, err := r.svc.Return(ctx, tx); !errors.Is(err, prompt.ErrNotFinished) {
			t.Fatalf("return before the end: %v", err)
		}
		if err := r.svc.Decide(ctx, &tx, prompt.Decision{Result: prompt.DecisionAllow, Reason: "bypass_user"}); err != nil {
			t.Fatal(err)
		}
		target, err := r.svc.Return(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Return(ctx, tx); !errors.Is(err, prompt.ErrTransactionNotFound) {
			t.Fatalf("second return: %v", err)
		}
		u, _ := url.Parse(target)
		if !strings.HasPrefix(target, redirect+"?") || u.Query().Get("state") != strings.Repeat("s", 36) {
			t.Fatalf("return URL %q", target)
		}
		return u.Query().Get("duo_code")
	}

	code := issue()
	if _, err := r.svc.Exchange(ctx, r.app, code, redirect+"/other"); !prompt.IsCode(err, prompt.CodeInvalidGrant) {
		t.Fatalf("wrong redirect_uri: %v", err)
	}
	if _, err := r.svc.Exchange(ctx, r.app, code, redirect); !prompt.IsCode(err, prompt.CodeInvalidGrant) {
		t.Fatalf("a code is burnt by a failed exchange too: %v", err)
	}

	code = issue()
	o, err := r.svc.Exchange(ctx, r.app, code, redirect)
	if err != nil || o.Result != prompt.ResultAllow || o.IP != "192.0.2.7" || o.Username != "Alice" {
		t.Fatalf("exchange: %+v %v", o, err)
	}
	tokens, err := r.svc.Tokens(r.app, r.secret, o)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS512"}), jwt.WithTimeFunc(r.clock.Now)).
		ParseWithClaims(tokens.IDToken, claims, func(*jwt.Token) (any, error) { return []byte(r.secret), nil }); err != nil {
		t.Fatal(err)
	}
	if claims["aud"] != r.id || claims["iss"] != "https://mfa.example.com:8443/oauth/v1/token" || claims["sub"] != "Alice" {
		t.Fatalf("claims %v", claims)
	}

	code = issue()
	r.clock.Advance(prompt.CodeTTL)
	if _, err := r.svc.Exchange(ctx, r.app, code, redirect); !prompt.IsCode(err, prompt.CodeInvalidGrant) {
		t.Fatalf("code at its expiry: %v", err)
	}
}

func TestTransactionExpires(t *testing.T) {
	r := newRig(t, "http://localhost:8080")
	ctx := context.Background()
	req, err := r.svc.ParseAuthorize(ctx, r.id, "code", r.request(t, func(c jwt.MapClaims) { c["aud"] = "http://localhost:8080" }), "")
	if err != nil {
		t.Fatalf("a portal on plain HTTP accepts its base URL as audience: %v", err)
	}
	token, err := r.svc.Begin(ctx, req, "")
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(prompt.TransactionTTL - time.Second)
	if _, err := r.svc.Open(ctx, token); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Second)
	if _, err := r.svc.Open(ctx, token); !errors.Is(err, prompt.ErrTransactionNotFound) {
		t.Fatalf("expired transaction: %v", err)
	}
}

// A policy decision repeated for the same user and application (a script
// looping on the prompt) counts on one audit record per window; a proven
// factor is recorded each time.
func TestRepeatedPolicyDenialsCountOnOneRecord(t *testing.T) {
	r := newRig(t, "https://mfa.example.com:8443")
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		tx := r.begin(t)
		if err := r.svc.Decide(ctx, &tx, prompt.Decision{Result: prompt.DecisionDeny, Reason: "new_user_denied"}); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(time.Minute)
	}
	entries, err := r.db.AuditForTarget(ctx, audit.TargetUser, "Alice", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != audit.PromptLoginDenied || entries[0].Count != 4 {
		t.Fatalf("audit after 4 denials: %+v, want one record with count 4", entries)
	}
	u := store.User{Key: "DUALICE", Username: "Alice", Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0}
	if err := r.db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		tx := r.begin(t)
		if err := r.svc.Succeed(ctx, &tx, u, prompt.FactorPasscode, "valid_passcode"); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ = r.db.AuditForTarget(ctx, audit.TargetUser, "Alice", 10); len(entries) != 3 {
		t.Fatalf("audit after 2 passcode logins: %+v, want 3 records", entries)
	}
}

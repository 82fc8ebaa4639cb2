package factors_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/factors"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
	"enrollportal/internal/verify"
)

// rfc4226Secret is the test key of RFC 4226, appendix D, in hex.
const rfc4226Secret = "3132333435363738393031323334353637383930"

var cli = audit.CLI()

func TestTokenImportPreviewsByLineAndAppliesAllOrNothing(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	csv := "serial,secret_hex,type,counter\n" +
		"H1," + rfc4226Secret + ",hotp-6,0\n" +
		"T1," + rfc4226Secret + ",totp-8/60\n" +
		"X1,nothex\n" +
		"X2," + rfc4226Secret + ",sms\n" +
		"H1," + rfc4226Secret + "\n"
	lines, err := p.Factors.ParseTokens(ctx, strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2: "", 3: "", 4: "hexadecimal", 5: "type must be", 6: "also on line 2"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	for _, l := range lines {
		if w := want[l.Line]; (w == "") != (l.Problem == "") || !strings.Contains(l.Problem, w) {
			t.Errorf("line %d: problem %q, want %q", l.Line, l.Problem, w)
		}
	}
	if _, err := p.Factors.ImportTokens(ctx, lines, p.Enroll, cli); !errors.Is(err, factors.ErrTokenImportInvalid) {
		t.Fatalf("import with bad lines: %v", err)
	}
	if ts, _ := p.Factors.Tokens(ctx, 10); len(ts) != 0 {
		t.Fatalf("a refused import added %d tokens", len(ts))
	}
	n, err := p.Factors.ImportTokens(ctx, lines[:2], p.Enroll, cli)
	if err != nil || n != 2 {
		t.Fatalf("import: %d, %v", n, err)
	}
	ts, _ := p.Factors.Tokens(ctx, 10)
	if len(ts) != 2 || strings.Contains(string(ts[0].Secret), "12345678901234567890") {
		t.Fatalf("stored tokens %+v (secrets must be sealed)", ts)
	}
}

func TestHardwareTokenHOTPWindowReplayAndResync(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	lines, _ := p.Factors.ParseTokens(ctx, strings.NewReader("H1,"+rfc4226Secret+",hotp-6,0\n"))
	if _, err := p.Factors.ImportTokens(ctx, lines, p.Enroll, cli); err != nil {
		t.Fatal(err)
	}
	u, err := p.Users.Create(ctx, users.NewUser{Username: "tom"}, cli)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Factors.AssignToken(ctx, "H1", "tom", cli); err != nil {
		t.Fatal(err)
	}
	other, _ := p.Users.Create(ctx, users.NewUser{Username: "ann"}, cli)
	if err := p.Factors.AssignToken(ctx, "H1", other.Username, cli); !errors.Is(err, factors.ErrTokenAssigned) {
		t.Fatalf("a second user got the token: %v", err)
	}
	prove := func(code string) error {
		t.Helper()
		u, _ = p.Store.UserByID(ctx, u.ID)
		pc, err := p.Enroll.ProvePasscode(ctx, u, code, cli)
		if err == nil && pc.Factor != verify.FactorHardwareToken {
			t.Fatalf("factor %q", pc.Factor)
		}
		return err
	}
	// RFC 4226 codes: counter 5 is within the look-ahead of 10.
	if err := prove("254676"); err != nil {
		t.Fatalf("code at counter 5: %v", err)
	}
	// At or below the last counter used: refused.
	for _, code := range []string{"254676", "969429"} {
		if err := prove(code); !errors.As(err, new(*verify.WrongCodeError)) {
			t.Fatalf("code %s after counter 5: %v", code, err)
		}
	}
	sec := []byte("12345678901234567890")
	// Counter 17 is beyond the window (6..15) until a resync.
	if err := prove(verify.OATHCode(sec, 17, 6)); !errors.As(err, new(*verify.WrongCodeError)) {
		t.Fatalf("code past the window: %v", err)
	}
	if err := p.Factors.ResyncToken(ctx, "H1", [3]string{"000000", "111111", "222222"}, p.Enroll, cli); !errors.Is(err, factors.ErrResyncFailed) {
		t.Fatalf("resync with wrong codes: %v", err)
	}
	codes := [3]string{verify.OATHCode(sec, 30, 6), verify.OATHCode(sec, 31, 6), verify.OATHCode(sec, 32, 6)}
	if err := p.Factors.ResyncToken(ctx, "H1", codes, p.Enroll, cli); err != nil {
		t.Fatalf("resync: %v", err)
	}
	if err := prove(codes[2]); err == nil {
		t.Fatal("a resync code worked again")
	}
	if err := prove(verify.OATHCode(sec, 33, 6)); err != nil {
		t.Fatalf("first code after the resync: %v", err)
	}
	tokens, _ := p.Store.OATHTokensByUser(ctx, u.ID)
	if len(tokens) != 1 || tokens[0].Counter != 33 {
		t.Fatalf("tokens of tom %+v", tokens)
	}
}

func TestHardwareTokenTOTP8With60SecondSteps(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	lines, _ := p.Factors.ParseTokens(ctx, strings.NewReader("T1,"+rfc4226Secret+",totp-8/60\n"))
	if _, err := p.Factors.ImportTokens(ctx, lines, p.Enroll, cli); err != nil {
		t.Fatal(err)
	}
	u, _ := p.Users.Create(ctx, users.NewUser{Username: "tia"}, cli)
	if err := p.Factors.AssignToken(ctx, "T1", "tia", cli); err != nil {
		t.Fatal(err)
	}
	sec := []byte("12345678901234567890")
	code := verify.OATHCode(sec, uint64(p.Clock.Now().Unix()/60), 8)
	if _, err := p.Enroll.ProvePasscode(ctx, u, code, cli); err != nil {
		t.Fatalf("TOTP-8/60 code: %v", err)
	}
	u, _ = p.Store.UserByID(ctx, u.ID)
	if _, err := p.Enroll.ProvePasscode(ctx, u, code, cli); err == nil {
		t.Fatal("a TOTP token code worked twice")
	}
	p.Clock.Advance(3 * time.Minute)
	u, _ = p.Store.UserByID(ctx, u.ID)
	if _, err := p.Enroll.ProvePasscode(ctx, u, verify.OATHCode(sec, uint64(p.Clock.Now().Unix()/60), 8), cli); err != nil {
		t.Fatalf("a later code: %v", err)
	}
	if has, _ := p.Store.HasFactor(ctx, u.ID); !has {
		t.Fatal("a token does not count as a factor")
	}
}

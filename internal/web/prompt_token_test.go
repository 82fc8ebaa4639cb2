package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/factors"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// A user whose only device is a hardware token is told to press its
// button, not to open an authenticator app they do not have, and signs in
// with the token's code.
func TestPromptPasscodePageNamesTheHardwareTokenOfATokenOnlyUser(t *testing.T) {
	h := newPromptHTTP(t)
	ctx := context.Background()
	u, err := h.p.Users.Create(ctx, users.NewUser{Username: "tess"}, audit.CLI())
	testkit.NoErr(t, err)
	// RFC 6238's test secret, "12345678901234567890".
	_, err = h.p.Factors.CreateToken(ctx, factors.NewToken{Type: store.TokenTOTP6, Serial: "T-1001",
		SecretHex: "3132333435363738393031323334353637383930", Step: 30}, h.p.Enroll, audit.CLI())
	testkit.NoErr(t, err)
	testkit.NoErr(t, h.p.Factors.AssignToken(ctx, "T-1001", u.Username, audit.CLI()))

	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "tess")
	wantRedirect(t, c.Get(prompt), prompt+"/passcode")
	page := c.Get(prompt + "/passcode")
	wantStatus(t, page, http.StatusOK, "Press the button on your hardware token", "A 9-digit bypass code from your help desk works here too.")
	if strings.Contains(page.Body, "authenticator app") || strings.Contains(page.Body, "Text me a code") {
		t.Errorf("the passcode page of a token-only user speaks of an app or a text:\n%s", page.Body)
	}
	code := testkit.TOTPNow(t, "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", h.p.Clock.Now())
	wantRedirect(t, c.Post(prompt+"/passcode", url.Values{"code": {code}}), prompt+"/return")
	if res := h.callback(t, c.Get(prompt+"/return"), "tess"); !res.Allowed() {
		t.Fatalf("result %+v", res)
	}
}

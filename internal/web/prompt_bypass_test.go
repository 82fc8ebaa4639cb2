package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/factors"
	"enrollportal/internal/testkit"
)

func TestPromptBypassCodeSignsInAndNamesTheFactor(t *testing.T) {
	h := newPromptHTTP(t)
	h.enrolledUser(t, "bea")
	u, _ := h.p.Store.UserByUsername(context.Background(), "bea")
	codes, err := h.p.Factors.IssueBypassCodes(context.Background(), u,
		factors.BypassOptions{Count: 1, Uses: 1, TTL: 24 * time.Hour}, audit.Who{Type: audit.ActorAdmin, Name: "ops@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "bea")
	wantRedirect(t, c.Get(prompt), prompt+"/passcode")
	wantStatus(t, c.Get(prompt+"/passcode"), http.StatusOK, "9-digit bypass code", `data-autosubmit-wait=`)
	code := codes[0][:3] + " " + codes[0][3:6] + " " + codes[0][6:]
	wantRedirect(t, c.Post(prompt+"/passcode", url.Values{"code": {code}}), prompt+"/return")
	res := h.callback(t, c.Get(prompt+"/return"), "bea")
	if !res.Allowed() || res.AuthContext.Factor != "bypass_code" {
		t.Fatalf("result %+v", res)
	}
	// Used once, it is gone.
	again := h.start(t, c, "bea")
	wantRedirect(t, c.Get(again), again+"/passcode")
	c.Get(again + "/passcode")
	wantStatus(t, c.Post(again+"/passcode", url.Values{"code": {codes[0]}}), http.StatusUnprocessableEntity, "9 tries left")
}

package web_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"enrollportal/internal/config"
	"enrollportal/internal/testkit"
)

// unknownLinkFrom asks for an unknown enrollment link over a connection
// from remote, with forwardedFor (if any) in X-Forwarded-For, and returns
// the status.
func unknownLinkFrom(p *testkit.Portal, remote, forwardedFor string, i int) int {
	r := httptest.NewRequest(http.MethodGet, "/enroll/"+strings.Repeat("C", 40)+strconv.Itoa(i), nil)
	r.RemoteAddr = remote + ":40000"
	if forwardedFor != "" {
		r.Header.Set("X-Forwarded-For", forwardedFor)
	}
	w := httptest.NewRecorder()
	p.Handler.ServeHTTP(w, r)
	return w.Code
}

// exhaust spends the unknown-link budget of the client as the portal sees
// it, until it answers 429.
func exhaust(t *testing.T, p *testkit.Portal, remote, forwardedFor string) {
	t.Helper()
	for i := range 200 {
		if unknownLinkFrom(p, remote, forwardedFor, i) == http.StatusTooManyRequests {
			return
		}
	}
	t.Fatal("200 unknown links from one client and no 429")
}

// Behind a load balancer every request comes from the balancer. With its
// address in PORTAL_TRUSTED_PROXIES, the per-address limits count the
// client X-Forwarded-For names: one guesser is refused, the next person
// behind the same balancer is not.
func TestPerAddressLimitsCountTheClientBehindATrustedProxy(t *testing.T) {
	p := testkit.New(t, func(s *config.Settings) { s.TrustedProxies = "10.0.0.0/24, 192.0.2.7" })
	exhaust(t, p, "10.0.0.5", "203.0.113.9")
	if got := unknownLinkFrom(p, "10.0.0.5", "203.0.113.10", 1); got != http.StatusNotFound {
		t.Fatalf("another client behind the balancer got %d, want 404", got)
	}
	// A client that sends its own X-Forwarded-For through the balancer
	// (which appends the address it saw) is still counted as itself.
	if got := unknownLinkFrom(p, "192.0.2.7", "198.51.100.1, 203.0.113.9", 2); got != http.StatusTooManyRequests {
		t.Fatalf("the refused client with a forged hop in front got %d, want 429", got)
	}
}

// Without PORTAL_TRUSTED_PROXIES the header is a client's say-so and is
// ignored: changing it does not reset a refused address.
func TestPerAddressLimitsIgnoreXForwardedForByDefault(t *testing.T) {
	p := testkit.New(t)
	exhaust(t, p, "10.0.0.5", "203.0.113.9")
	if got := unknownLinkFrom(p, "10.0.0.5", "203.0.113.10", 1); got != http.StatusTooManyRequests {
		t.Fatalf("a new X-Forwarded-For from a refused address got %d, want 429", got)
	}
}

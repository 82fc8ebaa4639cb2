package enroll

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// InlineTTL is how long an enrollment URL handed out during a login works.
const InlineTTL = 15 * time.Minute

// InlineClaims is what an inline enrollment URL carries. Logins hand these
// out (login_duo's preauth, the prompt), possibly in a loop, so they are
// signed and self-contained: handing one out writes nothing to the database.
type InlineClaims struct {
	Username string    `json:"u"`
	AppKey   string    `json:"a,omitempty"`
	AppName  string    `json:"n,omitempty"`
	Expires  time.Time `json:"-"`
	Exp      int64     `json:"e"`
}

// IsInlineToken tells an inline token (payload.mac) from a link token, which
// has no dot.
func IsInlineToken(token string) bool { return strings.Contains(token, ".") }

// InlineToken signs claims for username at app, valid InlineTTL from now.
func (s *Service) InlineToken(username string, app store.Application) string {
	c := InlineClaims{Username: users.Normalize(username), AppKey: app.Key, AppName: app.Name,
		Exp: s.clock.Now().Add(InlineTTL).Unix()}
	payload, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.inlineMAC(p))
}

// InlineURL is the enrollment URL a login shows a user who must enroll.
func (s *Service) InlineURL(username string, app store.Application) string {
	return s.LinkURL(s.InlineToken(username, app))
}

func (s *Service) inlineMAC(payload string) []byte {
	m := hmac.New(sha256.New, s.inlineKey)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// OpenInline checks an inline token's signature and expiry.
func (s *Service) OpenInline(token string) (InlineClaims, error) {
	p, mac, ok := strings.Cut(token, ".")
	if !ok || len(token) > 1024 {
		return InlineClaims{}, ErrLinkNotFound
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil || !secret.EqualBytes(got, s.inlineMAC(p)) {
		return InlineClaims{}, ErrLinkNotFound
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return InlineClaims{}, ErrLinkNotFound
	}
	var c InlineClaims
	if err := json.Unmarshal(raw, &c); err != nil || c.Username == "" {
		return InlineClaims{}, ErrLinkNotFound
	}
	c.Expires = time.Unix(c.Exp, 0).UTC()
	if !s.clock.Now().Before(c.Expires) {
		return c, ErrLinkExpired
	}
	return c, nil
}

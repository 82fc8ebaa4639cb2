package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"enrollportal/internal/org"
)

// Logo caches the organisation's uploaded logo (org.LoadLogo) for every
// page's header.
type Logo struct {
	settings org.Reader
	log      *slog.Logger

	mu      sync.Mutex
	fetched time.Time
	data    []byte
	ctype   string
	version string
}

// NewLogo reads the logo from the settings rows, at most every ten seconds.
func NewLogo(settings org.Reader, log *slog.Logger) *Logo {
	return &Logo{settings: settings, log: log}
}

// Get returns the logo's bytes, content type and a short version of its
// contents, or nil when none was uploaded.
func (l *Logo) Get(ctx context.Context) (data []byte, ctype, version string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.fetched.IsZero() && time.Since(l.fetched) < 10*time.Second {
		return l.data, l.ctype, l.version
	}
	l.data, l.ctype, l.version = nil, "", ""
	logo, err := org.LoadLogo(ctx, l.settings)
	if err != nil {
		l.log.Error("read logo", "err", err)
		return nil, "", "" // try again next time
	}
	if logo != nil {
		sum := sha256.Sum256(logo.Data)
		l.data, l.ctype, l.version = logo.Data, logo.Type, hex.EncodeToString(sum[:6])
	}
	l.fetched = time.Now()
	return l.data, l.ctype, l.version
}

// Forget drops the cached logo after an admin changed it.
func (l *Logo) Forget() {
	l.mu.Lock()
	l.fetched = time.Time{}
	l.mu.Unlock()
}

// URL is the address of the uploaded logo, or "" for the default one.
func (l *Logo) URL(ctx context.Context) string {
	if _, _, v := l.Get(ctx); v != "" {
		return "/org/logo?v=" + v
	}
	return ""
}

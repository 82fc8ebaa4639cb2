package render

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"enrollportal/internal/store"
)

// The organisation's logo is kept in two settings rows: the image (base64)
// and its content type. Only PNG and JPEG are accepted: an SVG could carry
// script.
const (
	SettingLogo     = "org_logo"
	SettingLogoType = "org_logo_type"
)

// Logo caches the organisation's uploaded logo for every page's header.
type Logo struct {
	settings store.SettingQueries
	log      *slog.Logger

	mu      sync.Mutex
	fetched time.Time
	data    []byte
	ctype   string
	version string
}

// NewLogo reads the logo from the settings rows, at most every ten seconds.
func NewLogo(settings store.SettingQueries, log *slog.Logger) *Logo {
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
	enc, err := l.settings.Setting(ctx, SettingLogo)
	if err == nil && enc != "" {
		ct, err2 := l.settings.Setting(ctx, SettingLogoType)
		raw, err3 := base64.StdEncoding.DecodeString(enc)
		if err2 == nil && err3 == nil {
			sum := sha256.Sum256(raw)
			l.data, l.ctype, l.version = raw, ct, hex.EncodeToString(sum[:6])
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		l.log.Error("read logo", "err", err)
		return nil, "", "" // try again next time
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

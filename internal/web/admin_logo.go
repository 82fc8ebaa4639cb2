package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logos may be JPEG
	_ "image/png"  // or PNG
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/store"
)

// The organisation's logo is kept in two settings rows: the image (base64)
// and its content type. Only PNG and JPEG are accepted: an SVG could carry
// script.
const (
	SettingLogo     = "org_logo"
	SettingLogoType = "org_logo_type"
	maxLogoBytes    = 256 << 10
	maxLogoSide     = 4096
)

// orgLogo caches the logo for every page's header.
type orgLogo struct {
	mu      sync.Mutex
	fetched time.Time
	data    []byte
	ctype   string
	version string
}

func (s *Server) logo(ctx context.Context) (data []byte, ctype, version string) {
	s.logoCache.mu.Lock()
	defer s.logoCache.mu.Unlock()
	l := &s.logoCache
	if !l.fetched.IsZero() && time.Since(l.fetched) < 10*time.Second {
		return l.data, l.ctype, l.version
	}
	l.data, l.ctype, l.version = nil, "", ""
	enc, err := s.store.Setting(ctx, SettingLogo)
	if err == nil && enc != "" {
		ct, err2 := s.store.Setting(ctx, SettingLogoType)
		raw, err3 := base64.StdEncoding.DecodeString(enc)
		if err2 == nil && err3 == nil {
			sum := sha256.Sum256(raw)
			l.data, l.ctype, l.version = raw, ct, hex.EncodeToString(sum[:6])
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("read logo", "err", err)
		return nil, "", "" // try again next time
	}
	l.fetched = time.Now()
	return l.data, l.ctype, l.version
}

func (s *Server) forgetLogo() {
	s.logoCache.mu.Lock()
	s.logoCache.fetched = time.Time{}
	s.logoCache.mu.Unlock()
}

// logoURL is the address of the uploaded logo, or "" for the default one.
func (s *Server) logoURL(ctx context.Context) string {
	if _, _, v := s.logo(ctx); v != "" {
		return "/org/logo?v=" + v
	}
	return ""
}

// OrgLogoGET serves the uploaded logo (public: every page shows it).
func (s *Server) OrgLogoGET(c *gin.Context) {
	data, ctype, _ := s.logo(c.Request.Context())
	if data == nil {
		s.notFound(c)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, ctype, data)
}

// logoProblem is a sentence for the admin about an uploaded logo; it is an
// error so readLogoUpload can return it, but it is written to be shown as is.
type logoProblem string

func (p logoProblem) Error() string { return string(p) }

// readLogoUpload checks an uploaded logo: PNG or JPEG, at most 256 KB and
// 4096 pixels a side. The error is a sentence for the admin.
func readLogoUpload(fh *multipart.FileHeader) (data []byte, ctype string, err error) {
	if fh.Size > maxLogoBytes {
		return nil, "", logoProblem("The logo file is too large; use an image of at most 256 KB.")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", logoProblem("The logo could not be read. Try uploading it again.")
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxLogoBytes+1))
	if err != nil || len(data) > maxLogoBytes {
		return nil, "", logoProblem("The logo file is too large; use an image of at most 256 KB.")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return nil, "", logoProblem("The logo must be a PNG or JPEG image.")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
		return nil, "", logoProblem(fmt.Sprintf("The logo may be at most %d pixels wide and high.", maxLogoSide))
	}
	return data, "image/" + format, nil
}

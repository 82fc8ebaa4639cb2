package notify

import (
	"io"
	"log/slog"
	"net/url"
)

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func urlEscape(s string) string { return url.QueryEscape(s) }

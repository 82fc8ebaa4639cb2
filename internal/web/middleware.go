package web

import (
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy allows nothing but the portal's own scripts, styles
// and images: no inline script, no third-party requests, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	// Enrollment tokens travel in URLs: never send them on as a Referer.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if s.secure() {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

func (s *Server) secure() bool { return len(s.baseURL) > 8 && s.baseURL[:8] == "https://" }

// observe logs each request and counts it for /metrics. It logs the route
// pattern (/enroll/:token), never the path, so tokens stay out of logs.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	s.metrics.requests.WithLabelValues(route, methodLabel(c.Request.Method), strconv.Itoa(status)).Inc()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if !s.log.Enabled(c.Request.Context(), level) {
		return
	}
	s.log.LogAttrs(c.Request.Context(), level, "request",
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.String("ip", c.ClientIP()),
	)
}

// recoverPanics turns a panic into the generic error page and a log record
// with the stack; the user never sees the stack.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic", "route", c.FullPath(), "panic", v, "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				s.serverError(c, nil)
			}
			c.Abort()
		}
	}()
	c.Next()
}

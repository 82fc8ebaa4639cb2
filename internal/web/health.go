package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"enrollportal/internal/secret"
)

type metrics struct {
	registry            *prometheus.Registry
	handler             http.Handler
	requests            *prometheus.CounterVec
	enrollmentStarted   *prometheus.CounterVec
	enrollmentCompleted *prometheus.CounterVec
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		enrollmentStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_enrollments_started_total", Help: "Factor set-ups started, by method.",
		}, []string{"method"}),
		enrollmentCompleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_enrollments_completed_total", Help: "Factors proved and activated, by method.",
		}, []string{"method"}),
	}
	reg.MustRegister(m.requests, m.enrollmentStarted, m.enrollmentCompleted,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, method := range []string{"mobile", "tablet", "security_key"} {
		m.enrollmentStarted.WithLabelValues(method)
		m.enrollmentCompleted.WithLabelValues(method)
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// Healthz answers while the process serves requests.
func (s *Server) Healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// Readyz answers 200 when the database answers, 503 otherwise.
func (s *Server) Readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Error("readiness: database", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "database unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// Metrics serves the Prometheus metrics on the main listener, to callers on
// this machine or holding the metrics token. The numbers tell an outsider
// how many people enroll and which pages fail, so they are not public. When
// they have their own listener (PORTAL_METRICS_ADDR) the main one does not
// serve them at all.
func (s *Server) Metrics(c *gin.Context) {
	switch {
	case s.metricsElsewhere:
		s.notFound(c)
	case s.metricsToken != "" && bearerMatches(c.Request, s.metricsToken):
		s.metrics.handler.ServeHTTP(c.Writer, c.Request)
	case isLocalRequest(c.Request):
		s.metrics.handler.ServeHTTP(c.Writer, c.Request)
	case s.metricsToken != "":
		c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
		c.String(http.StatusUnauthorized, "metrics need a bearer token (PORTAL_METRICS_TOKEN_FILE)\n")
	default:
		c.String(http.StatusForbidden, "metrics are served to this machine only; set PORTAL_METRICS_TOKEN_FILE or PORTAL_METRICS_ADDR\n")
	}
}

// MetricsHandler serves the metrics alone, for their own listener
// (PORTAL_METRICS_ADDR), which the operator binds where only monitoring
// reaches.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler)
	return mux
}

// bearerMatches compares the request's bearer token with want in constant
// time.
func bearerMatches(r *http.Request, want string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	// Hashing both sides first keeps the comparison from telling the
	// token's length either.
	return ok && secret.EqualBytes(secret.HashToken(strings.TrimSpace(got)), secret.HashToken(want))
}

// isLocalRequest tells whether the request comes from this machine itself.
// A request that a reverse proxy on this machine forwarded comes from a
// loopback address too, but says so in a forwarding header: it counts as
// remote.
func isLocalRequest(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// knownMethods are the methods that get their own label in the request
// counter; any other name a client invents counts as "other", so that
// clients cannot grow the metrics without bound.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
	http.MethodConnect: true, http.MethodTrace: true,
}

func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "other"
}

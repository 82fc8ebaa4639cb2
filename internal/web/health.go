package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

// Metrics serves the Prometheus metrics.
func (s *Server) Metrics(c *gin.Context) { s.metrics.handler.ServeHTTP(c.Writer, c.Request) }

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"enrollportal/internal/app"
	"enrollportal/internal/audit"
	"enrollportal/internal/config"
)

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("serve", env, &s)
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 0 {
		return usagef("serve takes no arguments")
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.KeyCreated {
		a.Log.Info("created the at-rest encryption key; back it up with the database", "path", s.SecretKeyFile)
	}
	if err := announceOwnerSetup(ctx, env, a); err != nil {
		return err
	}
	handler, err := a.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Addr, err)
	}
	httpServer := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	go sweep(ctx, a)
	// The workers: outbox delivery, jobs (bulk sends and imports, including
	// those a crashed earlier start left), this process's heartbeat, and the
	// scheduled directory syncs (one process runs each, by the directory's
	// lease in the database).
	// They stop when serve is told to stop; the database stays open until
	// they have recorded what they had in flight, or the grace period ends.
	workerCtx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	var workers sync.WaitGroup
	for _, run := range []func(context.Context){a.Notify.Run, a.Jobs.Run, a.Instance.Run, a.Directories.Run} {
		workers.Add(1)
		go func() {
			defer workers.Done()
			run(workerCtx)
		}()
	}
	workersDone := make(chan struct{})
	go func() {
		workers.Wait()
		close(workersDone)
	}()
	errc := make(chan error, 1)
	go func() {
		if s.TLSCert != "" {
			errc <- httpServer.ServeTLS(ln, s.TLSCert, s.TLSKey)
		} else {
			errc <- httpServer.Serve(ln)
		}
	}()
	a.Log.Info("portal listening", "addr", ln.Addr().String(), "base_url", s.BaseURL, "tls", s.TLSCert != "", "version", version)
	var metricsServer *http.Server
	if s.MetricsAddr != "" {
		if metricsServer, err = serveMetrics(a, s.MetricsAddr, errc); err != nil {
			httpServer.Close()
			return err
		}
	}
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	// One grace period (PORTAL_SHUTDOWN_GRACE) for the requests in flight
	// and the workers' current step. What it cuts off is not lost: a job
	// goes on from its last committed step at the next start, and a claimed
	// message is handed back (a.Close) or taken back by the next start.
	grace := s.Grace()
	a.Log.Info("shutting down", "grace", grace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	stopWorkers()
	if metricsServer != nil {
		metricsServer.Shutdown(shutdownCtx)
	}
	err = httpServer.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		a.Log.Warn("shutdown grace period ended with requests in flight; they were cut off", "grace", grace.String())
		err = nil
	}
	select {
	case <-workersDone:
	case <-shutdownCtx.Done():
		a.Log.Warn("shutdown grace period ended with work in flight; it resumes at the next start", "grace", grace.String())
	}
	return err
}

// serveMetrics starts the listener of PORTAL_METRICS_ADDR, which serves
// /metrics alone, in plain HTTP, to whoever reaches the address.
func serveMetrics(a *app.App, addr string, errc chan<- error) (*http.Server, error) {
	h, err := a.MetricsHandler()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on PORTAL_METRICS_ADDR %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			select {
			case errc <- fmt.Errorf("metrics listener: %w", err):
			default:
			}
		}
	}()
	a.Log.Info("metrics listening", "addr", ln.Addr().String())
	return srv, nil
}

// sweepLease is the lease under which one instance at a time sweeps, when
// several share the database; sweepLeaseTTL is how long the others wait
// for a holder that stopped renewing it without being found dead.
const (
	sweepLease    = "sweep"
	sweepLeaseTTL = 3 * time.Minute
)

// sweep deletes expired, unproved factor set-ups every minute, so that their
// sealed secrets do not linger, and the outcomes of async API logins once no
// client may fetch them; at start and hourly, the audit records older than
// the retention period. Those sweeps run on the instance that holds the
// sweep lease; every instance writes its own applications' last use.
func sweep(ctx context.Context, a *app.App) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	var pruned time.Time
	for first := true; ; first = false {
		lead, err := a.Instance.Lead(ctx, sweepLease, sweepLeaseTTL)
		if err != nil && ctx.Err() == nil {
			a.Log.Error("take the sweep lease", "err", err)
		}
		// Audit records past the retention period go at start and hourly.
		if now := time.Now(); lead && now.Sub(pruned) >= time.Hour {
			pruned = now
			if n, err := audit.Prune(ctx, a.Store, a.Clock.Now(), a.Settings.AuditRetentionPeriod, audit.System()); err != nil && ctx.Err() == nil {
				a.Log.Error("prune the audit log", "err", err)
			} else if n > 0 {
				a.Log.Info("pruned the audit log", "removed", n, "retention", a.Settings.AuditRetention)
			}
		}
		if lead && !first {
			sweepExpired(ctx, a)
		}
		if !first {
			if err := a.Apps.FlushUsage(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("write the applications' last use", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepExpired deletes the expired challenges, async login outcomes and
// prompt logins.
func sweepExpired(ctx context.Context, a *app.App) {
	if _, err := a.Store.DeleteExpiredChallenges(ctx, a.Clock.Now()); err != nil && ctx.Err() == nil {
		a.Log.Error("sweep expired challenges", "err", err)
	}
	if _, err := a.Store.DeleteExpiredAuthTransactions(ctx, a.Clock.Now()); err != nil && ctx.Err() == nil {
		a.Log.Error("sweep expired auth transactions", "err", err)
	}
	if _, err := a.Prompt.Sweep(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error("sweep expired prompt logins", "err", err)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"enrollportal/internal/app"
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
	// The outbox worker stops with ctx; the database stays open until it
	// has recorded the messages it had in flight.
	workerCtx, stopWorker := context.WithCancel(ctx)
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		a.Notify.Run(workerCtx)
	}()
	defer func() {
		stopWorker()
		<-workerDone
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
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return httpServer.Shutdown(shutdownCtx)
}

// sweep deletes expired, unproved factor set-ups every minute, so that their
// sealed secrets do not linger, and the outcomes of async API logins once no
// client may fetch them.
func sweep(ctx context.Context, a *app.App) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := a.Store.DeleteExpiredChallenges(ctx, a.Clock.Now()); err != nil && ctx.Err() == nil {
				a.Log.Error("sweep expired challenges", "err", err)
			}
			if _, err := a.Store.DeleteExpiredAuthTransactions(ctx, a.Clock.Now()); err != nil && ctx.Err() == nil {
				a.Log.Error("sweep expired auth transactions", "err", err)
			}
		}
	}
}

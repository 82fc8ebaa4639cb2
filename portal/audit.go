package main

import (
	"context"
	"fmt"

	"enrollportal/internal/audit"
	"enrollportal/internal/config"
)

// runAuditPrune deletes the audit records older than the retention period
// (PORTAL_AUDIT_RETENTION) at once, as the server's sweep does hourly.
func runAuditPrune(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("audit prune", env, &s)
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 0 {
		return usagef("audit prune takes no arguments (the period is --audit-retention)")
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	now := a.Clock.Now()
	n, err := audit.Prune(ctx, a.Store, now, s.AuditRetentionPeriod, audit.CLI())
	if err != nil {
		return fmt.Errorf("could not prune the audit log: %w", err)
	}
	records := "records"
	if n == 1 {
		records = "record"
	}
	fmt.Fprintf(env.stdout, "removed %d audit %s older than %s (retention %s)\n",
		n, records, now.Add(-s.AuditRetentionPeriod).UTC().Format("2006-01-02 15:04 UTC"), s.AuditRetention)
	return nil
}

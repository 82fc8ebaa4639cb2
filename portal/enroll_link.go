package main

import (
	"context"
	"errors"
	"fmt"

	"enrollportal/internal/audit"
	"enrollportal/internal/config"
	"enrollportal/internal/enroll"
)

// runEnrollLink prints a fresh enrollment URL alone on stdout, so scripts can
// capture it; anything else goes to stderr.
func runEnrollLink(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("enroll-link", env, &s)
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usagef("give exactly one USERNAME (portal enroll-link USERNAME)")
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	link, err := a.Enroll.IssueLink(ctx, positional[0], 0, audit.CLI())
	if errors.Is(err, enroll.ErrUserNotFound) {
		return fmt.Errorf("there is no user %q; create it first with: portal users add %s", positional[0], positional[0])
	}
	if err != nil {
		return fmt.Errorf("could not create the link: %w", err)
	}
	if link.Revoked > 0 {
		fmt.Fprintf(env.stderr, "The previous enrollment link of %s no longer works.\n", link.User.Username)
	}
	fmt.Fprintf(env.stderr, "Valid until %s.\n", link.Link.ExpiresAt.Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(env.stdout, link.URL)
	return nil
}

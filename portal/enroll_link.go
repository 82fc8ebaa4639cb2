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
// capture it; anything else goes to stderr. With --reset the link is an
// admin-issued reset (enroll.SendResetLink), also emailed.
func runEnrollLink(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("enroll-link", env, &s)
	reset := fs.Bool("reset", false, "for a lost device: the link adds the next device without a code from an existing one, and is emailed to the user when they have an address")
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
	var link enroll.IssuedLink
	var emailed bool
	if *reset {
		link, emailed, err = a.Enroll.SendResetLinkByName(ctx, positional[0], audit.CLI())
	} else {
		link, err = a.Enroll.IssueLink(ctx, positional[0], 0, audit.CLI())
	}
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
	switch {
	case *reset && emailed:
		fmt.Fprintf(env.stderr, "Reset: the link adds the next device without a code from an existing one. It was queued to %s.\n", link.User.Email)
	case *reset:
		fmt.Fprintf(env.stderr, "Reset: the link adds the next device without a code from an existing one. %s has no email address: hand the link over yourself.\n", link.User.Username)
	}
	fmt.Fprintln(env.stdout, link.URL)
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"

	"enrollportal/internal/audit"
	"enrollportal/internal/config"
	"enrollportal/internal/text"
	"enrollportal/internal/users"
)

func runUsersAdd(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("users add", env, &s)
	email := fs.String("email", "", "email address")
	realname := fs.String("realname", "", "real name")
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usagef("give exactly one USERNAME (portal users add USERNAME [--email E] [--realname R])")
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Users.Create(ctx, users.NewUser{Username: positional[0], Email: *email, RealName: *realname}, audit.CLI())
	if err != nil {
		if errors.Is(err, users.ErrUsernameTaken) || errors.Is(err, users.ErrInvalidUsername) ||
			errors.Is(err, users.ErrInvalidEmail) || errors.Is(err, users.ErrTooLong) || errors.Is(err, text.ErrInvalid) {
			return err
		}
		return fmt.Errorf("could not create the user: %w", err)
	}
	fmt.Fprintf(env.stdout, "created user %s (%s)\n", u.Username, u.Key)
	return nil
}

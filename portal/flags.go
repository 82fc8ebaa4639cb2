package main

import (
	"context"
	"flag"
	"fmt"

	"enrollportal/internal/app"
	"enrollportal/internal/config"
)

// newFlags returns a flag set with every shared setting registered.
func newFlags(name string, env *cliEnv, s *config.Settings) *flag.FlagSet {
	fs := flag.NewFlagSet("portal "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	s.Register(fs)
	return fs
}

// parseArgs parses flags (before or after positional arguments) and resolves
// the settings.
func parseArgs(fs *flag.FlagSet, env *cliEnv, s *config.Settings, args []string) ([]string, error) {
	positional, err := config.ParseInterleaved(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := s.Resolve(fs, env.getenv); err != nil {
		return nil, err
	}
	return positional, nil
}

func openApp(ctx context.Context, env *cliEnv, s config.Settings) (*app.App, error) {
	return app.Open(ctx, s, app.Options{LogOut: env.stderr})
}

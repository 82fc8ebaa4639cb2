package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/config"
	"enrollportal/internal/store"
)

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// runAppsAdd creates an application and prints its credentials, one
// key=value a line, for scripts and for pasting into a client's config.
func runAppsAdd(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("apps add", env, &s)
	name := fs.String("name", "", "name of the application")
	kind := fs.String("kind", "", "web, unix, auth-api or admin-api")
	newUser := fs.String("new-user-policy", "", "require-enrollment, allow or deny (default: the global policy's)")
	var redirects repeated
	fs.Var(&redirects, "redirect-uri", "a redirect URI of a web application (repeat for several)")
	grants := fs.String("grant", "", "admin-api only: comma-separated grants among read-resource, write-resource, read-log, settings")
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 0 {
		return usagef("apps add takes no arguments (portal apps add --name N --kind web|unix|auth-api|admin-api)")
	}
	if *name == "" || *kind == "" {
		return usagef("give --name and --kind (web, unix, auth-api or admin-api)")
	}
	var grantList []string
	if *grants != "" {
		grantList = strings.Split(*grants, ",")
	}
	n, err := apps.Validate(apps.NewApp{Name: *name, Kind: *kind, NewUserPolicy: *newUser, RedirectURIs: redirects, Grants: grantList})
	if err != nil {
		return err
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err := a.Apps.Create(ctx, n, audit.CLI())
	var bad *apps.InvalidRedirectURIError
	if errors.As(err, &bad) {
		return err
	}
	if err != nil {
		return fmt.Errorf("could not create the application: %w", err)
	}
	idName, secretName := "ikey", "skey"
	if c.App.Kind == store.AppWeb {
		idName, secretName = "client_id", "client_secret"
	}
	fmt.Fprintf(env.stdout, "%s=%s\n%s=%s\napi_host=%s\n", idName, c.ClientID, secretName, c.ClientSecret, s.Host())
	fmt.Fprintf(env.stderr, "Created application %q (%s). The secret is shown only now: store it safely.\n", c.App.Name, c.App.Key)
	return nil
}

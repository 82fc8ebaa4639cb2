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
	for _, line := range apps.Credentials(c.App, c.ClientSecret, s.Host()) {
		fmt.Fprintf(env.stdout, "%s=%s\n", line.Name, line.Value)
	}
	fmt.Fprintf(env.stderr, "Created application %q (%s). Store the secret safely: it is not printed again (an owner or administrator can show it again on its page in the admin section, after typing a code from their authenticator app).\n", c.App.Name, c.App.Key)
	if c.App.Kind == store.AppAdminAPI && len(c.App.AdminGrants) == 0 {
		fmt.Fprintln(env.stderr, "It has no Admin API grants, so every call it makes is refused: create it with --grant read-resource,write-resource,read-log,settings (those it needs).")
	}
	return nil
}

// runAppsList prints every application, one a line, tab-separated: id,
// name, kind, and policy ("global" when it inherits the global policy,
// else its own policy's name).
func runAppsList(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("apps list", env, &s)
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 0 {
		return usagef("apps list takes no arguments")
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := a.Apps.Summaries(ctx)
	if err != nil {
		return fmt.Errorf("could not list the applications: %w", err)
	}
	for _, app := range list {
		policy := "global"
		if !app.Inherits() {
			policy = app.PolicyName
		}
		fmt.Fprintf(env.stdout, "%s\t%s\t%s\t%s\n", app.Key, app.Name, app.Kind, policy)
	}
	return nil
}

// runAppsDelete deletes the application of an id that apps list prints,
// with its codes and transactions.
func runAppsDelete(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("apps delete", env, &s)
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usagef("give exactly one application id, as portal apps list prints it (portal apps delete DA...)")
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	gone, err := a.Apps.Delete(ctx, positional[0], audit.CLI())
	if errors.Is(err, apps.ErrNotFound) {
		return fmt.Errorf("no application has the id %q (portal apps list prints them)", positional[0])
	}
	if err != nil {
		return fmt.Errorf("could not delete the application: %w", err)
	}
	fmt.Fprintf(env.stdout, "deleted application %s (%s)\n", gone.Name, gone.Key)
	return nil
}

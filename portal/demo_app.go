package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/config"
	"enrollportal/internal/demoapp"
	"enrollportal/internal/store"
)

// demoAppName is the web application the demo registers for itself when it
// is given no credentials.
const demoAppName = "Demo app"

// runDemoApp serves a small application that signs people in through the
// portal's Universal Prompt. Without --client-id it opens the portal's
// database (the same --db) and registers, or reuses, a web application of
// its own, so `portal serve` in one terminal and `portal demo-app` in
// another is all it takes.
func runDemoApp(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("demo-app", env, &s)
	listen := fs.String("listen", envOr(env, "PORTAL_DEMO_LISTEN", "127.0.0.1:8090"), "address the demo application listens on [$PORTAL_DEMO_LISTEN]")
	clientID := fs.String("client-id", env.getenv("PORTAL_DEMO_CLIENT_ID"), "client_id of a web application (default: register one in --db) [$PORTAL_DEMO_CLIENT_ID]")
	clientSecret := fs.String("client-secret", env.getenv("PORTAL_DEMO_CLIENT_SECRET"), "its client_secret [$PORTAL_DEMO_CLIENT_SECRET]")
	name := fs.String("name", env.getenv("PORTAL_DEMO_NAME"), `name of the application shown in the demo's header (default "Demo app" when it registers itself, "Your application" with --client-id) [$PORTAL_DEMO_NAME]`)
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 0 {
		return usagef("demo-app takes no arguments")
	}
	if (*clientID == "") != (*clientSecret == "") {
		return usagef("give both --client-id and --client-secret, or neither to register the demo in --db")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	defer ln.Close()
	own := "http://" + localName(ln.Addr().String())
	redirectURI := own + "/callback"
	if *clientID == "" {
		if *clientID, *clientSecret, err = demoCredentials(ctx, env, s, redirectURI); err != nil {
			return err
		}
		if *name == "" {
			*name = demoAppName
		}
	}
	// Signing in to another application under the demo's own name would
	// tell the person the wrong thing about where they are.
	if *name == "" {
		*name = "Your application"
	}
	portal, _ := url.Parse(s.BaseURL)
	client := &demoapp.Client{
		ClientID: *clientID, ClientSecret: *clientSecret, APIHost: portal.Host, Scheme: portal.Scheme,
		RedirectURI: redirectURI, UseDuoCode: true,
	}
	log := slog.New(slog.NewTextHandler(env.stderr, nil))
	if err := client.HealthCheck(ctx); err != nil {
		fmt.Fprintf(env.stderr, "warning: the portal at %s did not accept the demo's health check (%v); is `portal serve` running?\n", s.BaseURL, err)
	}
	srv := &http.Server{Handler: demoapp.NewServer(client, *name, log).Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(env.stdout, "Demo application on %s (signing in through %s)\n", own, s.BaseURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

func envOr(env *cliEnv, name, def string) string {
	if v := env.getenv(name); v != "" {
		return v
	}
	return def
}

// localName turns a loopback listen address into localhost:PORT, the name
// browsers treat as a secure context.
func localName(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// demoCredentials finds the demo's web application in the portal's
// database, or registers it (requiring enrollment of new users, so the
// inline flow shows), and returns its credentials.
func demoCredentials(ctx context.Context, env *cliEnv, s config.Settings, redirectURI string) (string, string, error) {
	a, err := openApp(ctx, env, s)
	if err != nil {
		return "", "", err
	}
	defer a.Close()
	list, err := a.Store.Applications(ctx)
	if err != nil {
		return "", "", err
	}
	for _, app := range list {
		if app.Name == demoAppName && app.Kind == store.AppWeb && slices.Contains(app.RedirectURIs, redirectURI) {
			sec, err := a.Apps.Secret(app)
			if err != nil {
				return "", "", err
			}
			fmt.Fprintf(env.stderr, "Using the application %q (%s) registered earlier.\n", app.Name, app.ClientID)
			return app.ClientID, sec, nil
		}
	}
	c, err := a.Apps.Create(ctx, apps.NewApp{
		Name: demoAppName, Kind: store.AppWeb, NewUserPolicy: store.NewUserRequireEnrollment, RedirectURIs: []string{redirectURI},
	}, audit.CLI())
	if err != nil {
		return "", "", fmt.Errorf("register the demo application: %w", err)
	}
	fmt.Fprintf(env.stderr, "Registered the web application %q (client_id %s) in %s.\n", c.App.Name, c.ClientID, s.DBName())
	return c.ClientID, c.ClientSecret, nil
}

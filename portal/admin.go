package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"enrollportal/internal/admin"
	"enrollportal/internal/app"
	"enrollportal/internal/audit"
	"enrollportal/internal/config"
)

// runAdminAdd creates an admin for automation: the password comes from the
// first line of stdin, never from a flag (flags show in ps and shell history).
func runAdminAdd(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("admin add", env, &s)
	email := fs.String("email", "", "the admin's email address (required)")
	role := fs.String("role", "", "one of: "+strings.Join(admin.Roles, ", ")+" (required)")
	name := fs.String("name", "", "the admin's name")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	switch {
	case len(positional) != 0:
		return usagef("admin add takes no arguments (portal admin add --email E --role ROLE --password-stdin)")
	case *email == "":
		return usagef("--email is required")
	case *role == "":
		return usagef("--role is required (one of: %s)", strings.Join(admin.Roles, ", "))
	case !admin.ValidRole(*role):
		return usagef("unknown role %q; use one of: %s", *role, strings.Join(admin.Roles, ", "))
	case !*passwordStdin:
		return usagef("--password-stdin is required: pipe the password in, for example: printf '%%s\\n' \"$PW\" | portal admin add ...")
	}
	password, a, err := newPasswordAndApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	created, err := a.Admins.Create(ctx, admin.NewAdmin{Email: *email, Name: *name, Role: *role, Password: password}, audit.CLI())
	if err != nil {
		if errors.Is(err, admin.ErrInvalidEmail) || errors.Is(err, admin.ErrEmailTaken) || errors.Is(err, admin.ErrNameTooLong) {
			return err
		}
		return fmt.Errorf("could not create the admin: %w", err)
	}
	fmt.Fprintf(env.stdout, "created admin %s (%s, %s); they set up their authenticator app at first sign-in at %s/admin/signin\n",
		created.Email, admin.RoleLabel(created.Role), created.Key, a.Settings.BaseURL)
	return nil
}

// runAdminSetPassword replaces an admin's password (for one who forgot it),
// ending their open sessions. The password comes from stdin, as for add.
func runAdminSetPassword(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("admin set-password", env, &s)
	email := fs.String("email", "", "the admin's email address (required)")
	passwordStdin := fs.Bool("password-stdin", false, "read the new password from the first line of standard input (required)")
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	switch {
	case len(positional) != 0:
		return usagef("admin set-password takes no arguments (portal admin set-password --email E --password-stdin)")
	case *email == "":
		return usagef("--email is required")
	case !*passwordStdin:
		return usagef("--password-stdin is required: pipe the password in, for example: printf '%%s\\n' \"$PW\" | portal admin set-password ...")
	}
	password, a, err := newPasswordAndApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Admins.SetPassword(ctx, *email, password, audit.CLI()); err != nil {
		if errors.Is(err, admin.ErrAdminNotFound) {
			return fmt.Errorf("%w with the email %s", err, admin.NormalizeEmail(*email))
		}
		return fmt.Errorf("could not set the password: %w", err)
	}
	fmt.Fprintf(env.stdout, "set a new password for %s; their open sessions have ended\n", admin.NormalizeEmail(*email))
	return nil
}

// readPasswordLine reads the first line of r, without its line ending.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on stdin: pipe the password in as the first line")
	}
	return line, nil
}

// announceOwnerSetup prints a one-time owner setup URL when the portal has no
// admin yet, so that the first person to start it can claim it. The token is
// stored only as a hash and works once, for 24 hours.
func announceOwnerSetup(ctx context.Context, env *cliEnv, a *app.App) error {
	n, err := a.Admins.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	token, expires, err := a.Admins.IssueSetupLink(ctx, audit.Who{Type: audit.ActorSystem, Name: "portal serve"})
	if err != nil {
		return err
	}
	url := a.Settings.BaseURL + "/admin/setup/" + token
	fmt.Fprintf(env.stderr, "\nNo admin exists yet. Open this link to create the owner account (it works once, until %s):\n\n    %s\n\n",
		expires.UTC().Format("2006-01-02 15:04 UTC"), url)
	// The link is a bearer token: it goes to the terminal only, never into
	// the log, which may be shipped elsewhere.
	a.Log.Info("no admin exists yet: owner setup link printed to stderr", "expires", expires)
	return nil
}

// newPasswordAndApp reads and checks a new admin password from stdin before
// the database is opened, so a weak password changes nothing.
func newPasswordAndApp(ctx context.Context, env *cliEnv, s config.Settings) (string, *app.App, error) {
	password, err := readPasswordLine(env.stdin)
	if err != nil {
		return "", nil, err
	}
	if err := admin.ValidatePassword(password); err != nil {
		return "", nil, err
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return "", nil, err
	}
	return password, a, nil
}

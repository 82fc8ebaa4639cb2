// Command portal is Enrollment Portal: a self-hosted service that gets an
// organisation's users onto two-factor authentication. This package is the
// command and its wiring only; the rules live in internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name  string
	usage string
	run   func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is the command's view of the world, so tests can run subcommands
// in-process with their own streams and environment.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

func commands() []command {
	return []command{
		{"serve", "serve                      start the web server, APIs and workers", runServe},
		{"users add", "users add USERNAME [--email E] [--realname R]   create a user", runUsersAdd},
		{"enroll-link", "enroll-link USERNAME [--reset]  print a fresh enrollment URL for a user", runEnrollLink},
		{"admin add", "admin add --email E --role ROLE --password-stdin   create an admin", runAdminAdd},
		{"admin set-password", "admin set-password --email E --password-stdin   replace an admin's password and end their sessions", runAdminSetPassword},
		{"apps add", "apps add --name N --kind web|unix|auth-api|admin-api [--new-user-policy P] [--redirect-uri U]... [--grant G,...]   create an application", runAppsAdd},
		{"apps list", "apps list                  list applications, one a line: id, name, kind, policy (tab-separated)", runAppsList},
		{"apps delete", "apps delete ID              delete an application with its codes and transactions", runAppsDelete},
		{"directory add", "directory add NAME --kind openldap|active-directory --url URL --bind-dn DN --password-stdin --users-base DN [--groups-base DN] [--group CN]... [--ca-file F] [--every MINUTES] [--send-enrollment] [--removal-percent P] [--username-attr A ...]   add an LDAP directory to sync", runDirectoryAdd},
		{"directory sync", "directory sync NAME [--dry-run] [--full] [--confirm-removals]   sync a directory; prints created=N updated=N disabled=N removed=N phones=N", runDirectorySync},
		{"directory restore", "directory restore NAME USERNAME   take a user out of the directory's trash", runDirectoryRestore},
		{"demo-app", "demo-app [--listen ADDR] [--client-id ID --client-secret S]   run a demo application that signs in through the portal", runDemoApp},
		{"db copy", "db copy --from sqlite:PATH --to postgres://...   copy a SQLite database into a new, empty PostgreSQL database; prints the rows of each table", runDBCopy},
		{"audit prune", "audit prune                delete audit records older than --audit-retention (default 400d)", runAuditPrune},
		{"version", "version                    print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// errUsage marks an error whose message is about how the command was called.
var errUsage = errors.New("usage")

func run(ctx context.Context, env *cliEnv, args []string) int {
	for _, c := range commands() {
		words := splitWords(c.name)
		if len(args) >= len(words) && equalWords(args[:len(words)], words) {
			err := c.run(ctx, env, args[len(words):])
			if err == nil {
				return 0
			}
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(env.stderr, "portal %s: %v\n", c.name, err)
			if errors.Is(err, errUsage) {
				return 2
			}
			return 1
		}
	}
	printUsage(env.stderr)
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return 0
	}
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: portal COMMAND [flags]")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintln(w, "  "+c.usage)
	}
	fmt.Fprintln(w, "Every command takes --db and --base-url (or PORTAL_DB, PORTAL_BASE_URL); run 'portal COMMAND -h' for the rest.")
}

func splitWords(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func usagef(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
}

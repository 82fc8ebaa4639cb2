package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"enrollportal/internal/app"
	"enrollportal/internal/config"
	"enrollportal/internal/store/postgres"
)

// runDBCopy copies a SQLite database into a new PostgreSQL database, to
// move an existing deployment (see README "PostgreSQL").
func runDBCopy(ctx context.Context, env *cliEnv, args []string) error {
	fs := flag.NewFlagSet("portal db copy", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	from := fs.String("from", "", "the database to copy: a SQLite file (sqlite:PATH or PATH)")
	to := fs.String("to", "", "the new, empty PostgreSQL database: postgres://user:pass@host:5432/db")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 0 || *from == "" || *to == "" {
		return usagef("db copy takes --from sqlite:PATH --to postgres://... and nothing else")
	}
	src := config.Settings{DB: *from}
	dst := config.Settings{DB: *to}
	if src.IsPostgres() {
		return usagef("--from must be a SQLite file (sqlite:PATH or PATH), not %s", src.DBName())
	}
	if !dst.IsPostgres() {
		return usagef("--to must be a PostgreSQL URL (postgres://...), not %q", *to)
	}
	// The source must exist: opening a missing file would make an empty one.
	if _, err := os.Stat(src.SQLitePath()); err != nil {
		return fmt.Errorf("the source database %s: %w", src.SQLitePath(), err)
	}
	source, err := app.OpenStore(ctx, src)
	if err != nil {
		return err
	}
	defer source.Close()
	// Opening the target migrates it to the same schema version as the
	// source, which opening it has brought up to date.
	target, err := postgres.Open(ctx, *to)
	if err != nil {
		return err
	}
	target.Close()
	counts, err := postgres.CopyInto(ctx, source.SQL(), *to)
	if err != nil {
		return fmt.Errorf("copy %s into %s: %w", src.DBName(), dst.DBName(), err)
	}
	fmt.Fprintf(env.stdout, "copied %s into %s\n", src.DBName(), dst.DBName())
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\trows\t")
	var total int64
	for _, c := range counts {
		fmt.Fprintf(tw, "%s\t%d\t\n", c.Table, c.Rows)
		total += c.Rows
	}
	fmt.Fprintf(tw, "total\t%d\t\n", total)
	tw.Flush()
	fmt.Fprintf(env.stderr, "Run the portal on it with PORTAL_DB set to the URL and PORTAL_SECRET_KEY_FILE naming the key file of %s (the stored secrets are sealed with it).\n", src.SQLitePath())
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"enrollportal/internal/audit"
	"enrollportal/internal/config"
	"enrollportal/internal/directory"
)

// runDirectoryAdd adds a directory with the settings of the admin page,
// presets of its kind applied; the bind password comes from stdin so that
// it is not in the shell history or the process list.
func runDirectoryAdd(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("directory add", env, &s)
	kind := fs.String("kind", "", "openldap or active-directory (required)")
	url := fs.String("url", "", "ldap://host:port or ldaps://host:port (required)")
	startTLS := fs.Bool("start-tls", false, "upgrade an ldap:// connection with StartTLS")
	bindDN := fs.String("bind-dn", "", "the DN to bind as (required)")
	passwordStdin := fs.Bool("password-stdin", false, "read the bind password from the first line of standard input (required)")
	usersBase := fs.String("users-base", "", "base DN of the users (required)")
	groupsBase := fs.String("groups-base", "", "base DN of the groups")
	filter := fs.String("filter", "", "an extra LDAP filter users must match")
	caFile := fs.String("ca-file", "", "PEM file of the CA that signed the directory's certificate")
	country := fs.String("default-country", "", "country of phone numbers written without +code (default US)")
	var groups repeated
	fs.Var(&groups, "group", "only members of this group (its cn; repeat for several)")
	every := fs.Int("every", 0, "sync on its own every MINUTES (5 to 10080) while portal serve runs; 0: only when asked")
	sendEnrollment := fs.Bool("send-enrollment", false, "after each sync, send the users it created (with an email, active) an enrollment email")
	removalPercent := fs.Float64("removal-percent", 0, "the share of the synced users, in percent, a sync may disable without confirmation (default 10)")
	// The attribute mapping, as on the page: an empty one takes the
	// kind's preset.
	var m directory.Mapping
	var phoneAttrs repeated
	fs.StringVar(&m.UserFilter, "user-filter", "", "which entries are users (preset of the kind when empty)")
	fs.StringVar(&m.GroupFilter, "group-filter", "", "which entries are groups")
	fs.StringVar(&m.Username, "username-attr", "", "attribute of the username (uid, sAMAccountName, userPrincipalName...)")
	fs.StringVar(&m.RealName, "realname-attr", "", "attribute of the real name")
	fs.StringVar(&m.Email, "email-attr", "", "attribute of the email address")
	fs.Var(&phoneAttrs, "phone-attr", "attribute of phone numbers (repeat for several)")
	fs.StringVar(&m.StableID, "stable-id-attr", "", "attribute that stays the same when a user is renamed (entryUUID, objectGUID)")
	fs.StringVar(&m.GroupName, "group-name-attr", "", "attribute of a group's name")
	fs.StringVar(&m.Membership, "membership", "", "member (member values on group entries) or memberOf (on user entries)")
	fs.StringVar(&m.MemberAttr, "member-attr", "", "the member attribute of group entries (member or uniqueMember)")
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	switch {
	case len(positional) != 1:
		return usagef("give the directory's name: portal directory add NAME --kind ... ")
	case *kind == "" || *url == "" || *bindDN == "" || *usersBase == "":
		return usagef("--kind, --url, --bind-dn and --users-base are required")
	case !*passwordStdin:
		return usagef("--password-stdin is required: pipe the bind password in, for example: printf '%%s\\n' \"$PW\" | portal directory add ...")
	case *removalPercent < 0 || *removalPercent > 100:
		return usagef("--removal-percent is a percentage above 0 and at most 100, like 10")
	}
	if len(phoneAttrs) > 0 {
		m.Phones = phoneAttrs
	}
	set := directory.Settings{Kind: *kind, URL: *url, StartTLS: *startTLS, BindDN: *bindDN, UsersBase: *usersBase,
		GroupsBase: *groupsBase, ExtraFilter: *filter, Groups: groups, DefaultCountry: *country, Mapping: m,
		ScheduleMinutes: *every, EnrollmentEmails: *sendEnrollment, RemovalShare: *removalPercent / 100}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return fmt.Errorf("could not read --ca-file: %w", err)
		}
		set.CAPEM = string(pem)
	}
	if _, err := set.Validate(); err != nil {
		return usageOfField(err)
	}
	password, err := readPasswordLine(env.stdin)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Directories.Add(ctx, positional[0], set, password, audit.CLI()); err != nil {
		var fe *directory.FieldError
		if errors.As(err, &fe) || errors.Is(err, directory.ErrNameTaken) {
			return err
		}
		return fmt.Errorf("could not add the directory: %w", err)
	}
	fmt.Fprintf(env.stderr, "Added directory %q. Preview a sync with: portal directory sync %s --dry-run\n", positional[0], positional[0])
	return nil
}

// directoryFlags names the flag of each setting the page calls a field.
var directoryFlags = map[string]string{"kind": "--kind", "url": "--url", "bind_dn": "--bind-dn", "users_base": "--users-base",
	"groups_base": "--groups-base", "filter": "--filter", "extra_filter": "--filter", "ca": "--ca-file", "start_tls": "--start-tls", "default_country": "--default-country",
	"schedule": "--every", "removal_share": "--removal-percent", "user_filter": "--user-filter", "group_filter": "--group-filter",
	"username_attr": "--username-attr", "realname_attr": "--realname-attr", "email_attr": "--email-attr",
	"phone_attrs": "--phone-attr", "stable_id_attr": "--stable-id-attr", "group_name_attr": "--group-name-attr",
	"membership": "--membership", "member_attr": "--member-attr"}

// usageOfField says a refused setting by its flag: a usage error (exit 2),
// since nothing was added.
func usageOfField(err error) error {
	var fe *directory.FieldError
	if errors.As(err, &fe) {
		name := directoryFlags[fe.Field]
		if name == "" {
			name = fe.Field
		}
		return usagef("%s: %s", name, fe.Message)
	}
	return err
}

// runDirectorySync runs (or previews) a sync and prints its counts, one
// key=value a line, for cron and scripts; failures exit non-zero.
func runDirectorySync(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("directory sync", env, &s)
	dryRun := fs.Bool("dry-run", false, "compute what would change, change nothing")
	full := fs.Bool("full", false, "compare every entry (finds removals) even when an incremental run would do")
	confirm := fs.Bool("confirm-removals", false, "go on when the run would disable more than the removal threshold")
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usagef("give the directory's name: portal directory sync NAME [--dry-run]")
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Directories.Sync(ctx, positional[0], directory.Options{DryRun: *dryRun, Full: *full, ConfirmRemovals: *confirm})
	if errors.Is(err, directory.ErrNotFound) {
		return fmt.Errorf("no directory is named %q", positional[0])
	}
	if res.Status != "" {
		for _, kv := range res.Counts() {
			fmt.Fprintf(env.stdout, "%s=%s\n", kv[0], kv[1])
		}
		for _, c := range res.Conflicts {
			fmt.Fprintln(env.stderr, "conflict: "+c)
		}
		for _, v := range res.InvalidValues {
			fmt.Fprintln(env.stderr, "skipped: "+v)
		}
	}
	if errors.Is(err, directory.ErrNeedsConfirmation) {
		return errors.New("the run would disable more users than the removal threshold allows; nothing was changed (run again with --confirm-removals to go on)")
	}
	return err
}

// runDirectoryRestore takes a user out of a directory's trash.
func runDirectoryRestore(ctx context.Context, env *cliEnv, args []string) error {
	var s config.Settings
	fs := newFlags("directory restore", env, &s)
	positional, err := parseArgs(fs, env, &s, args)
	if err != nil {
		return err
	}
	if len(positional) != 2 {
		return usagef("give the directory's name and the username: portal directory restore NAME USERNAME")
	}
	a, err := openApp(ctx, env, s)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Directories.Restore(ctx, positional[0], positional[1], audit.CLI()); err != nil {
		if errors.Is(err, directory.ErrNotFound) {
			return fmt.Errorf("no directory is named %q", positional[0])
		}
		return err
	}
	fmt.Fprintf(env.stderr, "Restored %s: active again.\n", positional[1])
	return nil
}

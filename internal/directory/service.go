package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/bulk"
	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// Reads is what the directory service reads of the database, inside one
// of its transactions or outside: directories with their runs, leases and
// links, and the users, groups and phone numbers a sync compares against.
type Reads interface {
	store.DirectoryQueries
	store.UserQueries
	store.GroupQueries
	store.PhoneQueries
	store.ImportQueries
}

// Store is what the directory service uses of the database: its Reads,
// and transactions for every change (each with its audit records).
type Store interface {
	store.Transactor
	Reads
}

// Service manages directories and runs their syncs.
type Service struct {
	Store Store
	Clock clock.Clock
	Box   *secret.Box
	// Bulk sends the enrollment emails of a directory whose
	// EnrollmentEmails setting is on.
	Bulk *bulk.Service
	// Log, when set, gets the failures of scheduled syncs (their records
	// have them too).
	Log *slog.Logger
	// AfterProgress, when set, is called after each progress write of a
	// run (tests hold a run there to watch it).
	AfterProgress func(Progress)

	backgroundRuns
}

// Audit actions of directories.
const (
	actionAdded       = "directory.added"
	actionUserDisable = "user.disabled"
	actionUserUpdated = "user.updated"
	actionUserRestore = "user.restored"
	actionUserPurged  = "user.deleted"
	actionGroupAdded  = "group.created"
	actionPhoneAdded  = "phone.added"
)

// ErrNotFound is returned for a directory name that does not exist.
var ErrNotFound = errors.New("directory: no such directory")

// ErrNotInTrash is returned when restoring a user who is not in the
// directory's trash.
var ErrNotInTrash = errors.New("directory: the user is not in this directory's trash")

// ErrNameTaken is returned when another directory has the name.
var ErrNameTaken = errors.New("directory: a directory with that name exists")

// ValidName reports whether name can name a directory: it appears in
// command lines and page addresses, so it is kept to a plain word.
func ValidName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
			return false
		}
	}
	return true
}

func passwordAAD(name string) []byte { return []byte("directory-bind-password:" + name) }

// Add validates settings and stores a new directory with its bind
// password sealed, with an audit record.
func (s *Service) Add(ctx context.Context, name string, set Settings, password string, who audit.Who) (Settings, error) {
	name = strings.TrimSpace(name)
	if !ValidName(name) {
		return set, fieldErr("name", "give the directory a name of 1 to 64 letters, digits, dots, dashes or underscores (it is used in commands and addresses)")
	}
	if password == "" {
		return set, fieldErr("password", "give the bind password")
	}
	set, config, err := set.validated()
	if err != nil {
		return set, err
	}
	now := s.Clock.Now()
	d := store.Directory{Name: name, Kind: storeKind(set.Kind), Config: config,
		BindPassword: s.Box.Seal([]byte(password), passwordAAD(name)), CreatedAt: now}
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateDirectory(ctx, &d); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, actionAdded, "directory", name,
			map[string]any{"kind": set.Kind, "url": set.URL, "bind_dn": set.BindDN, "users_base": set.UsersBase, "groups": set.Groups}))
	})
	if errors.Is(err, store.ErrConflict) {
		return set, ErrNameTaken
	}
	return set, err
}

// load reads a directory with its settings and bind password.
func (s *Service) load(ctx context.Context, name string) (store.Directory, Settings, string, error) {
	d, err := s.Store.DirectoryByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return d, Settings{}, "", ErrNotFound
	}
	if err != nil {
		return d, Settings{}, "", err
	}
	set, err := decodeSettings(d.Config)
	if err != nil {
		return d, set, "", err
	}
	pw, err := s.Box.Open(d.BindPassword, passwordAAD(d.Name))
	if err != nil {
		return d, set, "", fmt.Errorf("directory: the bind password of %s cannot be opened with this key: %w", name, err)
	}
	return d, set, string(pw), nil
}

// ConnectionReport is what "Test connection" shows.
type ConnectionReport struct {
	Users  int
	Groups int
}

// TestConnection binds and counts the users and groups a run would see.
func (s *Service) TestConnection(ctx context.Context, name string) (ConnectionReport, error) {
	_, set, pw, err := s.load(ctx, name)
	if err != nil {
		return ConnectionReport{}, err
	}
	conn, err := connect(ctx, set, pw)
	if err != nil {
		return ConnectionReport{}, err
	}
	defer conn.Close()
	r, err := newReader(ctx, set, conn)
	if err != nil {
		return ConnectionReport{}, err
	}
	var snap snapshot
	if err := r.readGroups(ctx, &snap); err != nil {
		return ConnectionReport{}, err
	}
	if err := r.readUsers(ctx, &snap, "", false); err != nil {
		return ConnectionReport{}, err
	}
	return ConnectionReport{Users: len(snap.users), Groups: len(snap.groups)}, nil
}

// Runs lists the newest runs of a directory.
func (s *Service) Runs(ctx context.Context, name string, limit int) ([]store.DirectoryRun, error) {
	d, err := s.Store.DirectoryByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.Store.DirectoryRuns(ctx, d.ID, limit)
}

// Restore takes a user out of a directory's trash: active again, and
// kept until the directory says otherwise.
func (s *Service) Restore(ctx context.Context, name, username string, who audit.Who) error {
	d, err := s.Store.DirectoryByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	return s.Store.InTx(ctx, func(q store.Queries) error {
		list, err := q.DirectoryUsers(ctx, d.ID)
		if err != nil {
			return err
		}
		for _, du := range list {
			if du.User.Username != username {
				continue
			}
			if du.TrashedAt == nil {
				return ErrNotInTrash
			}
			u := du.User
			u.Status, u.UpdatedAt = store.StatusActive, now
			if err := q.UpdateUser(ctx, u, true); err != nil {
				return err
			}
			if err := q.SetDirectoryUserState(ctx, u.ID, nil, false); err != nil {
				return err
			}
			return q.InsertAudit(ctx, audit.Entry(now, who, actionUserRestore, audit.TargetUser, u.Username,
				map[string]any{"directory": name}))
		}
		return ErrNotInTrash
	})
}

// Summary is a directory as the list and its page show it.
type Summary struct {
	Name       string
	Settings   Settings
	LastSyncAt *time.Time
	LastResult string
}

// List lists the directories by name.
func (s *Service) List(ctx context.Context) ([]Summary, error) {
	list, err := s.Store.Directories(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(list))
	for _, d := range list {
		set, err := decodeSettings(d.Config)
		if err != nil {
			return nil, err
		}
		out = append(out, Summary{Name: d.Name, Settings: set, LastSyncAt: d.LastSyncAt, LastResult: d.LastResult})
	}
	return out, nil
}

// Detail is what a directory's page shows.
type Detail struct {
	Summary
	Runs  []Run
	Trash []TrashedUser
	// NeedsConfirmation is set when the newest run waits for an admin to
	// confirm its removals.
	NeedsConfirmation bool
	// Conflicts are the directory's users held back by a username another
	// user has, until an admin links or renames.
	Conflicts []OpenConflict
}

// TrashedUser is a user who left the directory and may still be restored.
type TrashedUser struct {
	Username  string
	RealName  string
	TrashedAt time.Time
	PurgeAt   time.Time
}

// Detail loads a directory's settings, its newest runs and its trash.
func (s *Service) Detail(ctx context.Context, name string) (Detail, error) {
	d, err := s.Store.DirectoryByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return Detail{}, ErrNotFound
	}
	if err != nil {
		return Detail{}, err
	}
	set, err := decodeSettings(d.Config)
	if err != nil {
		return Detail{}, err
	}
	out := Detail{Summary: Summary{Name: d.Name, Settings: set, LastSyncAt: d.LastSyncAt, LastResult: d.LastResult}}
	runs, err := s.Store.DirectoryRuns(ctx, d.ID, 20)
	if err != nil {
		return out, err
	}
	for _, r := range runs {
		out.Runs = append(out.Runs, runOf(r))
	}
	out.NeedsConfirmation = len(out.Runs) > 0 && out.Runs[0].Status == statusNeedsConfirmation
	if out.Conflicts, err = s.openConflicts(ctx, s.Store, d); err != nil {
		return out, err
	}
	linked, err := s.Store.DirectoryUsers(ctx, d.ID)
	if err != nil {
		return out, err
	}
	for _, du := range linked {
		if du.TrashedAt != nil {
			out.Trash = append(out.Trash, TrashedUser{Username: du.User.Username, RealName: du.User.RealName,
				TrashedAt: *du.TrashedAt, PurgeAt: du.TrashedAt.Add(TrashDays * 24 * time.Hour)})
		}
	}
	sort.Slice(out.Trash, func(i, j int) bool { return out.Trash[i].Username < out.Trash[j].Username })
	return out, nil
}

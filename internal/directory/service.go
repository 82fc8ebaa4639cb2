package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

// Service manages directories and runs their syncs.
type Service struct {
	Store store.Store
	Clock clock.Clock
	Box   *secret.Box
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

// ErrNameTaken is returned when another directory has the name.
var ErrNameTaken = errors.New("directory: a directory with that name exists")

func passwordAAD(name string) []byte { return []byte("directory-bind-password:" + name) }

// Add validates settings and stores a new directory with its bind
// password sealed, with an audit record.
func (s *Service) Add(ctx context.Context, name string, set Settings, password string, who audit.Who) (Settings, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return set, fieldErr("name", "give the directory a name of up to 100 characters")
	}
	if err := text.Check("name", name); err != nil {
		return set, fieldErr("name", "%s", err.Error())
	}
	if password == "" {
		return set, fieldErr("password", "give the bind password")
	}
	set, err := set.Validate()
	if err != nil {
		return set, err
	}
	config, err := set.encode()
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
	r := &reader{s: set, conn: conn}
	var snap snapshot
	if err := r.readGroups(ctx, &snap); err != nil {
		return ConnectionReport{}, err
	}
	if err := r.readUsers(ctx, &snap, ""); err != nil {
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
				return fmt.Errorf("%s is not in the trash of %s", username, name)
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
		return fmt.Errorf("%s is not a user of the directory %s", username, name)
	})
}

package directory

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// Audit actions of managing directories.
const (
	actionUpdated    = "directory.updated"
	actionDeleted    = "directory.deleted"
	actionUserLinked = "directory.user_linked"
)

// Update replaces a directory's settings; the bind password stays unless
// password is given. The next run compares every entry, since what it
// reads may have changed. The name does not change (commands and the
// sealed password use it).
func (s *Service) Update(ctx context.Context, name string, set Settings, password string, who audit.Who) (Settings, error) {
	set, config, err := set.validated()
	if err != nil {
		return set, err
	}
	now := s.Clock.Now()
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		d, err := q.DirectoryByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		old, err := decodeSettings(d.Config)
		if err != nil {
			return err
		}
		d.Kind, d.Config, d.SyncCursor = storeKind(set.Kind), config, ""
		if password != "" {
			d.BindPassword = s.Box.Seal([]byte(password), passwordAAD(d.Name))
		}
		if err := q.UpdateDirectory(ctx, d); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, actionUpdated, "directory", name,
			map[string]any{"changed": changedSettings(old, set), "password_changed": password != ""}))
	})
	return set, err
}

// changedSettings names the settings that differ, for the audit record.
func changedSettings(a, b Settings) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("kind", a.Kind != b.Kind)
	add("url", a.URL != b.URL)
	add("start_tls", a.StartTLS != b.StartTLS)
	add("ca", a.CAPEM != b.CAPEM)
	add("bind_dn", a.BindDN != b.BindDN)
	add("users_base", a.UsersBase != b.UsersBase)
	add("groups_base", a.GroupsBase != b.GroupsBase)
	add("extra_filter", a.ExtraFilter != b.ExtraFilter)
	add("groups", strings.Join(a.Groups, "\n") != strings.Join(b.Groups, "\n"))
	add("default_country", a.DefaultCountry != b.DefaultCountry)
	add("removal_share", a.RemovalShare != b.RemovalShare)
	add("mapping", mappingText(a.Mapping) != mappingText(b.Mapping))
	add("schedule", a.ScheduleMinutes != b.ScheduleMinutes)
	add("enrollment_emails", a.EnrollmentEmails != b.EnrollmentEmails)
	return out
}

func mappingText(m Mapping) string {
	return strings.Join(append([]string{m.UserFilter, m.GroupFilter, m.Username, m.RealName, m.Email, m.StableID,
		m.GroupName, m.Membership, m.MemberAttr}, m.Phones...), "\x00")
}

// Delete deletes a directory. The users and groups it created stay, as if
// made by hand: no sync changes them any more. ErrBusy while a run holds
// the directory.
func (s *Service) Delete(ctx context.Context, name string, who audit.Who) error {
	b, err := s.begin(ctx, name, Options{}, false)
	if err != nil {
		return err
	}
	// The run record begin made goes with the directory.
	defer func() { _ = s.Store.ReleaseDirectoryLease(context.WithoutCancel(ctx), b.d.ID, b.holder) }()
	linked, err := s.Store.DirectoryUsers(ctx, b.d.ID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	return s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.DeleteDirectory(ctx, b.d.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, actionDeleted, "directory", name,
			map[string]any{"users_kept": len(linked), "url": b.set.URL}))
	})
}

// GroupNames connects with set (the stored bind password when password
// is empty) and lists the names of every group under its groups base, for
// an admin to choose the groups to sync from.
func (s *Service) GroupNames(ctx context.Context, name string, set Settings, password string) ([]string, error) {
	set, err := set.Validate()
	if err != nil {
		return nil, err
	}
	if set.GroupsBase == "" {
		return nil, fieldErr("groups_base", "give the base DN of the groups to list them")
	}
	if password == "" && name == "" {
		return nil, fieldErr("password", "type the bind password, so that the portal can read the directory's groups")
	}
	if password == "" {
		if _, _, password, err = s.load(ctx, name); err != nil {
			return nil, err
		}
	}
	conn, err := connect(ctx, set, password)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	seen := map[string]bool{}
	var out []string
	err = pagedSearch(ctx, conn, set.GroupsBase, set.Mapping.GroupFilter, []string{set.Mapping.GroupName}, groupPageSize, func(e *ldap.Entry) error {
		if n := e.GetAttributeValue(set.Mapping.GroupName); n != "" && !seen[strings.ToLower(n)] {
			seen[strings.ToLower(n)] = true
			out = append(out, n)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out, err
}

// OpenConflict is a directory user held back because a user the directory
// did not create has the username, until an admin links the two or
// renames the other user.
type OpenConflict struct {
	Conflict
	// UserKey is the key of the user who has the username.
	UserKey string
}

// ErrNotAConflict is returned when linking or renaming for a conflict
// that is not (or no longer) open.
var ErrNotAConflict = errors.New("directory: that is not an open conflict of this directory")

// ErrUsernameTaken is returned when renaming to a username another user has.
var ErrUsernameTaken = errors.New("directory: another user has that username")

// Conflicts lists the open conflicts: those the newest finished run found
// that no link or rename has settled since.
func (s *Service) Conflicts(ctx context.Context, name string) ([]OpenConflict, error) {
	d, err := s.Store.DirectoryByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.openConflicts(ctx, s.Store, d)
}

func (s *Service) openConflicts(ctx context.Context, q Reads, d store.Directory) ([]OpenConflict, error) {
	runs, err := q.DirectoryRuns(ctx, d.ID, 20)
	if err != nil {
		return nil, err
	}
	var found []Conflict
	for _, r := range runs {
		if r.Status != statusRunning {
			found = runOf(r).Figures.UsernameConflicts
			break
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	linked, err := q.DirectoryUsers(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, du := range linked {
		taken[du.StableID] = true
	}
	var out []OpenConflict
	for _, c := range found {
		if taken[c.StableID] {
			continue
		}
		u, err := q.UserByUsername(ctx, c.Username)
		if errors.Is(err, store.ErrNotFound) {
			continue // renamed or deleted: the next sync creates the user
		}
		if err != nil {
			return nil, err
		}
		out = append(out, OpenConflict{Conflict: c, UserKey: u.Key})
	}
	return out, nil
}

// findOpen returns the open conflict for username and stable id.
func (s *Service) findOpen(ctx context.Context, q store.Queries, name, username, stableID string) (store.Directory, OpenConflict, error) {
	d, err := q.DirectoryByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return d, OpenConflict{}, ErrNotFound
	}
	if err != nil {
		return d, OpenConflict{}, err
	}
	open, err := s.openConflicts(ctx, q, d)
	if err != nil {
		return d, OpenConflict{}, err
	}
	for _, c := range open {
		if c.Username == username && c.StableID == stableID {
			return d, c, nil
		}
	}
	return d, OpenConflict{}, ErrNotAConflict
}

// Link settles a conflict by adopting the user who has the username into
// the directory: from the next sync on the directory keeps the user (name,
// email, phones, groups, and removal to the trash when the entry leaves),
// devices and all. A user another directory created cannot be adopted.
func (s *Service) Link(ctx context.Context, name, username, stableID string, who audit.Who) error {
	now := s.Clock.Now()
	return s.Store.InTx(ctx, func(q store.Queries) error {
		d, c, err := s.findOpen(ctx, q, name, username, stableID)
		if err != nil {
			return err
		}
		u, err := q.UserByUsername(ctx, c.Username)
		if err != nil {
			return err
		}
		if err := q.LinkDirectoryUser(ctx, d.ID, c.StableID, u.ID); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return ErrNotAConflict
			}
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, actionUserLinked, audit.TargetUser, u.Username,
			map[string]any{"directory": name, "stable_id": c.StableID}))
	})
}

// RenameOther settles a conflict by renaming the user who has the
// username to newUsername; the next sync creates the directory's user.
func (s *Service) RenameOther(ctx context.Context, name, username, stableID, newUsername string, who audit.Who) error {
	newUsername = users.Normalize(strings.TrimSpace(newUsername))
	if err := users.ValidateUsername(newUsername); err != nil {
		return fieldErr("new_username", "%s", err.Error())
	}
	now := s.Clock.Now()
	return s.Store.InTx(ctx, func(q store.Queries) error {
		_, c, err := s.findOpen(ctx, q, name, username, stableID)
		if err != nil {
			return err
		}
		if _, err := q.UserByUsername(ctx, newUsername); err == nil {
			return ErrUsernameTaken
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		u, err := q.UserByUsername(ctx, c.Username)
		if err != nil {
			return err
		}
		u.Username, u.UpdatedAt = newUsername, now
		if err := q.UpdateUserProfile(ctx, u, false); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return ErrUsernameTaken
			}
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.UserUpdated, audit.TargetUser, c.Username,
			map[string]any{"username": newUsername, "reason": "the username of a user of directory " + name}))
	})
}

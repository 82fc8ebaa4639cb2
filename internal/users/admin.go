package users

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

// Limits of what an admin may type into a user's or a group's fields.
const (
	MaxRealNameLength         = 200
	MaxNotesLength            = 2000
	MaxGroupNameLength        = 100
	MaxGroupDescriptionLength = 200
)

// Problems with an admin's form, each a sentence fragment a page can show
// (capitalised, with a full stop).
var (
	ErrRealNameTooLong    = errors.New("a real name is at most 200 characters")
	ErrNotesTooLong       = errors.New("notes are at most 2000 characters")
	ErrStatusChoice       = errors.New("choose one of the statuses")
	ErrNotLockedOut       = errors.New("the user is not locked out")
	ErrGroupName          = errors.New("a group name is 1 to 100 characters")
	ErrGroupDescription   = errors.New("a description is at most 200 characters")
	ErrGroupNameTaken     = errors.New("a group with that name already exists")
	ErrGroupAlreadyGone   = errors.New("that group was already deleted")
	errUnknownGroupChoice = store.ErrNotFound
)

// Form is an admin's add or edit of a user, as read from the page (trimmed).
type Form struct {
	// Username is read for a new user only, normalized.
	Username string
	RealName string
	Email    string
	Notes    string
	Status   string
	// Groups are the keys of the groups the user is to be in, exactly.
	Groups []string
}

// Check tells what is wrong with f, by field (username, email, realname,
// notes, status). isNew is an add; current is the status of the user being
// edited: locked_out may be kept, never chosen.
func (f Form) Check(isNew bool, current string) map[string]error {
	problems := map[string]error{}
	if isNew {
		if err := ValidateUsername(f.Username); err != nil {
			problems["username"] = err
		}
	}
	if err := ValidateEmail(f.Email); err != nil {
		problems["email"] = err
	}
	if err := text.Check("real name", f.RealName); err != nil {
		problems["realname"] = err
	} else if utf8.RuneCountInString(f.RealName) > MaxRealNameLength {
		problems["realname"] = ErrRealNameTooLong
	}
	if err := text.Check("notes", f.Notes); err != nil {
		problems["notes"] = err
	} else if utf8.RuneCountInString(f.Notes) > MaxNotesLength {
		problems["notes"] = ErrNotesTooLong
	}
	ok := f.Status == store.StatusActive || f.Status == store.StatusBypass || f.Status == store.StatusDisabled ||
		(f.Status == store.StatusLockedOut && current == store.StatusLockedOut)
	if !ok {
		problems["status"] = ErrStatusChoice
	}
	return problems
}

// ResetsFailures is the rule on failed attempts when an admin, an import or
// a bulk enrollment writes a user: the count of wrong codes starts again from zero, unless the
// user is (still) locked out, where the count that locked them stays until
// an unlock.
func ResetsFailures(status string) bool { return status != store.StatusLockedOut }

// Add creates the user of f with their groups and the audit records, in one
// transaction. ErrUsernameTaken when the username is in use; a validation
// error of Prepare otherwise; store.ErrNotFound when a chosen group is gone.
func (s *Service) Add(ctx context.Context, f Form, who audit.Who) (store.User, error) {
	u, err := Prepare(NewUser{Username: f.Username, Email: f.Email, RealName: f.RealName}, s.Clock.Now())
	if err != nil {
		return u, err
	}
	u.Notes, u.Status = f.Notes, f.Status
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		if err := Insert(ctx, q, &u, who); err != nil {
			return err
		}
		return setGroupsTx(ctx, q, u, f.Groups, s.Clock.Now(), who)
	})
	return u, err
}

// Edit saves an admin's changes to u's details, status and groups, with an
// audit record naming what changed and one per group change, in one
// transaction. store.ErrNotFound when a chosen group is gone.
func (s *Service) Edit(ctx context.Context, u store.User, f Form, who audit.Who) error {
	changed := map[string]any{}
	if f.RealName != u.RealName {
		changed["realname"] = f.RealName
	}
	if f.Email != u.Email {
		changed["email"] = f.Email
	}
	if f.Notes != u.Notes {
		changed["notes"] = "changed"
	}
	if f.Status != u.Status {
		changed["status"] = f.Status
	}
	next := u
	next.RealName, next.Email, next.Notes, next.Status, next.UpdatedAt = f.RealName, f.Email, f.Notes, f.Status, s.Clock.Now()
	return s.Store.InTx(ctx, func(q store.Queries) error {
		if len(changed) > 0 {
			if err := q.UpdateUser(ctx, next, ResetsFailures(next.Status)); err != nil {
				return err
			}
			if err := q.InsertAudit(ctx, audit.Entry(next.UpdatedAt, who, audit.UserUpdated, audit.TargetUser, u.Username, changed)); err != nil {
				return err
			}
		}
		return setGroupsTx(ctx, q, u, f.Groups, next.UpdatedAt, who)
	})
}

// setGroupsTx makes u a member of exactly the groups keyed in keys, with an
// audit record for each change, walking the groups in their listed order.
func setGroupsTx(ctx context.Context, q store.Queries, u store.User, keys []string, now time.Time, who audit.Who) error {
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	all, err := q.Groups(ctx)
	if err != nil {
		return err
	}
	var current []store.Group
	if u.ID != 0 {
		if current, err = q.GroupsOfUser(ctx, u.ID); err != nil {
			return err
		}
	}
	in := map[int64]bool{}
	for _, g := range current {
		in[g.ID] = true
	}
	for _, g := range all {
		checked := want[g.Key]
		delete(want, g.Key)
		if checked == in[g.ID] {
			continue
		}
		action := audit.UserGroupAdded
		if checked {
			err = q.AddUserToGroup(ctx, u.ID, g.ID)
		} else {
			action = audit.UserGroupRemoved
			err = q.RemoveUserFromGroup(ctx, u.ID, g.ID)
		}
		if err != nil {
			return err
		}
		if err := q.InsertAudit(ctx, audit.Entry(now, who, action, audit.TargetUser, u.Username, map[string]any{"group": g.Name})); err != nil {
			return err
		}
	}
	if len(want) > 0 {
		return errUnknownGroupChoice
	}
	return nil
}

// Delete removes u with their devices, links and memberships, and records
// it. A user already gone is not an error.
func (s *Service) Delete(ctx context.Context, u store.User, who audit.Who) error {
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.Clock.Now(), who, audit.UserDeleted, audit.TargetUser, u.Username,
			map[string]any{"email": u.Email, "key": u.Key}))
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// Unlock lets a locked-out user sign in again (status active), and records
// it. ErrNotLockedOut, changing nothing, for any other status.
func (s *Service) Unlock(ctx context.Context, u store.User, who audit.Who) error {
	if u.Status != store.StatusLockedOut {
		return ErrNotLockedOut
	}
	now := s.Clock.Now()
	return s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.SetUserStatus(ctx, u.ID, store.StatusActive, ResetsFailures(store.StatusActive), now); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.UserUnlocked, audit.TargetUser, u.Username, nil))
	})
}

// CheckGroup tells what is wrong with a new group's name and description,
// by field (name, description).
func CheckGroup(name, description string) map[string]error {
	problems := map[string]error{}
	if err := text.Check("group name", name); err != nil {
		problems["name"] = err
	} else if n := utf8.RuneCountInString(name); n == 0 || n > MaxGroupNameLength {
		problems["name"] = ErrGroupName
	}
	if err := text.Check("description", description); err != nil {
		problems["description"] = err
	} else if utf8.RuneCountInString(description) > MaxGroupDescriptionLength {
		problems["description"] = ErrGroupDescription
	}
	return problems
}

// CreateGroup creates a group and records it. ErrGroupNameTaken when the
// name is in use.
func (s *Service) CreateGroup(ctx context.Context, name, description string, who audit.Who) (store.Group, error) {
	g := store.Group{Key: secret.NewID("DG", 20), Name: name, Description: description, CreatedAt: s.Clock.Now()}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateGroup(ctx, &g); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(g.CreatedAt, who, audit.GroupCreated, audit.TargetGroup, g.Name, nil))
	})
	if errors.Is(err, store.ErrConflict) {
		return g, ErrGroupNameTaken
	}
	return g, err
}

// DeleteGroup deletes the group keyed key and records how many members it
// had; the members stay, without it. ErrGroupAlreadyGone when there is no
// such group.
func (s *Service) DeleteGroup(ctx context.Context, key string, who audit.Who) (store.Group, error) {
	g, err := s.Store.GroupByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return g, ErrGroupAlreadyGone
	}
	if err != nil {
		return g, err
	}
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		n, err := q.CountGroupMembers(ctx, g.ID)
		if err != nil {
			return err
		}
		if err := q.DeleteGroup(ctx, g.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.Clock.Now(), who, audit.GroupDeleted, audit.TargetGroup, g.Name, map[string]any{"members": n}))
	})
	if errors.Is(err, store.ErrNotFound) {
		return g, nil
	}
	return g, err
}

package users

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

// MaxBulkCreate is how many users one bulk create may hold: enough for an
// HR feed's batch, small enough that its one transaction stays short.
const MaxBulkCreate = 100

// Problems with a profile written through the Admin API.
var (
	ErrAliasInvalid = errors.New("an alias is 1 to 100 characters: letters, digits and . _ @ - + only")
	ErrAliasTaken   = errors.New("an alias is already another user's alias, or repeated")
	ErrNameTooLong  = errors.New("a first or last name is at most 200 characters")
	ErrStatusValue  = errors.New("status must be active, bypass or disabled")
	ErrTooMany      = fmt.Errorf("at most %d users may be created in one call", MaxBulkCreate)
)

// Profile is every field of a user that the Admin API writes: what Duo's
// user object carries. Usernames and aliases are normalized by Check.
type Profile struct {
	Username, RealName, FirstName, LastName, Email, Notes, Status string
	// Aliases are alias1..alias4; "" for none.
	Aliases [4]string
}

// Check normalizes p and tells the first thing wrong with it, as a sentence.
// current is the user's status today ("" for a new user): locked_out may be
// kept, never chosen.
func (p *Profile) Check(current string) error {
	p.Username = Normalize(p.Username)
	p.Email = strings.TrimSpace(p.Email)
	if err := ValidateUsername(p.Username); err != nil {
		return err
	}
	if err := ValidateEmail(p.Email); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"real name", p.RealName}, {"first name", p.FirstName}, {"last name", p.LastName}, {"notes", p.Notes},
	} {
		if err := text.Check(f.name, f.v); err != nil {
			return err
		}
	}
	if utf8.RuneCountInString(p.RealName) > MaxRealNameLength {
		return ErrRealNameTooLong
	}
	if utf8.RuneCountInString(p.FirstName) > MaxRealNameLength || utf8.RuneCountInString(p.LastName) > MaxRealNameLength {
		return ErrNameTooLong
	}
	if utf8.RuneCountInString(p.Notes) > MaxNotesLength {
		return ErrNotesTooLong
	}
	switch p.Status {
	case store.StatusActive, store.StatusBypass, store.StatusDisabled:
	case store.StatusLockedOut:
		if current != store.StatusLockedOut {
			return ErrStatusValue
		}
	default:
		return ErrStatusValue
	}
	seen := map[string]bool{}
	for i, a := range p.Aliases {
		if a == "" {
			continue
		}
		a = Normalize(a)
		if ValidateUsername(a) != nil {
			return ErrAliasInvalid
		}
		if seen[a] {
			return ErrAliasTaken
		}
		seen[a] = true
		p.Aliases[i] = a
	}
	return nil
}

// ProfileOf is the profile of a stored user and its aliases.
func ProfileOf(u store.APIUser) Profile {
	return Profile{Username: u.Username, RealName: u.RealName, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, Notes: u.Notes, Status: u.Status, Aliases: u.Aliases}
}

// ProfileError is a problem with the n-th profile of a bulk create.
type ProfileError struct {
	Index int
	Err   error
}

func (e *ProfileError) Error() string { return fmt.Sprintf("user %d: %s", e.Index+1, e.Err) }
func (e *ProfileError) Unwrap() error { return e.Err }

// CreateProfiles checks every profile, then creates the users with their
// aliases and audit records in one transaction: all or none. A problem
// comes back as a *ProfileError naming the profile.
func (s *Service) CreateProfiles(ctx context.Context, ps []Profile, who audit.Who) ([]store.User, error) {
	if len(ps) > MaxBulkCreate {
		return nil, ErrTooMany
	}
	now := s.Clock.Now()
	out := make([]store.User, len(ps))
	for i := range ps {
		if err := ps[i].Check(""); err != nil {
			return nil, &ProfileError{Index: i, Err: err}
		}
		p := ps[i]
		out[i] = store.User{
			Key: secret.NewID("DU", 20), Username: p.Username, RealName: p.RealName, FirstName: p.FirstName,
			LastName: p.LastName, Email: p.Email, Notes: p.Notes, Status: p.Status, CreatedAt: now, UpdatedAt: now,
		}
	}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		for i := range out {
			if err := Insert(ctx, q, &out[i], who); err != nil {
				return &ProfileError{Index: i, Err: err}
			}
			if ps[i].Aliases == [4]string{} {
				continue
			}
			if err := q.SetUserAliases(ctx, out[i].ID, ps[i].Aliases); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return &ProfileError{Index: i, Err: ErrAliasTaken}
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateProfile writes p over u, with an audit record naming what changed,
// in one transaction. ErrUsernameTaken or ErrAliasTaken on a clash.
func (s *Service) UpdateProfile(ctx context.Context, u store.APIUser, p Profile, who audit.Who) error {
	if err := p.Check(u.Status); err != nil {
		return err
	}
	old := ProfileOf(u)
	changed := map[string]any{}
	for _, f := range []struct{ name, was, is string }{
		{"username", old.Username, p.Username}, {"realname", old.RealName, p.RealName},
		{"firstname", old.FirstName, p.FirstName}, {"lastname", old.LastName, p.LastName},
		{"email", old.Email, p.Email}, {"status", old.Status, p.Status},
	} {
		if f.was != f.is {
			changed[f.name] = f.is
		}
	}
	if old.Notes != p.Notes {
		changed["notes"] = "changed"
	}
	if old.Aliases != p.Aliases {
		changed["aliases"] = p.Aliases
	}
	if len(changed) == 0 {
		return nil
	}
	next := u.User
	next.Username, next.RealName, next.FirstName, next.LastName = p.Username, p.RealName, p.FirstName, p.LastName
	next.Email, next.Notes, next.Status, next.UpdatedAt = p.Email, p.Notes, p.Status, s.Clock.Now()
	return s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.UpdateUserProfile(ctx, next, ResetsFailures(next.Status)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return ErrUsernameTaken
			}
			return err
		}
		if old.Aliases != p.Aliases {
			if err := q.SetUserAliases(ctx, u.ID, p.Aliases); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return ErrAliasTaken
				}
				return err
			}
		}
		return q.InsertAudit(ctx, audit.Entry(next.UpdatedAt, who, audit.UserUpdated, audit.TargetUser, old.Username, changed))
	})
}

// Errors of group memberships.
var (
	ErrAlreadyMember = errors.New("the user is already in that group")
	ErrNotMember     = errors.New("the user is not in that group")
)

// JoinGroup adds u to g with its audit record.
func (s *Service) JoinGroup(ctx context.Context, u store.User, g store.Group, who audit.Who) error {
	return s.Store.InTx(ctx, func(q store.Queries) error {
		in, err := q.UserInGroup(ctx, u.ID, g.ID)
		if err != nil {
			return err
		}
		if in {
			return nil // as Duo answers: adding twice is not an error
		}
		if err := q.AddUserToGroup(ctx, u.ID, g.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.Clock.Now(), who, audit.UserGroupAdded, audit.TargetUser, u.Username,
			map[string]any{"group": g.Name}))
	})
}

// LeaveGroup takes u out of g with its audit record; a user not in the
// group is left as is.
func (s *Service) LeaveGroup(ctx context.Context, u store.User, g store.Group, who audit.Who) error {
	return s.Store.InTx(ctx, func(q store.Queries) error {
		in, err := q.UserInGroup(ctx, u.ID, g.ID)
		if err != nil || !in {
			return err
		}
		if err := q.RemoveUserFromGroup(ctx, u.ID, g.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.Clock.Now(), who, audit.UserGroupRemoved, audit.TargetUser, u.Username,
			map[string]any{"group": g.Name}))
	})
}

// UpdateGroup renames g and sets its description, with an audit record.
// ErrGroupNameTaken when the name is another group's.
func (s *Service) UpdateGroup(ctx context.Context, g store.Group, name, description string, who audit.Who) (store.Group, error) {
	if problems := CheckGroup(name, description); len(problems) > 0 {
		if err := problems["name"]; err != nil {
			return g, err
		}
		return g, problems["description"]
	}
	next := g
	next.Name, next.Description = name, description
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.UpdateGroup(ctx, next); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.Clock.Now(), who, audit.GroupUpdated, audit.TargetGroup, g.Name,
			map[string]any{"name": name, "description": description}))
	})
	if errors.Is(err, store.ErrConflict) {
		return g, ErrGroupNameTaken
	}
	return next, err
}

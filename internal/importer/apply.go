package importer

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// LineConflictError is a line that the database refused while applying
// (another admin changed the same users between the check and the apply).
// Nothing was applied.
type LineConflictError struct {
	Line   int
	Reason string
}

func (e *LineConflictError) Error() string {
	return fmt.Sprintf("importer: line %d: %s", e.Line, e.Reason)
}

// applier is the second pass, inside the one transaction.
type applier struct {
	q      store.Queries
	who    audit.Who
	sum    *Summary
	groups map[string]int64
	phones map[string]int64 // number#extension -> phone id
}

func phoneKey(number, ext string) string { return number + "#" + ext }

// apply runs the plan in one transaction.
func (s *Service) apply(ctx context.Context, plan *gob.Decoder, sum *Summary, who audit.Who) error {
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(q store.Queries) error {
		a := &applier{q: q, who: who, sum: sum, groups: map[string]int64{}, phones: map[string]int64{}}
		sum.NewPhones = 0
		groups, err := q.Groups(ctx)
		if err != nil {
			return err
		}
		for _, g := range groups {
			a.groups[g.Name] = g.ID
		}
		if sum.Phones > 0 {
			err := q.EachPhoneNumber(ctx, func(id int64, number, ext string) error {
				if _, ok := a.phones[phoneKey(number, ext)]; !ok {
					a.phones[phoneKey(number, ext)] = id
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		for {
			var row planRow
			if err := plan.Decode(&row); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("importer: plan file: %w", err)
			}
			if err := a.row(ctx, row, now); err != nil {
				return err
			}
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.ImportApplied, audit.TargetImport, string(sum.Mode),
			map[string]any{"rows": sum.Rows, "created": sum.Create, "updated": sum.Update, "deleted": sum.Delete,
				"new_phones": sum.NewPhones, "new_groups": len(sum.NewGroups)}))
	})
	if err != nil {
		var lc *LineConflictError
		if errors.As(err, &lc) {
			return err
		}
		return fmt.Errorf("importer: apply: %w", err)
	}
	return nil
}

// row applies one planned line.
func (a *applier) row(ctx context.Context, row planRow, now time.Time) error {
	q := a.q
	conflict := func(reason string) error { return &LineConflictError{Line: row.Line, Reason: reason} }
	if row.Delete {
		u, err := q.UserByID(ctx, row.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return conflict(fmt.Sprintf("the user %s no longer exists", row.Username))
		}
		if err != nil {
			return err
		}
		if err := q.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, a.who, audit.UserDeleted, audit.TargetUser, u.Username,
			map[string]any{"by": "import", "line": row.Line}))
	}

	var u store.User
	details := map[string]any{"by": "import", "line": row.Line}
	if row.UserID == 0 {
		var err error
		u, err = users.Prepare(users.NewUser{Username: row.Username, Email: row.Email, RealName: row.RealName}, now)
		if err != nil {
			return conflict(err.Error())
		}
		u.Notes = row.Notes
		if row.HasStatus {
			u.Status = row.Status
		}
		if err := users.Insert(ctx, q, &u, a.who); err != nil {
			if errors.Is(err, users.ErrUsernameTaken) {
				return conflict(fmt.Sprintf("a user %s was created meanwhile", row.Username))
			}
			return err
		}
	} else {
		var err error
		u, err = q.UserByID(ctx, row.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return conflict(fmt.Sprintf("the user %s was deleted meanwhile", row.Username))
		}
		if err != nil {
			return err
		}
		changed := []string{}
		set := func(name string, has bool, dst *string, v string) {
			if has && *dst != v {
				*dst = v
				changed = append(changed, name)
			}
		}
		set("realname", row.HasRealName, &u.RealName, row.RealName)
		set("email", row.HasEmail, &u.Email, row.Email)
		set("notes", row.HasNotes, &u.Notes, row.Notes)
		set("status", row.HasStatus, &u.Status, row.Status)
		if len(changed) > 0 {
			u.UpdatedAt = now
			if err := q.UpdateUser(ctx, u); err != nil {
				return err
			}
			details["changed"] = changed
		}
	}
	for i, alias := range row.Aliases {
		if !row.HasAlias[i] {
			continue
		}
		if err := q.SetUserAlias(ctx, u.ID, i+1, alias); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return conflict(fmt.Sprintf("alias%d %s was taken meanwhile", i+1, alias))
			}
			return err
		}
		details[fmt.Sprintf("alias%d", i+1)] = alias
	}
	var added []string
	for _, p := range row.Phones {
		id, err := a.phone(ctx, u, p, now)
		if err != nil {
			return err
		}
		if id == 0 {
			continue
		}
		if err := q.AttachPhone(ctx, u.ID, id); err != nil {
			return err
		}
		added = append(added, p.Number+p.Type)
	}
	if len(added) > 0 {
		details["phones"] = len(added)
	}
	for _, g := range row.Groups {
		id, ok := a.groups[g]
		if !ok {
			grp := store.Group{Key: secret.NewID("DG", 20), Name: g, CreatedAt: now}
			if err := q.CreateGroup(ctx, &grp); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return conflict(fmt.Sprintf("group %s was created meanwhile; try again", g))
				}
				return err
			}
			if err := q.InsertAudit(ctx, audit.Entry(now, a.who, audit.GroupCreated, audit.TargetGroup, g,
				map[string]any{"by": "import"})); err != nil {
				return err
			}
			id = grp.ID
			a.groups[g] = id
		}
		if err := q.AddUserToGroup(ctx, u.ID, id); err != nil {
			return err
		}
	}
	if len(row.Groups) > 0 {
		details["groups"] = row.Groups
	}
	for _, t := range row.Tokens {
		if err := q.AssignHardwareToken(ctx, t, u.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return conflict("a hardware token was deleted meanwhile")
			}
			return err
		}
	}
	if len(row.Tokens) > 0 {
		details["tokens"] = len(row.Tokens)
	}
	if row.UserID != 0 && len(details) > 2 {
		return q.InsertAudit(ctx, audit.Entry(now, a.who, audit.UserUpdated, audit.TargetUser, u.Username, details))
	}
	return nil
}

// phone finds or creates the phone of p and returns its id; 0 when the user
// already has such a tablet.
func (a *applier) phone(ctx context.Context, u store.User, p planPhone, now time.Time) (int64, error) {
	if p.Type == store.PhoneTablet {
		// Tablets have no number to match on: one tablet per platform per
		// user, so that importing the same file twice adds nothing.
		phones, err := a.q.PhonesByUser(ctx, u.ID)
		if err != nil {
			return 0, err
		}
		for _, ph := range phones {
			if ph.Type == store.PhoneTablet && ph.Platform == p.Platform {
				return 0, nil
			}
		}
	} else if id, ok := a.phones[phoneKey(p.Number, p.Extension)]; ok {
		if p.TypeGiven || p.PlatformGiven {
			ph, err := a.q.PhoneByID(ctx, id)
			if err != nil {
				return 0, err
			}
			before := ph
			if p.TypeGiven {
				ph.Type = p.Type
			}
			if p.PlatformGiven {
				ph.Platform = p.Platform
			}
			if ph.Type != before.Type || ph.Platform != before.Platform {
				if err := a.q.UpdatePhoneDetails(ctx, ph); err != nil {
					return 0, err
				}
			}
		}
		return id, nil
	}
	ph := store.Phone{
		Key: secret.NewID("DP", 20), Number: p.Number, Extension: p.Extension,
		Type: p.Type, Platform: p.Platform, CreatedAt: now,
	}
	if err := a.q.CreatePhone(ctx, &ph); err != nil {
		return 0, err
	}
	a.sum.NewPhones++
	if ph.Number != "" {
		a.phones[phoneKey(ph.Number, ph.Extension)] = ph.ID
	}
	return ph.ID, nil
}

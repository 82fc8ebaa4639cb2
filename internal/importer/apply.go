package importer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/jobs"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// LineConflictError is a line that the database refused while applying
// (another admin changed the same users between the check and the apply).
// The step that met it is rolled back and the job goes on without the line
// (see jobs.RowError).
type LineConflictError = jobs.RowError

// applyBatch is how many planned lines one step writes, in one transaction:
// new users and new phones go in multi-row INSERTs (store.BulkQueries),
// which costs far less than a statement a row; everything else stays a
// statement a row. 250 lines keep a step to a few tens of milliseconds.
const applyBatch = 250

// applyChunk is how many lines a step writes before it looks whether logins
// wait for the write lock it holds: a login's write (the audit record of an
// unknown name) would otherwise wait for a whole step, and on a busy 2-core
// machine a step of 250 lines took 50 to 110 ms (bench/duo
// BenchmarkPreauthDuringImport).
const applyChunk = 50

// writeWaiter is the database's word on whether writes of the login path
// are queued behind the transaction in progress (sqlite.DB: the callers of
// the group commit).
type writeWaiter interface {
	GroupWritesWaiting() bool
}

// yieldToLogins tells a step to commit what it has and let the logins'
// writes go first; the job goes on with the next step right after them.
func (s *Service) yieldToLogins() bool {
	w, ok := s.store.(writeWaiter)
	return ok && w.GroupWritesWaiting()
}

// applier is the second pass. It keeps the indexes of groups and phone
// numbers between steps; q is the transaction of the current step.
type applier struct {
	q      store.Queries
	who    audit.Who
	sum    *Summary
	groups map[string]int64
	phones map[string]int64 // number#extension -> phone id

	// Per batch: phones to create, and user-phone links to them.
	newPhones map[string]*store.Phone // number#extension (or a tablet's key) -> phone
	newOrder  []*store.Phone
	newLinks  map[[2]string]bool // (user key, phone key) already linked
	linkPairs []pendingLink
	// Group memberships of the batch, written together.
	memberships [][2]int64
}

// pendingLink is a link from a user to a phone created in the same batch.
type pendingLink struct {
	userID int64
	phone  *store.Phone
}

// batch applies planned lines: the new users first (one multi-row INSERT
// and an audit record each, as users.Insert writes), then every line in
// order, then the batch's new phones and their links.
func (a *applier) batch(ctx context.Context, rows []planRow, now time.Time) error {
	var created []*store.User
	var createdLines []int
	newUsers := make(map[int]*store.User, len(rows)) // index in rows -> new user
	for i, row := range rows {
		if row.Delete || row.UserID != 0 {
			continue
		}
		u, err := users.Prepare(users.NewUser{Username: row.Username, Email: row.Email, RealName: row.RealName}, now)
		if err != nil {
			return &LineConflictError{Line: row.Line, Reason: err.Error()}
		}
		u.Notes = row.Notes
		if row.HasStatus {
			u.Status = row.Status
		}
		u.Key = secret.NewID("DU", 20)
		newUsers[i] = &u
		created = append(created, &u)
		createdLines = append(createdLines, row.Line)
	}
	if len(created) > 0 {
		if err := a.q.CreateUsers(ctx, created); err != nil {
			if errors.Is(err, store.ErrConflict) {
				// Only that statement failed; find the line whose username
				// someone created meanwhile.
				for i, u := range created {
					if _, err := a.q.UserByUsername(ctx, u.Username); err == nil {
						return &LineConflictError{Line: createdLines[i], Reason: fmt.Sprintf("a user %s was created meanwhile", u.Username)}
					}
				}
				return &LineConflictError{Line: createdLines[0], Reason: "a username was taken meanwhile"}
			}
			return err
		}
		entries := make([]store.AuditEntry, 0, len(created))
		for _, u := range created {
			entries = append(entries, audit.Entry(now, a.who, audit.UserCreated, audit.TargetUser, u.Username,
				map[string]any{"email": u.Email}))
		}
		if err := a.q.InsertAudits(ctx, entries); err != nil {
			return err
		}
	}
	a.newPhones, a.newOrder, a.newLinks, a.linkPairs, a.memberships = map[string]*store.Phone{}, nil, map[[2]string]bool{}, nil, nil
	for i, row := range rows {
		if err := a.row(ctx, row, newUsers[i], now); err != nil {
			return err
		}
	}
	if len(a.memberships) > 0 {
		if err := a.q.AddUsersToGroups(ctx, a.memberships); err != nil {
			return err
		}
	}
	if len(a.newOrder) > 0 {
		if err := a.q.CreatePhones(ctx, a.newOrder); err != nil {
			return err
		}
		pairs := make([][2]int64, 0, len(a.linkPairs))
		for _, l := range a.linkPairs {
			pairs = append(pairs, [2]int64{l.userID, l.phone.ID})
		}
		if err := a.q.AttachPhones(ctx, pairs); err != nil {
			return err
		}
		for _, p := range a.newOrder {
			if p.Number != "" {
				a.phones[phoneKey(p.Number, p.Extension)] = p.ID
			}
		}
		a.sum.NewPhones += len(a.newOrder)
	}
	return nil
}

func phoneKey(number, ext string) string { return number + "#" + ext }

// row applies one planned line.
func (a *applier) row(ctx context.Context, row planRow, newUser *store.User, now time.Time) error {
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
		u = *newUser
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
			if err := q.UpdateUser(ctx, u, users.ResetsFailures(u.Status)); err != nil {
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
		id, pending, err := a.phone(ctx, u, p, now)
		if err != nil {
			return err
		}
		switch {
		case pending != nil:
			// A phone created with this batch: linked once it has an id.
			if k := [2]string{u.Key, pending.Key}; !a.newLinks[k] {
				a.newLinks[k] = true
				a.linkPairs = append(a.linkPairs, pendingLink{userID: u.ID, phone: pending})
			}
		case id != 0:
			if err := q.AttachPhone(ctx, u.ID, id); err != nil {
				return err
			}
		default:
			continue
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
		a.memberships = append(a.memberships, [2]int64{u.ID, id})
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

// phone finds the phone of p (its id), or the phone this batch creates for
// it (pending); both zero when the user already has such a tablet.
func (a *applier) phone(ctx context.Context, u store.User, p planPhone, now time.Time) (int64, *store.Phone, error) {
	if p.Type == store.PhoneTablet {
		// Tablets have no number to match on: one tablet per platform per
		// user, so that importing the same file twice adds nothing.
		phones, err := a.q.PhonesByUser(ctx, u.ID)
		if err != nil {
			return 0, nil, err
		}
		for _, ph := range phones {
			if ph.Type == store.PhoneTablet && ph.Platform == p.Platform {
				return 0, nil, nil
			}
		}
	} else if id, ok := a.phones[phoneKey(p.Number, p.Extension)]; ok {
		if p.TypeGiven || p.PlatformGiven {
			ph, err := a.q.PhoneByID(ctx, id)
			if err != nil {
				return 0, nil, err
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
					return 0, nil, err
				}
			}
		}
		return id, nil, nil
	} else if pending, ok := a.newPhones[phoneKey(p.Number, p.Extension)]; ok {
		return 0, pending, nil
	}
	ph := &store.Phone{
		Key: secret.NewID("DP", 20), Number: p.Number, Extension: p.Extension,
		Type: p.Type, Platform: p.Platform, CreatedAt: now,
	}
	key := ph.Key // a tablet is its own
	if ph.Number != "" {
		key = phoneKey(ph.Number, ph.Extension)
	}
	a.newPhones[key] = ph
	a.newOrder = append(a.newOrder, ph)
	return 0, ph, nil
}

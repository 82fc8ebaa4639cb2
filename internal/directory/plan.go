package directory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"enrollportal/internal/store"
	"enrollportal/internal/text"
	"enrollportal/internal/users"
)

// TrashDays is how long a user who left the directory stays disabled in
// the trash, restorable, before being purged.
const TrashDays = 7

// phoneNumber is a number read from the directory, normalised.
type phoneNumber struct {
	e164, ext, kind string
}

func (p phoneNumber) key() string { return p.e164 + "#" + p.ext }

// userChange is what a run does to one user.
type userChange struct {
	e          *entry
	username   string
	realName   string
	email      string
	cur        *store.DirectoryUser // nil: a new user
	changed    []string
	status     string // the new status, "" when unchanged
	bySync     bool   // the status is the directory's doing
	restore    bool
	addGroups  []string // stable ids of groups
	dropGroups []int64
	phones     []phoneNumber
}

// plan is everything a run would write.
type plan struct {
	full      bool
	newGroups []groupEntry
	changes   []userChange
	leaving   []store.DirectoryUser
	purge     []store.DirectoryUser
	synced    int // users of the directory not in the trash
	disabling int // changes that disable an active user
	conflicts []string
	// userConflicts are the entries whose username a user the directory
	// did not create holds.
	userConflicts []Conflict
	invalid       []string
	cursor        string // the newest modifyTimestamp read
}

// writes is how many users the plan writes: created or updated, trashed
// and purged.
func (p *plan) writes() int { return len(p.changes) + len(p.leaving) + len(p.purge) }

// parsePhone normalises a number to E.164 with region as the default
// country; false when it is not a valid number (never guessed).
func parsePhone(raw, region string) (phoneNumber, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 40 {
		return phoneNumber{}, false
	}
	n, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return phoneNumber{}, false
	}
	// GetNumberType is UNKNOWN exactly when IsValidNumber is false (both
	// match the number against its region's patterns): one call instead
	// of the two, which were a tenth of a first sync's CPU.
	kind := phonenumbers.GetNumberType(n)
	if kind == phonenumbers.UNKNOWN {
		return phoneNumber{}, false
	}
	p := phoneNumber{e164: phonenumbers.Format(n, phonenumbers.E164), ext: n.GetExtension(), kind: store.PhoneMobile}
	if kind == phonenumbers.FIXED_LINE {
		p.kind = store.PhoneLandline
	}
	return p, true
}

// makePlan compares what the directory has with what the portal has.
func makePlan(ctx context.Context, q Reads, d store.Directory, set Settings, snap *snapshot, full bool, now time.Time) (*plan, error) {
	p := &plan{full: full}
	// A full comparison loads every user the directory has; an
	// incremental run only those of the entries it read (1,000 of 100,000
	// users: the whole table was two thirds of such a run's time), with
	// their phones and groups one user at a time below.
	var linked []store.DirectoryUser
	var err error
	if full {
		linked, err = q.DirectoryUsers(ctx, d.ID)
	} else {
		ids := make([]string, 0, len(snap.users))
		for id := range snap.users {
			ids = append(ids, id)
		}
		linked, err = q.DirectoryUsersByStableID(ctx, d.ID, ids)
	}
	if err != nil {
		return nil, err
	}
	byStable := make(map[string]*store.DirectoryUser, len(linked))
	for i := range linked {
		byStable[linked[i].StableID] = &linked[i]
		if full && linked[i].TrashedAt == nil {
			p.synced++
		}
	}
	if !full {
		if p.synced, err = q.CountDirectoryUsers(ctx, d.ID); err != nil {
			return nil, err
		}
	}
	names := map[string]int64{}
	if err := q.EachUserName(ctx, func(e store.UserNameIndexEntry) error {
		names[e.Name] = e.UserID
		return nil
	}); err != nil {
		return nil, err
	}
	dirGroups, err := q.DirectoryGroups(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	groupIDs := map[string]int64{}
	for _, g := range dirGroups {
		groupIDs[g.StableID] = g.GroupID
	}
	allGroups, err := q.Groups(ctx)
	if err != nil {
		return nil, err
	}
	groupNames := map[string]bool{}
	for _, g := range allGroups {
		groupNames[strings.ToLower(g.Name)] = true
	}
	blockedGroups := map[string]bool{}
	for _, g := range snap.groups {
		if _, ok := groupIDs[g.stableID]; ok {
			continue
		}
		if groupNames[strings.ToLower(g.name)] {
			p.conflicts = append(p.conflicts, fmt.Sprintf("group %s: a group of that name exists and was not created by this directory", g.name))
			blockedGroups[g.stableID] = true
			continue
		}
		p.newGroups = append(p.newGroups, g)
	}
	members := map[int64]map[int64]bool{}
	phones := map[int64][]string{}
	if full {
		memberPairs, err := q.DirectoryMemberships(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range memberPairs {
			if members[m[0]] == nil {
				members[m[0]] = map[int64]bool{}
			}
			members[m[0]][m[1]] = true
		}
		if phones, err = q.DirectoryUserPhones(ctx, d.ID); err != nil {
			return nil, err
		}
	} else {
		for _, du := range linked {
			id := du.User.ID
			gs, err := q.GroupsOfUser(ctx, id)
			if err != nil {
				return nil, err
			}
			members[id] = map[int64]bool{}
			for _, g := range gs {
				members[id][g.ID] = true
			}
			ps, err := q.PhonesByUser(ctx, id)
			if err != nil {
				return nil, err
			}
			for _, ph := range ps {
				if ph.Number != "" {
					phones[id] = append(phones[id], ph.Number+"#"+ph.Extension)
				}
			}
		}
	}
	syncedGroup := map[int64]bool{}
	for _, g := range snap.groups {
		if id, ok := groupIDs[g.stableID]; ok {
			syncedGroup[id] = true
		}
	}

	for _, e := range snap.users {
		c := userChange{e: e, username: users.Normalize(e.username), realName: strings.TrimSpace(e.realName), email: strings.TrimSpace(e.email)}
		if err := users.ValidateUsername(c.username); err != nil {
			p.conflicts = append(p.conflicts, fmt.Sprintf("%s: %q is not a valid username; skipped", e.stableID, e.username))
			continue
		}
		if text.Check("real name", c.realName) != nil || len([]rune(c.realName)) > 200 {
			p.invalid = append(p.invalid, fmt.Sprintf("%s: the real name is not usable; left empty", c.username))
			c.realName = ""
		}
		if c.email != "" && users.ValidateEmail(c.email) != nil {
			p.invalid = append(p.invalid, fmt.Sprintf("%s: %q is not an email address; left empty", c.username, c.email))
			c.email = ""
		}
		c.cur = byStable[e.stableID]
		if holder, taken := names[c.username]; taken && (c.cur == nil || holder != c.cur.User.ID) {
			p.conflicts = append(p.conflicts, fmt.Sprintf("%s: the username is taken by a user this directory did not create; nothing was changed", c.username))
			p.userConflicts = append(p.userConflicts, Conflict{Username: c.username, StableID: e.stableID})
			continue
		}
		have := map[string]bool{}
		var curGroups map[int64]bool
		if c.cur != nil {
			for _, k := range phones[c.cur.User.ID] {
				have[k] = true
			}
			curGroups = members[c.cur.User.ID]
		}
		for _, raw := range e.phones {
			if strings.HasPrefix(raw, "+") && have[raw+"#"] {
				continue // already E.164 and already the user's: no parse needed
			}
			ph, ok := parsePhone(raw, set.DefaultCountry)
			if !ok {
				p.invalid = append(p.invalid, fmt.Sprintf("%s: %q is not a valid phone number; skipped", c.username, raw))
				continue
			}
			if !have[ph.key()] {
				have[ph.key()] = true
				c.phones = append(c.phones, ph)
			}
		}
		want := map[int64]bool{}
		for _, gi := range e.groups {
			gid := snap.groups[gi].stableID
			if blockedGroups[gid] {
				continue
			}
			if id, ok := groupIDs[gid]; ok {
				want[id] = true
				if !curGroups[id] {
					c.addGroups = append(c.addGroups, gid)
				}
			} else {
				c.addGroups = append(c.addGroups, gid)
			}
		}
		for id := range curGroups {
			if syncedGroup[id] && !want[id] {
				c.dropGroups = append(c.dropGroups, id)
			}
		}
		if c.cur == nil {
			if e.disabled {
				c.status, c.bySync = store.StatusDisabled, true
			}
			p.changes = append(p.changes, c)
			continue
		}
		u := c.cur.User
		diff := func(name, have, want string) {
			if have != want {
				c.changed = append(c.changed, name)
			}
		}
		diff("username", u.Username, c.username)
		diff("realname", u.RealName, c.realName)
		diff("email", u.Email, c.email)
		switch {
		case c.cur.TrashedAt != nil:
			c.restore = true
			c.status = store.StatusActive
			if e.disabled {
				c.status, c.bySync = store.StatusDisabled, true
			}
		case e.disabled && u.Status != store.StatusDisabled:
			c.status, c.bySync = store.StatusDisabled, true
			p.disabling++
		case !e.disabled && u.Status == store.StatusDisabled && c.cur.DisabledBySync:
			c.status = store.StatusActive
		}
		if len(c.changed) > 0 || c.status != "" || len(c.addGroups) > 0 || len(c.dropGroups) > 0 || len(c.phones) > 0 {
			p.changes = append(p.changes, c)
		}
	}
	// Purges come with full comparisons (at least daily): an incremental
	// run's linked users are all entries it read, back from the trash.
	cutoff := now.Add(-TrashDays * 24 * time.Hour)
	for _, du := range linked {
		if du.TrashedAt != nil {
			if !du.TrashedAt.After(cutoff) {
				if _, back := snap.users[du.StableID]; !back {
					p.purge = append(p.purge, du)
				}
			}
			continue
		}
		if full {
			if _, present := snap.users[du.StableID]; !present && !snap.unusable[du.StableID] {
				p.leaving = append(p.leaving, du)
			}
		}
	}
	return p, nil
}

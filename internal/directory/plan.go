package directory

import (
	"context"
	"fmt"
	"slices"
	"sort"
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
	// stableID and stamp are the entry's: a change keeps no pointer to
	// the entry, so that the entries are garbage once planned.
	stableID   string
	stamp      string
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

// changeList holds a plan's changes in runs of chunkSize, the runs the
// writer writes: a first sync's 100,000 changes (20 MB) grow a run at a
// time while the entries they are made from are let go, where one slice
// was either allocated whole beside all the entries or grown by copying.
type changeList struct {
	runs [][]userChange
	n    int
}

func (l *changeList) add(c userChange) {
	if l.n%chunkSize == 0 {
		l.runs = append(l.runs, make([]userChange, 0, chunkSize))
	}
	last := &l.runs[len(l.runs)-1]
	*last = append(*last, c)
	l.n++
}

// run is the changes from..to, which lie in one run (the writer's chunks
// start at multiples of chunkSize).
func (l *changeList) run(from, to int) []userChange {
	r := l.runs[from/chunkSize]
	return r[from%chunkSize : from%chunkSize+(to-from)]
}

// release lets go of the run that holds from, once written.
func (l *changeList) release(from int) { l.runs[from/chunkSize] = nil }

// plan is everything a run would write.
type plan struct {
	full      bool
	newGroups []groupEntry
	changes   changeList
	leaving   []store.DirectoryUser
	purge     []store.DirectoryUser
	synced    int // users of the directory not in the trash
	disabling int // changes that disable an active user
	conflicts []string
	// userConflicts are the entries whose username a user the directory
	// did not create holds.
	userConflicts []Conflict
	invalid       []string
	// restamp are users whose entry the run compared and found in step
	// with the portal, but whose recorded stamp is not the entry's (or
	// who were changed in the portal since): recorded so that the next
	// full comparison need not read them in full.
	restamp []restamp
	cursor  string // the newest stamp read
}

// restamp is a stamp to record for a user the run does not write.
type restamp struct {
	userID int64
	stamp  string
}

// writes is how many users the plan writes: created or updated, their
// stamps recorded, trashed and purged.
func (p *plan) writes() int { return p.changes.n + len(p.restamp) + len(p.leaving) + len(p.purge) }

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

// hasPhone reports whether number and ext are among have ("+E164#ext")
// or adding.
func hasPhone(have []string, adding []phoneNumber, number, ext string) bool {
	for _, k := range have {
		if n, x, _ := strings.Cut(k, "#"); n == number && x == ext {
			return true
		}
	}
	for _, ph := range adding {
		if ph.e164 == number && ph.ext == ext {
			return true
		}
	}
	return false
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
	// With no entries to compare (a full comparison whose stamps all
	// held) there is no username to look up.
	if len(snap.users) > 0 {
		if err := q.EachUserName(ctx, func(e store.UserNameIndexEntry) error {
			names[e.Name] = e.UserID
			return nil
		}); err != nil {
			return nil, err
		}
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

	for id, e := range snap.users {
		// Each entry is dropped from the snapshot as it is planned (the
		// key stays: it says the entry is present): the plan keeps what
		// it needs, and the entries (a third of a first sync's heap)
		// need not be held beside all the changes.
		snap.users[id] = nil
		c := userChange{stableID: e.stableID, stamp: e.stamp, username: users.Normalize(e.username), realName: strings.TrimSpace(e.realName), email: strings.TrimSpace(e.email)}
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
		// The user's numbers and groups are a few: slices, where two maps
		// an entry were most of a first sync's garbage while planning.
		var have []string // "+E164#ext"
		var curGroups map[int64]bool
		if c.cur != nil {
			have = phones[c.cur.User.ID]
			curGroups = members[c.cur.User.ID]
		}
		for raw := range strings.SplitSeq(e.phones, "\n") {
			if raw == "" {
				continue
			}
			if strings.HasPrefix(raw, "+") && hasPhone(have, nil, raw, "") {
				continue // already E.164 and already the user's: no parse needed
			}
			ph, ok := parsePhone(raw, set.DefaultCountry)
			if !ok {
				p.invalid = append(p.invalid, fmt.Sprintf("%s: %q is not a valid phone number; skipped", c.username, raw))
				continue
			}
			if !hasPhone(have, c.phones, ph.e164, ph.ext) {
				c.phones = append(c.phones, ph)
			}
		}
		var want []int64
		for _, gi := range e.groups {
			gid := snap.groups[gi].stableID
			if blockedGroups[gid] {
				continue
			}
			if id, ok := groupIDs[gid]; ok {
				want = append(want, id)
				if !curGroups[id] {
					c.addGroups = append(c.addGroups, gid)
				}
			} else {
				c.addGroups = append(c.addGroups, gid)
			}
		}
		for id := range curGroups {
			if syncedGroup[id] && !slices.Contains(want, id) {
				c.dropGroups = append(c.dropGroups, id)
			}
		}
		if c.cur == nil {
			if e.disabled {
				c.status, c.bySync = store.StatusDisabled, true
			}
			p.changes.add(c)
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
			p.changes.add(c)
		} else if c.cur.EntryStamp != e.stamp || c.cur.Drifted {
			p.restamp = append(p.restamp, restamp{u.ID, e.stamp})
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

// stampReadsMax is how many entries a stamp listing reads in full, one
// search each, before it reads the whole directory instead: n entries'
// worth of base searches cost about what a full read of 50n does.
func stampReadsMax(listed int) int { return max(200, listed/50) }

// planByStamps is the full comparison of a stamp listing (snap holds the
// entries with their stable ids, stamps and groups alone). An entry is
// read in full and compared when it is new, in the trash, its stamp is
// not the one recorded when its user was last written or compared, its
// user was changed in the portal since, its groups are not its user's,
// or inWindow says a change may hide behind an unchanged stamp (a
// modifyTimestamp of the last run's second); users whose entries are
// gone leave as in any full comparison. It returns nil, and changes
// nothing, when more entries moved than stampReadsMax: the caller reads
// everything.
func planByStamps(ctx context.Context, q Reads, d store.Directory, set Settings, r *reader, snap *snapshot,
	inWindow func(stamp string) bool, now time.Time) (*plan, error) {
	stamps, err := q.DirectoryUserStamps(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	dirGroups, err := q.DirectoryGroups(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	groupIDs := make(map[string]int64, len(dirGroups))
	for _, g := range dirGroups {
		groupIDs[g.StableID] = g.GroupID
	}
	synced := map[int64]bool{}
	for _, g := range snap.groups {
		if id, ok := groupIDs[g.stableID]; ok {
			synced[id] = true
		}
	}
	pairs, err := q.DirectoryMemberships(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	// The user's synced groups, counted: an entry's groups match when
	// each is one of them and the counts agree.
	memberOf := make(map[int64][]int64, len(stamps))
	for _, m := range pairs {
		if synced[m[1]] {
			memberOf[m[0]] = append(memberOf[m[0]], m[1])
		}
	}
	pairs = nil
	recorded := make(map[string]*store.DirectoryUserStamp, len(stamps))
	for i := range stamps {
		recorded[stamps[i].StableID] = &stamps[i]
	}
	inGroups := func(e *entry, userID int64) bool {
		have := memberOf[userID]
		if len(have) != len(e.groups) {
			return false
		}
		for _, gi := range e.groups {
			id, ok := groupIDs[snap.groups[gi].stableID]
			if !ok || !slices.Contains(have, id) {
				return false
			}
		}
		return true
	}
	var moved []string
	limit := stampReadsMax(len(snap.users))
	for id, e := range snap.users {
		st := recorded[id]
		if st == nil || st.TrashedAt != nil || st.Drifted || st.Stamp != e.stamp || inWindow(e.stamp) || !inGroups(e, st.UserID) {
			if moved = append(moved, id); len(moved) > limit {
				return nil, nil
			}
		}
	}
	sort.Strings(moved) // the reads in a stable order
	if err := r.readEntries(ctx, snap, moved); err != nil {
		return nil, err
	}
	snap.memberOf, snap.listedDN = nil, nil
	// The moved entries are compared as an incremental run compares what
	// it read; the listing finds who left and who is due for purging.
	part := &snapshot{groups: snap.groups, users: make(map[string]*entry, len(moved)), unusable: snap.unusable}
	for _, id := range moved {
		if e := snap.users[id]; e != nil {
			part.users[id] = e
		}
	}
	p, err := makePlan(ctx, q, d, set, part, false, now)
	if err != nil {
		return nil, err
	}
	p.full, p.synced = true, 0
	cutoff := now.Add(-TrashDays * 24 * time.Hour)
	var leaving, purge []string
	for _, st := range stamps {
		_, present := snap.users[st.StableID]
		switch {
		case st.TrashedAt == nil:
			p.synced++
			if !present && !snap.unusable[st.StableID] {
				leaving = append(leaving, st.StableID)
			}
		case !st.TrashedAt.After(cutoff) && !present:
			purge = append(purge, st.StableID)
		}
	}
	if p.leaving, err = q.DirectoryUsersByStableID(ctx, d.ID, leaving); err != nil {
		return nil, err
	}
	if p.purge, err = q.DirectoryUsersByStableID(ctx, d.ID, purge); err != nil {
		return nil, err
	}
	return p, nil
}

package directory

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// Options choose how a run goes.
type Options struct {
	// DryRun computes the plan and writes nothing (the preview).
	DryRun bool
	// Full compares every entry even when an incremental run would do.
	Full bool
	// ConfirmRemovals lets a run disable more than the removal share.
	ConfirmRemovals bool
}

// Result is what a run did, or with DryRun would do.
type Result struct {
	RunID  int64
	Full   bool
	Status string // succeeded, failed, needs-confirmation, preview
	Read   int
	// ReadInFull is how many of the Read entries were read with every
	// mapped attribute: all of them, but in a full comparison that
	// listed stamps, where only the entries that moved are.
	ReadInFull int
	Created    int
	Updated    int
	Disabled   int
	Removed    int
	Phones     int
	Groups     int // groups created
	// First names of each kind of change, for the preview.
	CreatedNames, UpdatedNames, DisabledNames, RemovedNames []string
	Conflicts                                               []string
	InvalidValues                                           []string
	// UsernameConflicts are the directory's users whose username a user
	// the directory did not create already has: skipped until an admin
	// links the two or renames the other user.
	UsernameConflicts []Conflict
	// Invited is how many new users were sent an enrollment email (the
	// directory's EnrollmentEmails setting), by the bulk send job EnrollJob.
	Invited   int
	EnrollJob int64
}

// Conflict is a directory entry held back because its username is taken.
type Conflict struct {
	Username string `json:"username"`
	StableID string `json:"stable_id"`
}

// Counts are the figures of a result, in the order the CLI prints them.
func (r Result) Counts() [][2]string {
	n := func(k string, v int) [2]string { return [2]string{k, fmt.Sprint(v)} }
	return [][2]string{n("created", r.Created), n("updated", r.Updated), n("disabled", r.Disabled),
		n("removed", r.Removed), n("phones", r.Phones)}
}

// ErrNeedsConfirmation is returned when a run would disable or remove more
// than the directory's removal share: it wrote nothing and waits for an
// admin to confirm (Options.ConfirmRemovals).
var ErrNeedsConfirmation = errors.New("directory: the run would disable more users than the removal threshold allows; nothing was changed, confirm to go on")

// ErrBusy is returned when another run of the same directory holds the
// lease.
var ErrBusy = errors.New("directory: another sync of this directory is running")

// chunkSize is how many users one step of a write transaction writes (one
// multi-row statement a table); txUsers is how many users one transaction
// writes at most. A transaction ends sooner, after a chunk, when writes of
// the login path wait for the lock (sqlstore.DB.GroupWritesWaiting), as the
// importer's steps do. Fewer, larger transactions are what makes the first
// sync fast: the random indexes (user keys, stable ids, phone keys) dirty
// nearly every leaf page in each transaction, and SQLite writes each dirty
// page once a commit, so 200 commits of 500 users wrote 5 GB for 100,000
// users where 20 of 5,000 write a sixth of it (bench/directory).
const (
	chunkSize = 250
	txUsers   = 5000
)

// writeWaiter is the database's word on whether writes of the login path
// wait behind the transaction in progress.
type writeWaiter interface{ GroupWritesWaiting() bool }

// leaseFor is how long a lease lasts without renewal (each batch renews).
const leaseFor = 2 * time.Minute

// fullEvery is how often an incremental directory still gets a full
// comparison, the only kind of run that finds removals.
const fullEvery = 24 * time.Hour

const examples = 10

func addName(list *[]string, name string) {
	if len(*list) < examples {
		*list = append(*list, name)
	}
}

// read connects, reads the directory and makes the plan.
func (s *Service) read(ctx context.Context, d store.Directory, set Settings, pw string, opts Options, tr *tracker) (Result, *plan, error) {
	var res Result
	conn, err := connect(ctx, set, pw)
	if err != nil {
		return res, nil, err
	}
	defer conn.Close()
	r, err := newReader(ctx, set, conn)
	if err != nil {
		return res, nil, err
	}
	r.onRead = func(n int) { tr.update(ctx, func(p *Progress) { p.Read = n }) }
	snap := &snapshot{}
	if err := r.readGroups(ctx, snap); err != nil {
		return res, nil, err
	}
	now := s.Clock.Now()
	// The cursor is "SINCE GROUPS": SINCE is, on OpenLDAP, the newest
	// stamp the last run read ("csn:" and an entryCSN, or a
	// modifyTimestamp), and on Active Directory
	// "usn:N:DC", the server's highestCommittedUSN when the last run began
	// and which domain controller counted it; GROUPS is the fingerprint of
	// the synced groups and their members.
	lastSince, lastPrint, _ := strings.Cut(d.SyncCursor, " ")
	usnCursor := set.Kind == KindActiveDirectory
	var startUSN int64
	var server string
	if usnCursor {
		// Read before the users, so that a change made during the run has
		// a higher USN and is read again by the next run.
		if startUSN, server, err = highestCommittedUSN(conn); err != nil {
			return res, nil, err
		}
	}
	lastUSNText, lastServer, _ := strings.Cut(strings.TrimPrefix(lastSince, "usn:"), ":")
	lastUSN, usnErr := strconv.ParseInt(lastUSNText, 10, 64)
	csnCursor := r.stampAttr == "entryCSN"
	lastStamp := strings.TrimPrefix(lastSince, "csn:")
	incrementalKnown := lastSince != "" &&
		(!usnCursor || strings.HasPrefix(lastSince, "usn:") && usnErr == nil && lastServer == server) &&
		(usnCursor || csnCursor == strings.HasPrefix(lastSince, "csn:"))
	if !usnCursor && csnCursor != strings.HasPrefix(lastSince, "csn:") {
		lastStamp = "" // a cursor of the other stamp: every entry counts as moved
	}
	// A user linked by an admin since (or synced before stamps were
	// recorded) has no stamp: its entry may be older than the cursor, so
	// only a full comparison reads it.
	unstamped, err := s.Store.DirectoryHasUnstampedUsers(ctx, d.ID)
	if err != nil {
		return res, nil, err
	}
	full := opts.Full || unstamped || !incrementalKnown || d.LastFullAt == nil || now.Sub(*d.LastFullAt) >= fullEvery ||
		lastPrint != snap.groupsPrint()
	if !full && set.Mapping.Membership == MemberOfOnUser {
		// Membership lives on the groups (memberOf is computed from their
		// member values, and nested groups count on AD): a change to any
		// group under the groups base since the last run takes a full
		// comparison. Without a USN there is no such question to ask.
		changed := true
		if usnCursor {
			if changed, err = r.groupsChangedSince(ctx, lastUSN+1); err != nil {
				return res, nil, err
			}
		}
		full = changed
	}
	since := ""
	if !full {
		switch {
		case usnCursor:
			since = "(uSNChanged>=" + strconv.FormatInt(lastUSN+1, 10) + ")"
		case csnCursor:
			// Every change has its own CSN (microseconds, a counter
			// and the server id): only the ones after the newest read.
			// A write that took its CSN before that one but committed
			// after the read is missed here; its stamp differs from the
			// recorded one, so the next full comparison (daily) reads it.
			since = "(&(entryCSN>=" + ldap.EscapeFilter(lastStamp) + ")(!(entryCSN=" + ldap.EscapeFilter(lastStamp) + ")))"
		default:
			// Whole seconds: the cursor's second is read again, since a
			// change later in that second has the same stamp.
			since = "(modifyTimestamp>=" + ldap.EscapeFilter(lastStamp) + ")"
		}
	}
	// A full comparison after a run that recorded stamps (the cursor is
	// kept; an edit of the settings clears it) lists the entries with
	// their stamps alone and reads in full only the entries whose stamp
	// moved; when too many moved, it reads everything.
	var p *plan
	if full && d.SyncCursor != "" {
		snap.users = nil
		if err := r.readUsers(ctx, snap, "", true); err != nil {
			return res, nil, err
		}
		if len(snap.users) == 0 {
			return res, nil, errNoUsers(set)
		}
		// A modifyTimestamp of the last run's second may hide a change
		// made later in that second: those entries are read in full.
		inWindow := func(stamp string) bool { return !usnCursor && !csnCursor && stamp >= lastStamp }
		if p, err = planByStamps(ctx, s.Store, d, set, r, snap, inWindow, now); err != nil {
			return res, nil, err
		}
	}
	if p == nil {
		if err := r.readUsers(ctx, snap, since, false); err != nil {
			return res, nil, err
		}
		if full && len(snap.users) == 0 {
			return res, nil, errNoUsers(set)
		}
		if p, err = makePlan(ctx, s.Store, d, set, snap, full, now); err != nil {
			return res, nil, err
		}
	}
	res.Full, res.Read, res.ReadInFull = full, snap.read, snap.read-snap.light
	tr.update(ctx, func(p *Progress) { p.Read = snap.read })
	switch {
	case usnCursor:
		p.cursor = "usn:" + strconv.FormatInt(startUSN, 10) + ":" + server + " " + snap.groupsPrint()
	case csnCursor:
		p.cursor = "csn:" + max(snap.newest, lastStamp) + " " + snap.groupsPrint()
	default:
		p.cursor = max(snap.newest, lastStamp) + " " + snap.groupsPrint()
	}
	res.Conflicts, res.InvalidValues = p.conflicts, append(p.invalid, snap.skipped...)
	res.UsernameConflicts = p.userConflicts
	tr.update(ctx, func(pr *Progress) { pr.Compared, pr.ToWrite = len(snap.users), p.writes() })
	res.Groups = len(p.newGroups)
	for _, run := range p.changes.runs {
		for _, c := range run {
			if c.cur == nil {
				res.Created++
				addName(&res.CreatedNames, c.username)
			} else {
				res.Updated++
				addName(&res.UpdatedNames, c.username)
				if c.status == store.StatusDisabled && c.cur.User.Status != store.StatusDisabled {
					res.Disabled++
					addName(&res.DisabledNames, c.username)
				}
			}
			res.Phones += len(c.phones)
		}
	}
	for _, du := range p.leaving {
		res.Disabled++
		addName(&res.DisabledNames, du.User.Username)
	}
	for _, du := range p.purge {
		res.Removed++
		addName(&res.RemovedNames, du.User.Username)
	}
	if opts.DryRun {
		res.Status = "preview"
	}
	share := float64(len(p.leaving)+p.disabling) / float64(max(p.synced, 1))
	if p.synced > 0 && share > set.RemovalShare && !opts.ConfirmRemovals {
		return res, p, ErrNeedsConfirmation
	}
	return res, p, nil
}

// errNoUsers is a full read that found no users, taken as a fault.
func errNoUsers(set Settings) error {
	return &SearchError{Message: fmt.Sprintf("the search under %s found no users; an empty answer is taken as a fault, and nothing was changed", set.UsersBase)}
}

// syncLocked reads, plans and writes, holding the lease.
func (s *Service) syncLocked(ctx context.Context, d store.Directory, set Settings, pw string, opts Options, holder string, tr *tracker) (Result, string, []store.User, error) {
	res, p, err := s.read(ctx, d, set, pw, opts, tr)
	if err != nil {
		return res, "", nil, err
	}
	w := &writer{s: s, d: d, who: audit.Who{Type: audit.ActorSystem, Name: "directory:" + d.Name}, holder: holder,
		groupIDs: map[string]int64{}, phoneIDs: map[string]int64{}, tr: tr, keepCreated: set.EnrollmentEmails}
	if err := w.apply(ctx, p); err != nil {
		return res, "", w.created, err
	}
	return res, p.cursor, w.created, nil
}

// writer writes a plan, a batch a transaction.
type writer struct {
	s        *Service
	d        store.Directory
	who      audit.Who
	holder   string
	groupIDs map[string]int64 // group stable id -> id
	phoneIDs map[string]int64 // number#ext -> phone id, for numbers created by this run
	tr       *tracker
	// created are the users this run created, for the enrollment emails;
	// kept only when keepCreated (the directory sends them), since 100,000
	// users are 25 MB.
	created     []store.User
	keepCreated bool
	written     int
}

// wrote counts n more users written and reports the progress.
func (w *writer) wrote(ctx context.Context, n int) {
	w.written += n
	w.tr.update(ctx, func(p *Progress) { p.Written = w.written })
}

// renew extends the lease before each batch; losing it stops the run.
func (w *writer) renew(ctx context.Context, q store.Queries) error {
	now := w.s.Clock.Now()
	ok, err := q.TakeDirectoryLease(ctx, w.d.ID, w.holder, now, now.Add(leaseFor))
	if err != nil {
		return err
	}
	if !ok {
		return ErrBusy
	}
	return nil
}

func (w *writer) apply(ctx context.Context, p *plan) error {
	st := w.s.Store
	groups, err := st.DirectoryGroups(ctx, w.d.ID)
	if err != nil {
		return err
	}
	for _, g := range groups {
		w.groupIDs[g.StableID] = g.GroupID
	}
	// Every number the portal has, so that a directory user's number
	// finds the phone that has it without a query each.
	if err := st.EachPhoneNumber(ctx, func(id int64, number, ext string) error {
		if _, seen := w.phoneIDs[number+"#"+ext]; !seen {
			w.phoneIDs[number+"#"+ext] = id
		}
		return nil
	}); err != nil {
		return err
	}
	if len(p.newGroups) > 0 {
		if err := st.InTx(ctx, func(q store.Queries) error {
			if err := w.renew(ctx, q); err != nil {
				return err
			}
			now := w.s.Clock.Now()
			for _, g := range p.newGroups {
				grp := store.Group{Key: secret.NewID("DG", 20), Name: g.name, CreatedAt: now}
				if err := q.CreateGroup(ctx, &grp); err != nil {
					return fmt.Errorf("create group %s: %w", g.name, err)
				}
				if err := q.LinkDirectoryGroup(ctx, w.d.ID, g.stableID, grp.ID); err != nil {
					return err
				}
				w.groupIDs[g.stableID] = grp.ID
				if err := q.InsertAudit(ctx, audit.Entry(now, w.who, actionGroupAdded, "group", g.name, nil)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	// The users a transaction created count once it has committed.
	var made []*store.User
	if err := w.inTxs(ctx, p.changes.n, func() { made = made[:0] }, func(q store.Queries, from, to int) error {
		m, err := w.changes(ctx, q, p.changes.run(from, to))
		made = append(made, m...)
		// Written (or, on an error, the run ends): the strings and
		// phones of these changes need not outlive the chunk.
		p.changes.release(from)
		return err
	}, func() {
		if w.keepCreated {
			for _, u := range made {
				w.created = append(w.created, *u)
			}
		}
	}); err != nil {
		return err
	}
	if err := w.inTxs(ctx, len(p.restamp), nil, func(q store.Queries, from, to int) error {
		for _, rs := range p.restamp[from:to] {
			if err := q.SetDirectoryUserStamp(ctx, rs.userID, rs.stamp); err != nil {
				return err
			}
		}
		return nil
	}, nil); err != nil {
		return err
	}
	if err := w.inTxs(ctx, len(p.leaving), nil, func(q store.Queries, from, to int) error {
		return w.trash(ctx, q, p.leaving[from:to])
	}, nil); err != nil {
		return err
	}
	return w.inTxs(ctx, len(p.purge), nil, func(q store.Queries, from, to int) error {
		return w.purge(ctx, q, p.purge[from:to])
	}, nil)
}

// inTxs writes n items in chunks, as many chunks a transaction as txUsers
// allows or until logins wait for the lock; each transaction first renews
// the lease, and begin and committed (when not nil) run before each
// transaction and after each commit. A run that stops between
// transactions has written whole transactions only, and the next run
// compares against them: nothing twice.
func (w *writer) inTxs(ctx context.Context, n int, begin func(), fn func(q store.Queries, from, to int) error, committed func()) error {
	waiter, _ := w.s.Store.(writeWaiter)
	for start := 0; start < n; {
		next := start
		if begin != nil {
			begin()
		}
		err := w.s.Store.InTx(ctx, func(q store.Queries) error {
			if err := w.renew(ctx, q); err != nil {
				return err
			}
			for next < n && next-start < txUsers {
				end := min(next+chunkSize, n)
				if err := fn(q, next, end); err != nil {
					return err
				}
				next = end
				if waiter != nil && waiter.GroupWritesWaiting() {
					break
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if committed != nil {
			committed()
		}
		w.wrote(ctx, next-start)
		start = next
	}
	return nil
}

// changes creates and updates one batch of users.
func (w *writer) changes(ctx context.Context, q store.Queries, batch []userChange) ([]*store.User, error) {
	now := w.s.Clock.Now()
	var created []*store.User
	ids := make([]int64, len(batch))
	var entries []store.AuditEntry
	for i, c := range batch {
		if c.cur != nil {
			ids[i] = c.cur.User.ID
			continue
		}
		u := store.User{Key: secret.NewID("DU", 20), Username: c.username, RealName: c.realName, Email: c.email,
			Status: store.StatusActive, CreatedAt: now, UpdatedAt: now}
		if c.status != "" {
			u.Status = c.status
		}
		created = append(created, &u)
	}
	if len(created) > 0 {
		if err := q.CreateUsers(ctx, created); err != nil {
			return nil, fmt.Errorf("create users: %w", err)
		}
	}
	k := 0
	var memberships, drops, attach [][2]int64
	var newPhones []*store.Phone
	pending := map[string]*store.Phone{}
	type phoneLink struct {
		userID int64
		phone  *store.Phone
	}
	var pendingLinks []phoneLink
	linkIDs, linkUsers, linkStamps := make([]string, 0, len(created)), make([]int64, 0, len(created)), make([]string, 0, len(created))
	for _, c := range batch {
		if c.cur == nil {
			linkIDs, linkUsers, linkStamps = append(linkIDs, c.stableID), append(linkUsers, created[k].ID), append(linkStamps, c.stamp)
			k++
		}
	}
	if err := q.LinkDirectoryUsers(ctx, w.d.ID, linkIDs, linkUsers, linkStamps); err != nil {
		return nil, err
	}
	k = 0
	for i, c := range batch {
		details := map[string]any{"directory": w.d.Name}
		if c.cur == nil {
			u := created[k]
			k++
			ids[i] = u.ID
			if c.bySync {
				if err := q.SetDirectoryUserState(ctx, u.ID, nil, true); err != nil {
					return nil, err
				}
			}
			// A new user's numbers are in the record of its creation, not
			// one phone.added record each: the first sync of 100,000
			// users writes 100,000 fewer audit rows.
			created := map[string]any{"directory": w.d.Name, "email": u.Email, "status": u.Status}
			if len(c.phones) > 0 {
				numbers := make([]string, len(c.phones))
				for j, ph := range c.phones {
					numbers[j] = ph.e164
				}
				created["phones"] = numbers
			}
			entries = append(entries, audit.Entry(now, w.who, audit.UserCreated, audit.TargetUser, u.Username, created))
		} else {
			u := c.cur.User
			if len(c.changed) > 0 || c.status != "" {
				u.Username, u.RealName, u.Email, u.UpdatedAt = c.username, c.realName, c.email, now
				if c.status != "" {
					u.Status = c.status
				}
				if err := q.UpdateUserProfile(ctx, u, users.ResetsFailures(u.Status)); err != nil {
					return nil, fmt.Errorf("update user %s: %w", u.Username, err)
				}
				details["changed"] = c.changed
				if c.status != "" {
					details["status"] = c.status
				}
				if c.cur.User.Username != u.Username {
					details["old_username"] = c.cur.User.Username
				}
			}
			if c.status != "" || c.restore {
				if err := q.SetDirectoryUserState(ctx, u.ID, nil, c.bySync); err != nil {
					return nil, err
				}
			}
			action := actionUserUpdated
			if c.restore {
				action = actionUserRestore
			} else if c.status == store.StatusDisabled {
				action = actionUserDisable
			}
			if len(c.changed) > 0 || c.status != "" || len(c.addGroups) > 0 || len(c.dropGroups) > 0 {
				if len(c.addGroups) > 0 || len(c.dropGroups) > 0 {
					details["groups_changed"] = true
				}
				entries = append(entries, audit.Entry(now, w.who, action, audit.TargetUser, u.Username, details))
			}
		}
		for _, g := range c.addGroups {
			if id, ok := w.groupIDs[g]; ok {
				memberships = append(memberships, [2]int64{ids[i], id})
			}
		}
		for _, id := range c.dropGroups {
			drops = append(drops, [2]int64{ids[i], id})
		}
		for _, ph := range c.phones {
			if id, ok := w.phoneIDs[ph.key()]; ok {
				attach = append(attach, [2]int64{ids[i], id})
			} else {
				// Created below in one statement, shared by the users of
				// the batch who have the number (phones may be shared, as
				// in the Duo model).
				p := pending[ph.key()]
				if p == nil {
					p = &store.Phone{Key: secret.NewID("DP", 20), Number: ph.e164, Extension: ph.ext, Type: ph.kind,
						Platform: store.PlatformUnknown, CreatedAt: now}
					if ph.kind == store.PhoneMobile {
						p.Platform = store.PlatformGeneric
					}
					pending[ph.key()] = p
					newPhones = append(newPhones, p)
				}
				pendingLinks = append(pendingLinks, phoneLink{ids[i], p})
			}
			if c.cur != nil {
				entries = append(entries, audit.Entry(now, w.who, actionPhoneAdded, audit.TargetUser, c.username,
					map[string]any{"directory": w.d.Name, "number": ph.e164, "type": ph.kind}))
			}
		}
	}
	if len(newPhones) > 0 {
		if err := q.CreatePhones(ctx, newPhones); err != nil {
			return nil, err
		}
		for key, p := range pending {
			w.phoneIDs[key] = p.ID
		}
		for _, l := range pendingLinks {
			attach = append(attach, [2]int64{l.userID, l.phone.ID})
		}
	}
	if len(attach) > 0 {
		if err := q.AttachPhones(ctx, attach); err != nil {
			return nil, err
		}
	}
	if len(memberships) > 0 {
		if err := q.AddUsersToGroups(ctx, memberships); err != nil {
			return nil, err
		}
	}
	if len(drops) > 0 {
		if err := q.RemoveUsersFromGroups(ctx, drops); err != nil {
			return nil, err
		}
	}
	// The entry's stamp, with the user's updated_at as this batch left
	// it, once everything of the user is written.
	for _, c := range batch {
		if c.cur != nil {
			if err := q.SetDirectoryUserStamp(ctx, c.cur.User.ID, c.stamp); err != nil {
				return nil, err
			}
		}
	}
	return created, q.InsertAudits(ctx, entries)
}

// trash disables the users who left the directory and puts them in the
// trash.
func (w *writer) trash(ctx context.Context, q store.Queries, batch []store.DirectoryUser) error {
	now := w.s.Clock.Now()
	entries := make([]store.AuditEntry, 0, len(batch))
	for _, du := range batch {
		u := du.User
		u.Status, u.UpdatedAt = store.StatusDisabled, now
		if err := q.UpdateUser(ctx, u, false); err != nil {
			return err
		}
		if err := q.SetDirectoryUserState(ctx, u.ID, &now, true); err != nil {
			return err
		}
		entries = append(entries, audit.Entry(now, w.who, actionUserDisable, audit.TargetUser, u.Username,
			map[string]any{"directory": w.d.Name, "reason": "left the directory", "trash_days": TrashDays}))
	}
	return q.InsertAudits(ctx, entries)
}

// purge deletes users whose time in the trash is over, with their devices.
func (w *writer) purge(ctx context.Context, q store.Queries, batch []store.DirectoryUser) error {
	now := w.s.Clock.Now()
	entries := make([]store.AuditEntry, 0, len(batch))
	for _, du := range batch {
		if err := q.DeleteUser(ctx, du.User.ID); err != nil {
			return err
		}
		entries = append(entries, audit.Entry(now, w.who, actionUserPurged, audit.TargetUser, du.User.Username,
			map[string]any{"directory": w.d.Name, "reason": "in the trash for 7 days"}))
	}
	return q.InsertAudits(ctx, entries)
}

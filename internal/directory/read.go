package directory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// entry is what a run keeps of one user entry.
type entry struct {
	stableID string
	username string
	realName string
	email    string
	// phones are the raw phone values, one a line: a string where a
	// slice took 8 bytes more, which kept the entry out of the 128-byte
	// size class (100,000 entries: 3 MB).
	phones   string
	disabled bool
	// stamp is the entry's change stamp (reader.stampAttr).
	stamp string
	// groups are the synced groups the entry is in, as indexes into
	// snapshot.groups: a slice of a few small numbers where a map a user
	// cost about 200 bytes (100,000 users: 20 MB).
	groups []int32
}

// inGroup adds group index g to the entry's groups, once.
func (e *entry) inGroup(g int32) {
	for _, have := range e.groups {
		if have == g {
			return
		}
	}
	e.groups = append(e.groups, g)
}

// groupEntry is a synced group as the directory has it.
type groupEntry struct {
	stableID string
	name     string
	dn       string
	modified string
	// print is a digest of the group's name and sorted member DNs.
	print string
}

// snapshot is what one read of the directory found.
type snapshot struct {
	groups   []groupEntry
	users    map[string]*entry // by stable id
	skipped  []string          // entries without a usable username or stable id
	unusable map[string]bool   // stable ids of entries skipped: present, so never "left"
	newest   string            // the newest stamp seen (OpenLDAP: entryCSN or modifyTimestamp)
	groupsAt string            // the newest modifyTimestamp of a group
	read     int
	light    int // entries of read that are still a stamp listing's alone
	// listedDN is the DN of each entry of a stamp listing, by stable id,
	// for reading the ones that moved.
	listedDN map[string]string
	// memberOf maps a normalised member DN to the synced groups (indexes
	// into groups) that list it (MemberOnGroup), built once rather than
	// asking every group about every user; readUsers drops it when done.
	memberOf map[dnKey][]int32
}

// compactStamp is how a run keeps and records an entry's stamp: as it is
// when short (modifyTimestamp, uSNChanged), else (an entryCSN, 40
// characters) 16 hex digits of its SHA-256. Only equality is asked of a
// recorded stamp, and 100,000 CSNs held 5 MB of a first sync's heap.
func compactStamp(raw string) string {
	if len(raw) <= 16 {
		return raw
	}
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:8])
}

// dnKey stands for a normalised DN in snapshot.memberOf: 16 bytes of its
// SHA-256 where the DN string took 48 (100,000 members: 5 MB less while
// the users are read). Two DNs sharing a key is a 2^-128 chance.
type dnKey [16]byte

func keyOfDN(dn string) dnKey {
	sum := sha256.Sum256([]byte(dn))
	return dnKey(sum[:16])
}

// groupsPrint is a fingerprint of the synced groups and their members:
// when it differs from the last run's, memberships may have been taken
// away, which only a full comparison finds. (modifyTimestamp has
// one-second steps, too coarse to tell on its own.)
func (snap *snapshot) groupsPrint() string {
	lines := make([]string, 0, len(snap.groups))
	for _, g := range snap.groups {
		lines = append(lines, g.print)
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:12])
}

// reader reads a directory with the settings of a run.
type reader struct {
	s    Settings
	conn *ldap.Conn
	// stampAttr is the attribute that changes with every change of an
	// entry: uSNChanged on Active Directory; on OpenLDAP entryCSN where
	// the server keeps it (sub-second, with the server id), else
	// modifyTimestamp (whole seconds).
	stampAttr string
	// onRead, when set, is told the number of entries read so far every
	// progressEvery entries, for the live progress of a run.
	onRead func(read int)
}

// newReader makes the reader of a run and finds the stamp attribute: on
// OpenLDAP, entryCSN when the users base has one (slapd keeps it on every
// entry it writes), else modifyTimestamp.
func newReader(ctx context.Context, s Settings, conn *ldap.Conn) (*reader, error) {
	r := &reader{s: s, conn: conn, stampAttr: "uSNChanged"}
	if s.Kind == KindActiveDirectory {
		return r, nil
	}
	r.stampAttr = "modifyTimestamp"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := conn.Search(ldap.NewSearchRequest(s.UsersBase, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, searchTimeLimit, false,
		"(objectClass=*)", []string{"entryCSN"}, nil))
	if ldap.IsErrorWithCode(err, ldap.ErrorNetwork) {
		return nil, explainSearch(s.UsersBase, err)
	}
	if err != nil {
		// The base entry itself may be closed to the bind DN (an ACL)
		// while the entries under it are not: the whole seconds of
		// modifyTimestamp then, and the users' search says the rest.
		return r, nil
	}
	if len(res.Entries) == 1 && res.Entries[0].GetAttributeValue("entryCSN") != "" {
		r.stampAttr = "entryCSN"
	}
	return r, nil
}

// progressEvery is how many entries a run reads between two progress
// reports.
const progressEvery = 1000

func andFilter(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			if !strings.HasPrefix(p, "(") {
				p = "(" + p + ")"
			}
			kept = append(kept, p)
		}
	}
	if len(kept) == 1 {
		return kept[0]
	}
	return "(&" + strings.Join(kept, "") + ")"
}

// readGroups reads the groups to sync: the named ones (each must exist),
// or every group under the groups base when none is named.
func (r *reader) readGroups(ctx context.Context, snap *snapshot) error {
	s := r.s
	if s.GroupsBase == "" {
		return nil
	}
	filter := s.Mapping.GroupFilter
	if len(s.Groups) > 0 {
		var b strings.Builder
		b.WriteString("(|")
		for _, g := range s.Groups {
			fmt.Fprintf(&b, "(%s=%s)", s.Mapping.GroupName, ldap.EscapeFilter(g))
		}
		b.WriteString(")")
		filter = andFilter(filter, b.String())
	}
	attrs := []string{s.Mapping.GroupName, s.Mapping.StableID, "modifyTimestamp"}
	if s.Mapping.Membership == MemberOnGroup {
		attrs = append(attrs, s.Mapping.MemberAttr)
	}
	found := map[string]bool{}
	snap.memberOf = map[dnKey][]int32{}
	err := pagedSearch(ctx, r.conn, s.GroupsBase, filter, attrs, groupPageSize, func(e *ldap.Entry) error {
		g := groupEntry{stableID: stableID(e, s.Mapping.StableID), name: e.GetAttributeValue(s.Mapping.GroupName), dn: e.DN,
			modified: e.GetAttributeValue("modifyTimestamp")}
		if g.stableID == "" || g.name == "" {
			return &SearchError{Message: fmt.Sprintf("the group %s has no %s or %s; nothing was changed", e.DN, s.Mapping.StableID, s.Mapping.GroupName)}
		}
		var members []string
		if s.Mapping.Membership == MemberOnGroup {
			gi := int32(len(snap.groups))
			for _, m := range e.GetAttributeValues(s.Mapping.MemberAttr) {
				dn := normDN(m)
				key := keyOfDN(dn)
				if in := snap.memberOf[key]; len(in) == 0 || in[len(in)-1] != gi {
					snap.memberOf[key] = append(in, gi)
					members = append(members, dn)
				}
			}
			sort.Strings(members)
		}
		sum := sha256.Sum256([]byte(strings.Join(members, ";")))
		g.print = g.stableID + "=" + g.name + ":" + hex.EncodeToString(sum[:12])
		if g.modified > snap.groupsAt {
			snap.groupsAt = g.modified
		}
		found[strings.ToLower(g.name)] = true
		snap.groups = append(snap.groups, g)
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range s.Groups {
		if !found[strings.ToLower(name)] {
			return &SearchError{Message: fmt.Sprintf("the group %q was not found under %s; nothing was changed", name, s.GroupsBase)}
		}
	}
	return nil
}

// userAttrs are the attributes a full read of a user entry asks for.
func (r *reader) userAttrs() []string {
	m := r.s.Mapping
	attrs := []string{m.Username, m.RealName, m.Email, m.StableID, r.stampAttr}
	attrs = append(attrs, m.Phones...)
	if r.s.Kind == KindActiveDirectory {
		attrs = append(attrs, "userAccountControl")
	}
	return attrs
}

// readUsers reads the user entries; since, when not empty, is a filter
// that asks only for the entries changed since the last run. With light,
// it lists the entries with their stable id and stamp alone (a third of
// the attribute values to decode, which was most of a re-sync's CPU).
func (r *reader) readUsers(ctx context.Context, snap *snapshot, since string, light bool) error {
	s := r.s
	m := s.Mapping
	attrs := r.userAttrs()
	if light {
		attrs = []string{m.StableID, r.stampAttr}
	}
	base := andFilter(m.UserFilter, s.ExtraFilter)
	if since != "" {
		base = andFilter(base, since)
	}
	// A listing that turns out to need a full read is followed by one: it
	// starts afresh, with the members' groups still at hand.
	snap.users, snap.unusable = map[string]*entry{}, map[string]bool{}
	snap.read, snap.skipped, snap.newest, snap.light, snap.listedDN = 0, nil, "", 0, nil
	if light {
		snap.listedDN = map[string]string{}
	}
	memberOf := snap.memberOf
	if !light {
		defer func() { snap.memberOf = nil }()
	}
	add := func(e *ldap.Entry, group int32) {
		snap.read++
		if r.onRead != nil && snap.read%progressEvery == 0 {
			r.onRead(snap.read)
		}
		id := stableID(e, m.StableID)
		raw := e.GetAttributeValue(r.stampAttr)
		if raw > snap.newest {
			snap.newest = raw
		}
		stamp := compactStamp(raw)
		if u := snap.users[id]; u != nil {
			if group >= 0 {
				u.inGroup(group)
			}
			return
		}
		var u *entry
		if light {
			if id == "" {
				snap.skipped = append(snap.skipped, fmt.Sprintf("%s has no %s or %s", e.DN, m.StableID, m.Username))
				return
			}
			u = &entry{stableID: id, stamp: stamp}
			snap.listedDN[id] = e.DN
			snap.light++
		} else {
			if u = r.userEntry(e, id, stamp); u == nil {
				snap.skipped = append(snap.skipped, fmt.Sprintf("%s has no %s or %s", e.DN, m.StableID, m.Username))
				if id != "" {
					snap.unusable[id] = true
				}
				return
			}
		}
		if group >= 0 {
			u.inGroup(group)
		}
		if m.Membership == MemberOnGroup {
			for _, gi := range memberOf[keyOfDN(normDN(e.DN))] {
				u.inGroup(gi)
			}
			if len(s.Groups) > 0 && len(u.groups) == 0 {
				return // not a member of a synced group
			}
		}
		snap.users[id] = u
	}
	if m.Membership == MemberOfOnUser && len(snap.groups) > 0 {
		// One search a group; on Active Directory the in-chain rule makes
		// members of nested groups count.
		rule := ""
		if s.Kind == KindActiveDirectory {
			rule = ":1.2.840.113556.1.4.1941:"
		}
		for gi, g := range snap.groups {
			filter := andFilter(base, fmt.Sprintf("(memberOf%s=%s)", rule, ldap.EscapeFilter(g.dn)))
			if err := pagedSearch(ctx, r.conn, s.UsersBase, filter, attrs, userPageSize, func(e *ldap.Entry) error {
				add(e, int32(gi))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	}
	return pagedSearch(ctx, r.conn, s.UsersBase, base, attrs, userPageSize, func(e *ldap.Entry) error {
		add(e, -1)
		return nil
	})
}

// userEntry is what a run keeps of a fully read entry; nil when it has no
// stable id or username.
func (r *reader) userEntry(e *ldap.Entry, id, stamp string) *entry {
	m := r.s.Mapping
	name := e.GetAttributeValue(m.Username)
	if id == "" || name == "" {
		return nil
	}
	u := &entry{stableID: id, username: name, realName: e.GetAttributeValue(m.RealName), email: e.GetAttributeValue(m.Email), stamp: stamp}
	var phones []string
	for _, a := range m.Phones {
		phones = append(phones, e.GetAttributeValues(a)...)
	}
	u.phones = strings.Join(phones, "\n")
	if r.s.Kind == KindActiveDirectory {
		u.disabled = adDisabled(e)
	}
	return u
}

// readEntries reads in full the listed entries of a stamp listing, one
// base search each, keeping the groups the listing found. An entry gone
// or renamed since the listing fails the run (it changed nothing), as a
// search cut short does: the next run lists it afresh.
func (r *reader) readEntries(ctx context.Context, snap *snapshot, ids []string) error {
	filter := andFilter(r.s.Mapping.UserFilter, r.s.ExtraFilter)
	attrs := r.userAttrs()
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		listed, dn := snap.users[id], snap.listedDN[id]
		req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, searchTimeLimit, false, filter, attrs, nil)
		res, err := r.conn.Search(req)
		if err == nil && len(res.Entries) != 1 {
			err = &SearchError{Message: fmt.Sprintf("the entry %s changed while the sync read the directory; nothing was changed, run it again", dn)}
		}
		if err != nil {
			var serr *SearchError
			if errors.As(err, &serr) {
				return err
			}
			return explainSearch(dn, err)
		}
		e := res.Entries[0]
		u := r.userEntry(e, stableID(e, r.s.Mapping.StableID), compactStamp(e.GetAttributeValue(r.stampAttr)))
		if u == nil || u.stableID != id {
			delete(snap.users, id)
			snap.skipped = append(snap.skipped, fmt.Sprintf("%s has no %s or %s", e.DN, r.s.Mapping.StableID, r.s.Mapping.Username))
			snap.unusable[id] = true
			continue
		}
		u.groups = listed.groups
		snap.users[id] = u
		snap.light--
	}
	return nil
}

// errFound stops a search at its first entry.
var errFound = errors.New("directory: found")

// groupsChangedSince reports whether a group under the groups base has
// changed since the USN (Active Directory): its members, or those of a
// group nested in it.
func (r *reader) groupsChangedSince(ctx context.Context, usn int64) (bool, error) {
	if r.s.GroupsBase == "" {
		return false, nil
	}
	filter := andFilter(r.s.Mapping.GroupFilter, "(uSNChanged>="+strconv.FormatInt(usn, 10)+")")
	err := pagedSearch(ctx, r.conn, r.s.GroupsBase, filter, []string{"uSNChanged"}, groupPageSize, func(*ldap.Entry) error {
		return errFound
	})
	if errors.Is(err, errFound) {
		return true, nil
	}
	return false, err
}

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
	phones   []string
	disabled bool
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
	newest   string            // the newest modifyTimestamp seen
	groupsAt string            // the newest modifyTimestamp of a group
	read     int
	// memberOf maps a normalised member DN to the synced groups (indexes
	// into groups) that list it (MemberOnGroup), built once rather than
	// asking every group about every user; readUsers drops it when done.
	memberOf map[string][]int32
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
	// onRead, when set, is told the number of entries read so far every
	// progressEvery entries, for the live progress of a run.
	onRead func(read int)
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
	snap.memberOf = map[string][]int32{}
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
				if in := snap.memberOf[dn]; len(in) == 0 || in[len(in)-1] != gi {
					snap.memberOf[dn] = append(in, gi)
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

// readUsers reads the user entries; since, when not empty, is a filter
// that asks only for the entries changed since the last run.
func (r *reader) readUsers(ctx context.Context, snap *snapshot, since string) error {
	s := r.s
	m := s.Mapping
	attrs := []string{m.Username, m.RealName, m.Email, m.StableID, "modifyTimestamp"}
	attrs = append(attrs, m.Phones...)
	if s.Kind == KindActiveDirectory {
		attrs = append(attrs, "userAccountControl")
	}
	base := andFilter(m.UserFilter, s.ExtraFilter)
	if since != "" {
		base = andFilter(base, since)
	}
	snap.users, snap.unusable = map[string]*entry{}, map[string]bool{}
	memberOf := snap.memberOf
	defer func() { snap.memberOf = nil }()
	add := func(e *ldap.Entry, group int32) {
		snap.read++
		if r.onRead != nil && snap.read%progressEvery == 0 {
			r.onRead(snap.read)
		}
		id := stableID(e, m.StableID)
		if ts := e.GetAttributeValue("modifyTimestamp"); ts > snap.newest {
			snap.newest = ts
		}
		if u := snap.users[id]; u != nil {
			if group >= 0 {
				u.inGroup(group)
			}
			return
		}
		name := e.GetAttributeValue(m.Username)
		if id == "" || name == "" {
			snap.skipped = append(snap.skipped, fmt.Sprintf("%s has no %s or %s", e.DN, m.StableID, m.Username))
			if id != "" {
				snap.unusable[id] = true
			}
			return
		}
		u := &entry{stableID: id, username: name, realName: e.GetAttributeValue(m.RealName), email: e.GetAttributeValue(m.Email)}
		for _, a := range m.Phones {
			u.phones = append(u.phones, e.GetAttributeValues(a)...)
		}
		if s.Kind == KindActiveDirectory {
			u.disabled = adDisabled(e)
		}
		if group >= 0 {
			u.inGroup(group)
		}
		if m.Membership == MemberOnGroup {
			for _, gi := range memberOf[normDN(e.DN)] {
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

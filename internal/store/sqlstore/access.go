package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
)

// AccessSubjects reads users, memberships and factors in a few plain
// scans, each in user id order, and merges them: correlated subqueries per
// user cost SQLite several times more than these scans. The users are then
// sorted by name in memory, cheaper than walking the username index. At
// 100,000 users every allocation per row shows, hence the preallocated
// slice, the statuses as constants and the groups in one backing array.
func (s queries) AccessSubjects(ctx context.Context, emails bool) ([]store.AccessSubject, error) {
	var n int
	if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return nil, wrap("access subjects", err)
	}
	email := `''`
	if emails {
		email = `email`
	}
	rows, err := s.q.QueryContext(ctx, `SELECT id, username, CASE status WHEN 'active' THEN 0 WHEN 'bypass' THEN 1
		WHEN 'disabled' THEN 2 WHEN 'locked_out' THEN 3 ELSE 4 END, `+email+` FROM users ORDER BY id`)
	if err != nil {
		return nil, wrap("access subjects", err)
	}
	statuses := []string{store.StatusActive, store.StatusBypass, store.StatusDisabled, store.StatusLockedOut}
	out := make([]store.AccessSubject, 0, n)
	for rows.Next() {
		var a store.AccessSubject
		var status int
		if err := rows.Scan(&a.ID, &a.Username, &status, &a.Email); err != nil {
			rows.Close()
			return nil, wrap("access subjects", err)
		}
		if status >= len(statuses) {
			rows.Close()
			return nil, fmt.Errorf("store: access subjects: user %d has an unknown status", a.ID)
		}
		a.Status = statuses[status]
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("access subjects", err)
	}
	// merge walks rows of (user id, value) in user id order beside out,
	// which is in id order too.
	merge := func(query string, fn func(a *store.AccessSubject, v int64)) error {
		rows, err := s.q.QueryContext(ctx, query)
		if err != nil {
			return wrap("access subjects", err)
		}
		defer rows.Close()
		i := 0
		for rows.Next() {
			var uid, v int64
			if err := rows.Scan(&uid, &v); err != nil {
				return wrap("access subjects", err)
			}
			for i < len(out) && out[i].ID < uid {
				i++
			}
			if i < len(out) && out[i].ID == uid {
				fn(&out[i], v)
			}
		}
		return wrap("access subjects", rows.Err())
	}
	// Memberships come grouped by user: each user's groups are a window
	// of one shared array, capped so that appending to one cannot spill
	// into the next.
	var backing []int64
	var starts []int
	var owners []*store.AccessSubject
	if err := merge(`SELECT user_id, group_id FROM user_groups ORDER BY user_id, group_id`,
		func(a *store.AccessSubject, g int64) {
			if len(owners) == 0 || owners[len(owners)-1] != a {
				owners, starts = append(owners, a), append(starts, len(backing))
			}
			backing = append(backing, g)
		}); err != nil {
		return nil, err
	}
	for i, a := range owners {
		end := len(backing)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		a.Groups = backing[starts[i]:end:end]
	}
	// Which kinds of factor each user holds, by the rule of factorKinds
	// (the one definition of enrolled).
	for _, k := range factorKinds {
		var set func(a *store.AccessSubject)
		switch k.method {
		case store.MethodAuthenticatorApp:
			set = func(a *store.AccessSubject) { a.HasAuthenticatorApp = true }
		case store.MethodSMS:
			set = func(a *store.AccessSubject) { a.HasSMSPhone = true }
		case store.MethodSecurityKey:
			set = func(a *store.AccessSubject) { a.HasSecurityKey = true }
		case store.MethodHardwareToken:
			set = func(a *store.AccessSubject) { a.HasHardwareToken = true }
		default:
			return nil, fmt.Errorf("store: access subjects: no flag for %s", k.method)
		}
		if err := merge(`SELECT DISTINCT f.user_id, 1 FROM (`+k.users+`) f ORDER BY f.user_id`,
			func(a *store.AccessSubject, _ int64) { set(a) }); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b store.AccessSubject) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

func (s queries) UsersWithLiveLinks(ctx context.Context, now time.Time) ([]int64, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT DISTINCT user_id FROM enrollment_links
		WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > ? ORDER BY user_id`, unix(now))
	if err != nil {
		return nil, wrap("users with live links", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("users with live links", err)
		}
		out = append(out, id)
	}
	return out, wrap("users with live links", rows.Err())
}

// FirstActivations reads the audit records of activated phones and
// registered security keys (through the action index), the first per user.
func (s queries) FirstActivations(ctx context.Context) ([]store.Activation, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT target, MIN(at) FROM audit_log
		WHERE action IN ('`+audit.PhoneActivated+`', '`+audit.SecurityKeyRegistered+`') AND target_type = '`+audit.TargetUser+`'
		GROUP BY target ORDER BY 2, 1`)
	if err != nil {
		return nil, wrap("first activations", err)
	}
	defer rows.Close()
	var out []store.Activation
	for rows.Next() {
		var a store.Activation
		var at int64
		if err := rows.Scan(&a.Username, &at); err != nil {
			return nil, wrap("first activations", err)
		}
		a.At = fromUnix(at)
		out = append(out, a)
	}
	return out, wrap("first activations", rows.Err())
}

func (s queries) AllGroupPolicies(ctx context.Context) ([]store.GroupPolicy, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT application_id, group_id, policy_id, priority FROM application_group_policies
		ORDER BY application_id, priority, group_id`)
	if err != nil {
		return nil, wrap("all group policies", err)
	}
	defer rows.Close()
	var out []store.GroupPolicy
	for rows.Next() {
		var gp store.GroupPolicy
		if err := rows.Scan(&gp.ApplicationID, &gp.GroupID, &gp.PolicyID, &gp.Priority); err != nil {
			return nil, wrap("all group policies", err)
		}
		out = append(out, gp)
	}
	return out, wrap("all group policies", rows.Err())
}

func (s queries) SetApplicationPolicy(ctx context.Context, appID int64, policyID *int64, at time.Time) error {
	defer s.invalidate()
	res, err := s.q.ExecContext(ctx, `UPDATE applications SET policy_id = ?, updated_at = ? WHERE id = ?`, policyID, unix(at), appID)
	if err != nil {
		return wrap("set application policy", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) SetApplicationGroups(ctx context.Context, appID int64, restricted bool, groups []int64, at time.Time) error {
	defer s.invalidate()
	res, err := s.q.ExecContext(ctx, `UPDATE applications SET groups_restricted = ?, updated_at = ? WHERE id = ?`, restricted, unix(at), appID)
	if err != nil {
		return wrap("set application groups", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	if _, err := s.q.ExecContext(ctx, `DELETE FROM application_groups WHERE application_id = ?`, appID); err != nil {
		return wrap("set application groups", err)
	}
	for _, g := range groups {
		if _, err := s.q.ExecContext(ctx, `INSERT INTO application_groups (application_id, group_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, appID, g); err != nil {
			return wrap("set application groups", err)
		}
	}
	return nil
}

func (s queries) DeleteGroupPolicy(ctx context.Context, appID, groupID int64) error {
	defer s.invalidate()
	res, err := s.q.ExecContext(ctx, `DELETE FROM application_group_policies WHERE application_id = ? AND group_id = ?`, appID, groupID)
	if err != nil {
		return wrap("delete group policy", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) DeletePolicy(ctx context.Context, id int64) error {
	defer s.invalidate()
	res, err := s.q.ExecContext(ctx, `DELETE FROM policies WHERE id = ? AND is_global = 0`, id)
	if err != nil {
		return wrap("delete policy", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

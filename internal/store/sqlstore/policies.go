package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"enrollportal/internal/store"
)

// Lists are stored comma-separated; NULL means "inherit" and '' an empty list.

func joinList(v []string) sql.NullString {
	if v == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: strings.Join(v, ","), Valid: true}
}

func splitList(n sql.NullString) []string {
	if !n.Valid {
		return nil
	}
	if n.String == "" {
		return []string{}
	}
	return strings.Split(n.String, ",")
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

const policyColumns = `id, policy_key, name, is_global, new_user_policy, denied_countries, enroll_methods, auth_methods, created_at, updated_at`

func scanPolicy(row interface{ Scan(...any) error }) (store.Policy, error) {
	var p store.Policy
	var nup, denied, enroll, auth sql.NullString
	var created, updated int64
	err := row.Scan(&p.ID, &p.Key, &p.Name, &p.IsGlobal, &nup, &denied, &enroll, &auth, &created, &updated)
	p.NewUserPolicy = nup.String
	p.DeniedCountries, p.EnrollMethods, p.AuthMethods = splitList(denied), splitList(enroll), splitList(auth)
	p.CreatedAt, p.UpdatedAt = fromUnix(created), fromUnix(updated)
	return p, err
}

func (s queries) CreatePolicy(ctx context.Context, p *store.Policy) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO policies (policy_key, name, is_global, new_user_policy, denied_countries, enroll_methods, auth_methods, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.Key, p.Name, p.IsGlobal, nullString(p.NewUserPolicy), joinList(p.DeniedCountries), joinList(p.EnrollMethods),
		joinList(p.AuthMethods), unix(p.CreatedAt), unix(p.UpdatedAt)).Scan(&p.ID)
	s.invalidate()
	return wrap("create policy", err)
}

func (s queries) UpdatePolicy(ctx context.Context, p store.Policy) error {
	res, err := s.q.ExecContext(ctx, `
		UPDATE policies SET name = ?, new_user_policy = ?, denied_countries = ?, enroll_methods = ?, auth_methods = ?, updated_at = ?
		WHERE id = ?`,
		p.Name, nullString(p.NewUserPolicy), joinList(p.DeniedCountries), joinList(p.EnrollMethods), joinList(p.AuthMethods),
		unix(p.UpdatedAt), p.ID)
	s.invalidate()
	if err != nil {
		return wrap("update policy", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) PolicyByID(ctx context.Context, id int64) (store.Policy, error) {
	return cached(ctx, s,
		func(c *configCache) (store.Policy, bool) { p, ok := c.policies[id]; return p, ok },
		func() (store.Policy, error) {
			p, err := scanPolicy(s.q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies WHERE id = ?`, id))
			return p, wrap("policy by id", err)
		},
		func(c *configCache, p store.Policy) { c.policies[id] = p },
		clonePolicy)
}

func (s queries) GlobalPolicy(ctx context.Context) (store.Policy, error) {
	return cached(ctx, s,
		func(c *configCache) (store.Policy, bool) {
			if c.global == nil {
				return store.Policy{}, false
			}
			return *c.global, true
		},
		func() (store.Policy, error) {
			p, err := scanPolicy(s.q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies WHERE is_global = 1`))
			return p, wrap("global policy", err)
		},
		func(c *configCache, p store.Policy) { c.global = &p },
		clonePolicy)
}

func (s queries) Policies(ctx context.Context) ([]store.Policy, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+policyColumns+` FROM policies ORDER BY is_global DESC, name`)
	if err != nil {
		return nil, wrap("policies", err)
	}
	defer rows.Close()
	var out []store.Policy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, wrap("policies", err)
		}
		out = append(out, p)
	}
	return out, wrap("policies", rows.Err())
}

func (s queries) SetGroupPolicy(ctx context.Context, gp store.GroupPolicy) error {
	_, err := s.q.ExecContext(ctx, `
		INSERT INTO application_group_policies (application_id, group_id, policy_id, priority) VALUES (?, ?, ?, ?)
		ON CONFLICT (application_id, group_id) DO UPDATE SET policy_id = excluded.policy_id, priority = excluded.priority`,
		gp.ApplicationID, gp.GroupID, gp.PolicyID, gp.Priority)
	s.invalidate()
	return wrap("set group policy", err)
}

func (s queries) GroupPolicies(ctx context.Context, applicationID int64) ([]store.GroupPolicy, error) {
	return cached(ctx, s,
		func(c *configCache) ([]store.GroupPolicy, bool) {
			g, ok := c.groupPolicies[applicationID]
			return g, ok
		},
		func() ([]store.GroupPolicy, error) { return s.loadGroupPolicies(ctx, applicationID) },
		func(c *configCache, g []store.GroupPolicy) { c.groupPolicies[applicationID] = g },
		slices.Clone[[]store.GroupPolicy])
}

func (s queries) loadGroupPolicies(ctx context.Context, applicationID int64) ([]store.GroupPolicy, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT application_id, group_id, policy_id, priority FROM application_group_policies
		WHERE application_id = ? ORDER BY priority, group_id`, applicationID)
	if err != nil {
		return nil, wrap("group policies", err)
	}
	defer rows.Close()
	var out []store.GroupPolicy
	for rows.Next() {
		var gp store.GroupPolicy
		if err := rows.Scan(&gp.ApplicationID, &gp.GroupID, &gp.PolicyID, &gp.Priority); err != nil {
			return nil, wrap("group policies", err)
		}
		out = append(out, gp)
	}
	return out, wrap("group policies", rows.Err())
}

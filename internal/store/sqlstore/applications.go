package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"enrollportal/internal/store"
)

const appColumns = `id, app_key, name, kind, client_id, client_secret, policy_id, username_normalization,
	groups_restricted, admin_grants, created_at, updated_at`

func (s queries) CreateApplication(ctx context.Context, a *store.Application) error {
	defer s.invalidate()
	var policyID sql.NullInt64
	if a.PolicyID != nil {
		policyID = sql.NullInt64{Int64: *a.PolicyID, Valid: true}
	}
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO applications (app_key, name, kind, client_id, client_secret, policy_id, username_normalization,
			groups_restricted, admin_grants, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Key, a.Name, a.Kind, a.ClientID, a.ClientSecret, policyID, a.UsernameNormalization,
		a.GroupsRestricted, strings.Join(a.AdminGrants, ","), unix(a.CreatedAt), unix(a.UpdatedAt)).Scan(&a.ID)
	if err != nil {
		return wrap("create application", err)
	}
	for _, uri := range a.RedirectURIs {
		if _, err := s.q.ExecContext(ctx, `INSERT INTO application_redirect_uris (application_id, uri) VALUES (?, ?) ON CONFLICT DO NOTHING`, a.ID, uri); err != nil {
			return wrap("create application redirect uri", err)
		}
	}
	for _, g := range a.PermittedGroups {
		if _, err := s.q.ExecContext(ctx, `INSERT INTO application_groups (application_id, group_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, a.ID, g); err != nil {
			return wrap("create application group", err)
		}
	}
	return nil
}

// loadApplication reads an application with its redirect URIs and
// permitted groups in one statement: every signed API call loads one.
func (s queries) loadApplication(ctx context.Context, where string, arg any) (store.Application, error) {
	var a store.Application
	var policyID sql.NullInt64
	var created, updated int64
	var uris, groups, grants string
	err := s.q.QueryRowContext(ctx, `SELECT `+appColumns+`,
		`+s.d.jsonArray("uri", `SELECT uri FROM application_redirect_uris WHERE application_id = applications.id ORDER BY uri`)+`,
		`+s.d.jsonArray("group_id", `SELECT group_id FROM application_groups WHERE application_id = applications.id ORDER BY group_id`)+`
		FROM applications WHERE `+where, arg).
		Scan(&a.ID, &a.Key, &a.Name, &a.Kind, &a.ClientID, &a.ClientSecret, &policyID, &a.UsernameNormalization,
			&a.GroupsRestricted, &grants, &created, &updated, &uris, &groups)
	if err != nil {
		return a, wrap("application", err)
	}
	if policyID.Valid {
		a.PolicyID = &policyID.Int64
	}
	a.CreatedAt, a.UpdatedAt = fromUnix(created), fromUnix(updated)
	if err := json.Unmarshal([]byte(uris), &a.RedirectURIs); err != nil {
		return a, fmt.Errorf("store: application redirect uris: %w", err)
	}
	if err := json.Unmarshal([]byte(groups), &a.PermittedGroups); err != nil {
		return a, fmt.Errorf("store: application groups: %w", err)
	}
	if grants != "" {
		a.AdminGrants = strings.Split(grants, ",")
	}
	// None is nil, as callers have always seen it.
	if len(a.RedirectURIs) == 0 {
		a.RedirectURIs = nil
	}
	if len(a.PermittedGroups) == 0 {
		a.PermittedGroups = nil
	}
	return a, nil
}

func (s queries) ApplicationByID(ctx context.Context, id int64) (store.Application, error) {
	return s.loadApplication(ctx, "id = ?", id)
}

func (s queries) ApplicationByKey(ctx context.Context, key string) (store.Application, error) {
	return s.cachedApplication(ctx, "key:"+key, "app_key = ?", key)
}

// cachedApplication loads an application through the config cache.
func (s queries) cachedApplication(ctx context.Context, cacheKey, where string, arg any) (store.Application, error) {
	return cached(ctx, s,
		func(c *configCache) (store.Application, bool) { a, ok := c.apps[cacheKey]; return a, ok },
		func() (store.Application, error) { return s.loadApplication(ctx, where, arg) },
		func(c *configCache, a store.Application) { c.apps[cacheKey] = a },
		cloneApp)
}

func (s queries) ApplicationByClientID(ctx context.Context, clientID string) (store.Application, error) {
	return s.cachedApplication(ctx, "client:"+clientID, "client_id = ?", clientID)
}

func (s queries) Applications(ctx context.Context) ([]store.Application, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id FROM applications ORDER BY name, id`)
	if err != nil {
		return nil, wrap("applications", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap("applications", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]store.Application, 0, len(ids))
	for _, id := range ids {
		a, err := s.ApplicationByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// ApplicationSummaries reads every application with its policy's name,
// redirect URIs, permitted groups and last use in one statement: the admin
// list shows them all at once, a thousand of them in a few milliseconds.
func (s queries) ApplicationSummaries(ctx context.Context) ([]store.ApplicationSummary, error) {
	return s.applicationSummaries(ctx, "", nil)
}

func (s queries) ApplicationSummaryByKey(ctx context.Context, key string) (store.ApplicationSummary, error) {
	list, err := s.applicationSummaries(ctx, "WHERE a.app_key = ?", key)
	if err != nil {
		return store.ApplicationSummary{}, err
	}
	if len(list) == 0 {
		return store.ApplicationSummary{}, store.ErrNotFound
	}
	return list[0], nil
}

func (s queries) applicationSummaries(ctx context.Context, where string, arg any) ([]store.ApplicationSummary, error) {
	var args []any
	if arg != nil {
		args = append(args, arg)
	}
	rows, err := s.q.QueryContext(ctx, `SELECT a.id, a.app_key, a.name, a.kind, a.client_id, a.policy_id,
			a.username_normalization, a.groups_restricted, a.admin_grants, a.created_at, a.updated_at, a.last_used_at,
			COALESCE(p.name, ''), COALESCE(p.new_user_policy, ''),
			`+s.d.jsonArray("uri", `SELECT uri FROM application_redirect_uris WHERE application_id = a.id ORDER BY uri`)+`,
			`+s.d.jsonArray(s.d.jsonPair("j.id", "j.name"), `SELECT g.id, g.name FROM application_groups ag JOIN groups g ON g.id = ag.group_id
				 WHERE ag.application_id = a.id ORDER BY g.name`)+`
		FROM applications a LEFT JOIN policies p ON p.id = a.policy_id
		`+where+`
		ORDER BY a.name, a.id`, args...)
	if err != nil {
		return nil, wrap("application summaries", err)
	}
	defer rows.Close()
	var out []store.ApplicationSummary
	for rows.Next() {
		var a store.ApplicationSummary
		var policyID, lastUsed sql.NullInt64
		var created, updated int64
		var uris, groups, grants string
		if err := rows.Scan(&a.ID, &a.Key, &a.Name, &a.Kind, &a.ClientID, &policyID, &a.UsernameNormalization,
			&a.GroupsRestricted, &grants, &created, &updated, &lastUsed, &a.PolicyName, &a.PolicyNewUser, &uris, &groups); err != nil {
			return nil, wrap("application summaries", err)
		}
		if grants != "" {
			a.AdminGrants = strings.Split(grants, ",")
		}
		if policyID.Valid {
			a.PolicyID = &policyID.Int64
		}
		a.CreatedAt, a.UpdatedAt, a.LastUsedAt = fromUnix(created), fromUnix(updated), fromNullUnix(lastUsed)
		if err := json.Unmarshal([]byte(uris), &a.RedirectURIs); err != nil {
			return nil, fmt.Errorf("store: application redirect uris: %w", err)
		}
		var pairs [][2]any
		if err := json.Unmarshal([]byte(groups), &pairs); err != nil {
			return nil, fmt.Errorf("store: application groups: %w", err)
		}
		for _, pair := range pairs {
			id, _ := pair[0].(float64)
			name, _ := pair[1].(string)
			a.PermittedGroups = append(a.PermittedGroups, int64(id))
			a.GroupNames = append(a.GroupNames, name)
		}
		if len(a.RedirectURIs) == 0 {
			a.RedirectURIs = nil
		}
		out = append(out, a)
	}
	return out, wrap("application summaries", rows.Err())
}

func (s queries) UpdateApplicationDetails(ctx context.Context, a store.Application) error {
	defer s.invalidate()
	res, err := s.q.ExecContext(ctx, `UPDATE applications SET name = ?, username_normalization = ?, updated_at = ? WHERE id = ?`,
		a.Name, a.UsernameNormalization, unix(a.UpdatedAt), a.ID)
	if err != nil {
		return wrap("update application", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	if _, err := s.q.ExecContext(ctx, `DELETE FROM application_redirect_uris WHERE application_id = ?`, a.ID); err != nil {
		return wrap("update application redirect uris", err)
	}
	for _, uri := range a.RedirectURIs {
		if _, err := s.q.ExecContext(ctx, `INSERT INTO application_redirect_uris (application_id, uri) VALUES (?, ?) ON CONFLICT DO NOTHING`, a.ID, uri); err != nil {
			return wrap("update application redirect uri", err)
		}
	}
	return nil
}

func (s queries) SetApplicationSecret(ctx context.Context, id int64, sealed []byte, at time.Time) error {
	defer s.invalidate()
	res, err := s.q.ExecContext(ctx, `UPDATE applications SET client_secret = ?, updated_at = ? WHERE id = ?`, sealed, unix(at), id)
	if err != nil {
		return wrap("set application secret", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteApplication relies on the schema's ON DELETE CASCADE for what
// belongs to the application, so that nothing is left behind however the
// schema grows.
func (s queries) DeleteApplication(ctx context.Context, id int64) error {
	defer s.invalidate()
	res, err := s.q.ExecContext(ctx, `DELETE FROM applications WHERE id = ?`, id)
	if err != nil {
		return wrap("delete application", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// RecordApplicationUse writes the times as one JSON object of id -> unix
// time, so that any number of applications take one statement. It leaves
// the config cache alone: the cached rows do not hold the last use.
func (s queries) RecordApplicationUse(ctx context.Context, used map[int64]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	times := make(map[string]int64, len(used))
	for id, at := range used {
		times[strconv.FormatInt(id, 10)] = unix(at)
	}
	doc, err := json.Marshal(times)
	if err != nil {
		return fmt.Errorf("store: record application use: %w", err)
	}
	_, err = s.q.ExecContext(ctx, `UPDATE applications
		SET last_used_at = `+s.d.greatest("COALESCE(last_used_at, 0)", "u.value")+`
		FROM `+s.d.idValues()+` AS u
		WHERE applications.id = u.id`, string(doc))
	return wrap("record application use", err)
}

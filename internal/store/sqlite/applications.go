package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

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
		(SELECT json_group_array(uri) FROM
			(SELECT uri FROM application_redirect_uris WHERE application_id = applications.id ORDER BY uri)),
		(SELECT json_group_array(group_id) FROM
			(SELECT group_id FROM application_groups WHERE application_id = applications.id ORDER BY group_id))
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
		return a, fmt.Errorf("sqlite: application redirect uris: %w", err)
	}
	if err := json.Unmarshal([]byte(groups), &a.PermittedGroups); err != nil {
		return a, fmt.Errorf("sqlite: application groups: %w", err)
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
	return cached(s,
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

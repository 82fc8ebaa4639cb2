package sqlstore

import (
	"context"

	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

func scanGroups(rows rowsScanner, op string) ([]store.Group, error) {
	defer rows.Close()
	var out []store.Group
	for rows.Next() {
		var g store.Group
		var created int64
		if err := rows.Scan(&g.ID, &g.Key, &g.Name, &g.Description, &created); err != nil {
			return nil, wrap(op, err)
		}
		g.CreatedAt = fromUnix(created)
		out = append(out, g)
	}
	return out, wrap(op, rows.Err())
}

func (s queries) CreateGroup(ctx context.Context, g *store.Group) error {
	if err := text.CheckAll("group name", g.Name, "description", g.Description); err != nil {
		return err
	}
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO groups (group_key, name, description, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		g.Key, g.Name, g.Description, unix(g.CreatedAt)).Scan(&g.ID)
	return wrap("create group", err)
}

func (s queries) GroupByName(ctx context.Context, name string) (store.Group, error) {
	var g store.Group
	var created int64
	err := s.q.QueryRowContext(ctx, `SELECT id, group_key, name, description, created_at FROM groups WHERE name = ?`, name).
		Scan(&g.ID, &g.Key, &g.Name, &g.Description, &created)
	g.CreatedAt = fromUnix(created)
	return g, wrap("group by name", err)
}

func (s queries) Groups(ctx context.Context) ([]store.Group, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id, group_key, name, description, created_at FROM groups ORDER BY name`)
	if err != nil {
		return nil, wrap("groups", err)
	}
	return scanGroups(rows, "groups")
}

func (s queries) AddUserToGroup(ctx context.Context, userID, groupID int64) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO user_groups (user_id, group_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, userID, groupID)
	return wrap("add user to group", err)
}

func (s queries) RemoveUserFromGroup(ctx context.Context, userID, groupID int64) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM user_groups WHERE user_id = ? AND group_id = ?`, userID, groupID)
	return wrap("remove user from group", err)
}

func (s queries) GroupsOfUser(ctx context.Context, userID int64) ([]store.Group, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT g.id, g.group_key, g.name, g.description, g.created_at
		FROM groups g JOIN user_groups ug ON ug.group_id = g.id
		WHERE ug.user_id = ? ORDER BY g.name`, userID)
	if err != nil {
		return nil, wrap("groups of user", err)
	}
	return scanGroups(rows, "groups of user")
}

func (s queries) GroupIDsOfUser(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT group_id FROM user_groups WHERE user_id = ?`, userID)
	if err != nil {
		return nil, wrap("group ids of user", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("group ids of user", err)
		}
		out = append(out, id)
	}
	return out, wrap("group ids of user", rows.Err())
}

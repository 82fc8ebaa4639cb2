package store

import (
	"context"
	"time"
)

// Group is a named set of users; policies and applications refer to groups.
type Group struct {
	ID          int64
	Key         string // public id, "DG..."
	Name        string
	Description string
	CreatedAt   time.Time
}

// GroupQueries reads and writes groups and memberships.
type GroupQueries interface {
	// CreateGroup inserts g and sets its ID. ErrConflict when the name is taken.
	CreateGroup(ctx context.Context, g *Group) error
	GroupByName(ctx context.Context, name string) (Group, error)
	Groups(ctx context.Context) ([]Group, error)
	AddUserToGroup(ctx context.Context, userID, groupID int64) error
	RemoveUserFromGroup(ctx context.Context, userID, groupID int64) error
	GroupsOfUser(ctx context.Context, userID int64) ([]Group, error)
	// GroupIDsOfUser lists the ids of the user's groups: the cheap form a
	// login's policy check needs.
	GroupIDsOfUser(ctx context.Context, userID int64) ([]int64, error)
}

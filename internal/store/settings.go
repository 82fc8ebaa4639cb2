package store

import "context"

// SettingQueries reads and writes the organisation's settings, a small
// name -> value table.
type SettingQueries interface {
	// Setting returns the value of name, or ErrNotFound.
	Setting(ctx context.Context, name string) (string, error)
	PutSetting(ctx context.Context, name, value string) error
}

package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"enrollportal/internal/org"
	"enrollportal/internal/store"
)

// checker holds what the first pass knows: every name (username or alias)
// in the database or claimed by an earlier line, and the groups and tokens
// seen. Users created by the file get negative ids (-line).
type checker struct {
	mode      Mode
	store     Store
	region    string
	names     map[string]int64 // username or alias -> user id (negative: created on line -id)
	seen      map[int64]int    // user id -> the line that lists it
	groups    map[string]bool  // existing groups
	newGroups map[string]bool
	tokens    map[string]int64 // serial -> token id (0: none)
}

func (s *Service) newChecker(ctx context.Context, mode Mode) (*checker, error) {
	c := &checker{
		mode: mode, store: s.store,
		names: map[string]int64{}, seen: map[int64]int{},
		groups: map[string]bool{}, newGroups: map[string]bool{}, tokens: map[string]int64{},
	}
	var err error
	if c.region, err = org.PhoneRegion(ctx, s.store); err != nil {
		return nil, fmt.Errorf("importer: region: %w", err)
	}
	err = s.store.EachUserName(ctx, func(e store.UserNameIndexEntry) error {
		c.names[e.Name] = e.UserID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("importer: index users: %w", err)
	}
	groups, err := s.store.Groups(ctx)
	if err != nil {
		return nil, fmt.Errorf("importer: groups: %w", err)
	}
	for _, g := range groups {
		c.groups[g.Name] = true
	}
	return c, nil
}

// whose describes the holder of a name for an error message.
func whose(id int64) string {
	if id < 0 {
		return fmt.Sprintf("the user on line %d", -id)
	}
	return "another existing user"
}

// checkRow checks one line and returns its plan, or the problems found.
func (c *checker) checkRow(ctx context.Context, line int, r record) (planRow, []string) {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	row := planRow{Line: line}
	if r.username == "" {
		return row, []string{"username is empty"}
	}
	username, err := checkUsernameLike("username", r.username)
	if err != nil {
		return row, []string{err.Error()}
	}
	row.Username = username
	id, exists := c.names[username]
	if prev, dup := c.seen[id]; exists && dup {
		return row, []string{fmt.Sprintf("%s is already on line %d", username, prev)}
	}
	if c.mode == ModeDelete {
		if !exists || id < 0 {
			return row, []string{fmt.Sprintf("there is no user %s to delete", username)}
		}
		c.seen[id] = line
		row.UserID, row.Delete = id, true
		return row, nil
	}
	if !exists {
		id = int64(-line)
		c.names[username] = id
	}
	c.seen[id] = line
	if id > 0 {
		row.UserID = id
	}

	if r.hasRealname {
		if err := checkText("realname", r.realname, maxRealName); err != nil {
			bad("%v", err)
		}
		row.RealName, row.HasRealName = r.realname, true
	}
	if r.hasEmail {
		if err := checkEmail(r.email); err != nil {
			bad("email %q does not look right; it should look like name@example.com", r.email)
		}
		row.Email, row.HasEmail = r.email, true
	}
	if r.hasStatus {
		st, ok := importStatuses[strings.ToLower(r.status)]
		if !ok {
			bad("status %q is not active, bypass or disabled", r.status)
		}
		row.Status, row.HasStatus = st, true
	}
	if r.hasNotes {
		if err := checkText("notes", r.notes, maxNotes); err != nil {
			bad("%v", err)
		}
		row.Notes, row.HasNotes = r.notes, true
	}
	for i, a := range r.aliases {
		if !r.hasAlias[i] {
			continue
		}
		alias, err := checkUsernameLike(fmt.Sprintf("alias%d", i+1), a)
		if err != nil {
			bad("%v", err)
			continue
		}
		if owner, taken := c.names[alias]; taken && owner != id {
			bad("alias%d %s is already the username or an alias of %s", i+1, alias, whose(owner))
			continue
		}
		c.names[alias] = id
		row.Aliases[i], row.HasAlias[i] = alias, true
	}
	for _, p := range r.phones {
		pp, err := checkPhone(p, c.region)
		if err != nil {
			bad("%v", err)
			continue
		}
		row.Phones = append(row.Phones, planPhone{Number: pp.Number, Extension: pp.Extension, Type: pp.Type, Platform: pp.Platform, TypeGiven: p.kind != "", PlatformGiven: p.platform != ""})
	}
	for _, g := range r.groups {
		if err := checkText("group name", g, maxGroupName); err != nil {
			bad("%v", err)
			continue
		}
		if !c.groups[g] {
			c.newGroups[g] = true
		}
		row.Groups = append(row.Groups, g)
	}
	for _, serial := range r.tokens {
		tokenID, err := c.token(ctx, serial)
		if err != nil {
			return row, []string{"could not look up hardware tokens; try again"}
		}
		if tokenID == 0 {
			bad("hardware token %q is not imported; import the tokens first", serial)
			continue
		}
		row.Tokens = append(row.Tokens, tokenID)
	}
	return row, problems
}

func (c *checker) token(ctx context.Context, serial string) (int64, error) {
	if len(serial) > maxSerial {
		return 0, nil
	}
	if id, ok := c.tokens[serial]; ok {
		return id, nil
	}
	id, err := c.store.HardwareTokenBySerial(ctx, serial)
	if errors.Is(err, store.ErrNotFound) {
		id, err = 0, nil
	}
	if err != nil {
		return 0, err
	}
	c.tokens[serial] = id
	return id, nil
}

package adminapi

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"enrollportal/internal/enroll"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// profileParams are the user fields a create or a modify takes.
var profileParams = []string{"username", "realname", "status", "notes", "email", "firstname", "lastname",
	"alias1", "alias2", "alias3", "alias4", "aliases"}

// loadUser finds the user of the :user_id path segment, answering 40401
// when there is none.
func (k *call) loadUser() (store.APIUser, bool) {
	found, _, err := k.a.store.APIUsers(k.ctx(), store.APIUserFilter{Keys: []string{k.c.Param("user_id")}, Limit: 1})
	if err != nil {
		k.fail(err)
		return store.APIUser{}, false
	}
	if len(found) == 0 {
		k.notFound("user")
		return store.APIUser{}, false
	}
	return found[0], true
}

// userObjects are users as Duo's clients decode them. is_enrolled is the
// one definition of enrolled (policy.Factors) under the organisation's
// methods, as the admin section's pages and figures decide it.
func (k *call) userObjects(found []store.APIUser) ([]userObject, bool) {
	methods, err := policy.OrganisationMethods(k.ctx(), k.a.store)
	if err != nil {
		k.fail(err)
		return nil, false
	}
	out := make([]userObject, 0, len(found))
	for _, u := range found {
		out = append(out, userOf(u, methods))
	}
	return out, true
}

// UsersGET lists users, filtered by username, email, username_list or
// user_id_list.
func (k *call) UsersGET() {
	pg := k.page()
	f := store.APIUserFilter{Offset: pg.offset, Limit: pg.limit, Email: strings.TrimSpace(k.str("email")),
		Usernames: k.stringList("username_list"), Keys: k.stringList("user_id_list")}
	if k.has("username") {
		f.Username = users.Normalize(k.str("username"))
		if f.Username == "" {
			k.bad("username must not be empty")
		}
	}
	for i, n := range f.Usernames {
		f.Usernames[i] = users.Normalize(n)
	}
	if k.failed {
		return
	}
	found, total, err := k.a.store.APIUsers(k.ctx(), f)
	if err != nil {
		k.fail(err)
		return
	}
	if out, ok := k.userObjects(found); ok {
		k.okPage(out, pg, total)
	}
}

// applyProfile writes the profile fields the call carries over p.
func (k *call) applyProfile(p *users.Profile) {
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"username", &p.Username}, {"realname", &p.RealName}, {"firstname", &p.FirstName},
		{"lastname", &p.LastName}, {"email", &p.Email}, {"notes", &p.Notes}, {"status", &p.Status},
	} {
		if k.has(f.name) {
			*f.dst = k.str(f.name)
		}
	}
	if p.Status == "locked out" {
		p.Status = store.StatusLockedOut
	}
	if k.has("aliases") {
		aliases, err := parseAliases(k.str("aliases"))
		if err != nil {
			k.bad(err.Error())
			return
		}
		p.Aliases = aliases
	}
	for i := range 4 {
		if name := "alias" + strconv.Itoa(i+1); k.has(name) {
			p.Aliases[i] = k.str(name)
		}
	}
}

// parseAliases reads Duo's aliases parameter: "alias1=a&alias2=b" (as the
// Python client sends it) or a JSON object of the same keys (a v5 body).
// The aliases it names replace all of them.
func parseAliases(raw string) ([4]string, error) {
	var out [4]string
	pairs := map[string]string{}
	if strings.HasPrefix(strings.TrimSpace(raw), "{") {
		if err := json.Unmarshal([]byte(raw), &pairs); err != nil {
			return out, errors.New("aliases must be alias1=...&alias2=... or a JSON object of those keys")
		}
	} else if raw != "" {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return out, errors.New("aliases must be alias1=...&alias2=... or a JSON object of those keys")
		}
		for key := range v {
			pairs[key] = v.Get(key)
		}
	}
	for key, alias := range pairs {
		n, err := strconv.Atoi(strings.TrimPrefix(key, "alias"))
		if !strings.HasPrefix(key, "alias") || err != nil || n < 1 || n > 4 {
			return out, errors.New("aliases takes alias1 to alias4")
		}
		out[n-1] = alias
	}
	return out, nil
}

// UsersPOST creates a user.
func (k *call) UsersPOST() {
	p := users.Profile{Status: store.StatusActive}
	k.applyProfile(&p)
	if !k.has("username") {
		k.bad(`missing required parameter "username"`)
	}
	if k.failed {
		return
	}
	created, err := k.a.users.CreateProfiles(k.ctx(), []users.Profile{p}, k.who())
	if err != nil {
		var pe *users.ProfileError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		k.fail(err)
		return
	}
	k.answerUser(created[0].Key)
}

// answerUser answers the user keyed key as it is now.
func (k *call) answerUser(key string) {
	found, _, err := k.a.store.APIUsers(k.ctx(), store.APIUserFilter{Keys: []string{key}, Limit: 1})
	if err != nil {
		k.fail(err)
		return
	}
	if len(found) == 0 {
		k.notFound("user")
		return
	}
	if out, ok := k.userObjects(found); ok {
		k.ok(out[0])
	}
}

// MaxBulkUsersLength bounds the users parameter of bulk_create, which may
// be longer than any other parameter: 100 users with every field.
const MaxBulkUsersLength = 256 << 10

// BulkCreatePOST creates up to users.MaxBulkCreate users in one
// transaction: all of them, or none with the first problem named.
func (k *call) BulkCreatePOST() {
	raw := k.required("users")
	if k.failed {
		return
	}
	var items []map[string]any
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		k.bad("users must be a JSON array of user objects")
		return
	}
	if len(items) == 0 {
		k.bad("users must hold at least one user")
		return
	}
	if len(items) > users.MaxBulkCreate {
		k.bad(users.ErrTooMany.Error())
		return
	}
	profiles := make([]users.Profile, len(items))
	for i, item := range items {
		p := users.Profile{Status: store.StatusActive}
		fields := url.Values{}
		for key, v := range item {
			s, ok := v.(string)
			if !ok && key != "aliases" {
				k.bad("users[" + strconv.Itoa(i) + "]." + key + " must be a string")
				return
			}
			if key == "aliases" && !ok {
				b, _ := json.Marshal(v)
				s = string(b)
			}
			fields.Set(key, s)
		}
		sub := &call{a: k.a, c: k.c, app: k.app, params: fields}
		for key := range fields {
			if !contains(profileParams, key) {
				k.bad("users[" + strconv.Itoa(i) + "]: unknown field " + strconv.Quote(key))
				return
			}
		}
		if !sub.has("username") {
			k.bad("users[" + strconv.Itoa(i) + "]: missing username")
			return
		}
		sub.applyProfile(&p)
		if sub.failed {
			k.failed = true
			return
		}
		profiles[i] = p
	}
	created, err := k.a.users.CreateProfiles(k.ctx(), profiles, k.who())
	if err != nil {
		k.fail(err)
		return
	}
	keys := make([]string, len(created))
	for i, u := range created {
		keys[i] = u.Key
	}
	found, _, err := k.a.store.APIUsers(k.ctx(), store.APIUserFilter{Keys: keys, Limit: len(keys)})
	if err != nil {
		k.fail(err)
		return
	}
	if out, ok := k.userObjects(found); ok {
		k.ok(out)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Enrollment links sent by the Admin API: Duo's default of 30 days.
const defaultEnrollValidSecs = 30 * 24 * 3600

// EnrollPOST creates the user when needed and emails them an enrollment
// link through the outbox; it answers the link's code (the last segment of
// the enrollment URL in the email).
func (k *call) EnrollPOST() {
	username := k.required("username")
	email := k.required("email")
	if k.has("valid_secs") && k.str("valid_secs") == "0" {
		k.bad("valid_secs must be from 1 to " + strconv.Itoa(int(enroll.MaxEmailedLinkTTL/time.Second)) +
			": enrollment links here always expire")
	}
	secs := k.integer("valid_secs", defaultEnrollValidSecs, 1, int(enroll.MaxEmailedLinkTTL/time.Second))
	if k.failed {
		return
	}
	issued, err := k.a.enroll.EnrollByEmail(k.ctx(), username, email, time.Duration(secs)*time.Second, k.who())
	if err != nil {
		k.fail(err)
		return
	}
	k.ok(issued.Token)
}

// UserGET answers one user.
func (k *call) UserGET() {
	u, ok := k.loadUser()
	if !ok {
		return
	}
	if out, ok := k.userObjects([]store.APIUser{u}); ok {
		k.ok(out[0])
	}
}

// UserPOST modifies a user: the fields given change, the others stay.
func (k *call) UserPOST() {
	u, ok := k.loadUser()
	if !ok {
		return
	}
	p := users.ProfileOf(u)
	k.applyProfile(&p)
	if k.failed {
		return
	}
	if err := k.a.users.UpdateProfile(k.ctx(), u, p, k.who()); err != nil {
		k.fail(err)
		return
	}
	k.answerUser(u.Key)
}

// UserDELETE deletes a user with their devices and links. Deleting a user
// already gone answers OK, as Duo does.
func (k *call) UserDELETE() {
	u, err := k.a.store.UserByKey(k.ctx(), k.c.Param("user_id"))
	if errors.Is(err, store.ErrNotFound) {
		k.ok("")
		return
	}
	if err != nil {
		k.fail(err)
		return
	}
	if err := k.a.users.Delete(k.ctx(), u, k.who()); err != nil {
		k.fail(err)
		return
	}
	k.ok("")
}

// pageOf cuts a page out of a list already loaded whole (a user's groups,
// phones or tokens: a handful each).
func pageOf[T any](list []T, pg page) []T {
	if pg.offset >= len(list) {
		return []T{}
	}
	end := min(len(list), pg.offset+pg.limit)
	return list[pg.offset:end]
}

// userList answers one of a user's lists (groups, phones, tokens, security
// keys), a page of it.
func userList[T, O any](k *call, list func(store.APIUser) []T, object func(T) O) {
	pg := k.page()
	if k.failed {
		return
	}
	u, ok := k.loadUser()
	if !ok {
		return
	}
	all := list(u)
	out := make([]O, 0, len(all))
	for _, v := range pageOf(all, pg) {
		out = append(out, object(v))
	}
	k.okPage(out, pg, len(all))
}

// UserGroupsGET lists a user's groups.
func (k *call) UserGroupsGET() {
	userList(k, func(u store.APIUser) []store.Group { return u.Groups }, groupOf)
}

// loadGroup finds the group keyed key, answering 40401 when there is none.
func (k *call) loadGroup(key string) (store.Group, bool) {
	g, err := k.a.store.GroupByKey(k.ctx(), key)
	if errors.Is(err, store.ErrNotFound) {
		k.notFound("group")
		return g, false
	}
	if err != nil {
		k.fail(err)
		return g, false
	}
	return g, true
}

// UserGroupsPOST adds a user to a group.
func (k *call) UserGroupsPOST() {
	gid := k.required("group_id")
	if k.failed {
		return
	}
	u, ok := k.loadUser()
	if !ok {
		return
	}
	g, ok := k.loadGroup(gid)
	if !ok {
		return
	}
	if err := k.a.users.JoinGroup(k.ctx(), u.User, g, k.who()); err != nil {
		k.fail(err)
		return
	}
	k.ok("")
}

// UserGroupDELETE takes a user out of a group.
func (k *call) UserGroupDELETE() {
	u, ok := k.loadUser()
	if !ok {
		return
	}
	g, ok := k.loadGroup(k.c.Param("group_id"))
	if !ok {
		return
	}
	if err := k.a.users.LeaveGroup(k.ctx(), u.User, g, k.who()); err != nil {
		k.fail(err)
		return
	}
	k.ok("")
}

// UserPhonesGET lists a user's phones.
func (k *call) UserPhonesGET() {
	userList(k, func(u store.APIUser) []store.Phone { return u.Phones },
		func(p store.Phone) phoneObject { return phoneOf(store.APIPhone{Phone: p}) })
}

// UserTokensGET lists a user's hardware tokens.
func (k *call) UserTokensGET() {
	userList(k, func(u store.APIUser) []store.HardwareToken { return u.Tokens }, tokenOf)
}

// UserWebAuthnGET lists a user's security keys and passkeys.
func (k *call) UserWebAuthnGET() {
	userList(k, func(u store.APIUser) []store.SecurityKey { return u.Keys }, webauthnOf)
}

// UserU2FTokensGET lists a user's U2F tokens: always none, since every
// security key here is a WebAuthn credential (listed by
// webauthncredentials).
func (k *call) UserU2FTokensGET() {
	pg := k.page()
	if k.failed {
		return
	}
	if _, ok := k.loadUser(); ok {
		k.okPage([]any{}, pg, 0)
	}
}

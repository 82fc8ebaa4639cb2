package adminapi

import (
	"errors"
	"strings"

	"enrollportal/internal/users"
)

// groupParams are what a group create or modify takes.
var groupParams = []string{"name", "desc", "status"}

// groupStatus checks status: groups here have no status of their own, so
// only Duo's "active" is accepted rather than silently ignoring another.
func (k *call) groupStatus() {
	if k.has("status") && !strings.EqualFold(k.str("status"), "active") {
		k.bad("status must be active: groups here do not bypass or disable their users")
	}
}

// GroupsGET lists groups in name order.
func (k *call) GroupsGET() {
	pg := k.page()
	if k.failed {
		return
	}
	gs, total, err := k.a.store.GroupPage(k.ctx(), pg.offset, pg.limit)
	if err != nil {
		k.fail(err)
		return
	}
	out := make([]groupObject, 0, len(gs))
	for _, g := range gs {
		out = append(out, groupOf(g))
	}
	k.okPage(out, pg, total)
}

// GroupsPOST creates a group.
func (k *call) GroupsPOST() {
	name := strings.TrimSpace(k.required("name"))
	desc := strings.TrimSpace(k.str("desc"))
	k.groupStatus()
	if k.failed {
		return
	}
	if problems := users.CheckGroup(name, desc); len(problems) > 0 {
		if err := problems["name"]; err != nil {
			k.fail(err)
		} else {
			k.fail(problems["description"])
		}
		return
	}
	g, err := k.a.users.CreateGroup(k.ctx(), name, desc, k.who())
	if err != nil {
		k.fail(err)
		return
	}
	k.ok(groupOf(g))
}

// GroupGET answers one group (v1 and v2 alike).
func (k *call) GroupGET() {
	if g, ok := k.loadGroup(k.c.Param("group_id")); ok {
		k.ok(groupOf(g))
	}
}

// GroupUsersGET lists a group's members.
func (k *call) GroupUsersGET() {
	pg := k.page()
	if k.failed {
		return
	}
	g, ok := k.loadGroup(k.c.Param("group_id"))
	if !ok {
		return
	}
	members, total, err := k.a.store.GroupMembers(k.ctx(), g.ID, pg.offset, pg.limit)
	if err != nil {
		k.fail(err)
		return
	}
	out := make([]map[string]string, 0, len(members))
	for _, u := range members {
		out = append(out, map[string]string{"user_id": u.Key, "username": u.Username})
	}
	k.okPage(out, pg, total)
}

// GroupPOST renames a group or changes its description.
func (k *call) GroupPOST() {
	k.groupStatus()
	if k.failed {
		return
	}
	g, ok := k.loadGroup(k.c.Param("group_id"))
	if !ok {
		return
	}
	name, desc := g.Name, g.Description
	if k.has("name") {
		name = strings.TrimSpace(k.str("name"))
	}
	if k.has("desc") {
		desc = strings.TrimSpace(k.str("desc"))
	}
	g, err := k.a.users.UpdateGroup(k.ctx(), g, name, desc, k.who())
	if err != nil {
		k.fail(err)
		return
	}
	k.ok(groupOf(g))
}

// GroupDELETE deletes a group; its members stay. A group already gone
// answers OK.
func (k *call) GroupDELETE() {
	_, err := k.a.users.DeleteGroup(k.ctx(), k.c.Param("group_id"), k.who())
	if err != nil && !errors.Is(err, users.ErrGroupAlreadyGone) {
		k.fail(err)
		return
	}
	k.ok("")
}

package admin

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var viewAdminGroups = render.Declare("admin_groups")

// adminGroupsPage lists groups and holds the create form.
type adminGroupsPage struct {
	Groups      []groupRow
	Name        string
	Description string
	Errors      map[string]string
}

type groupRow struct {
	store.Group
	Members int
}

func (s *Section) renderGroups(c *gin.Context, status int, page adminGroupsPage) {
	groups, err := s.store.Groups(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	for _, g := range groups {
		n, err := s.store.CountGroupMembers(c.Request.Context(), g.ID)
		if err != nil {
			s.ServerError(c, err)
			return
		}
		page.Groups = append(page.Groups, groupRow{Group: g, Members: n})
	}
	s.Render(c, status, viewAdminGroups, render.Page{Title: "Groups", Data: page})
}

// AdminGroupsGET lists groups with how many members each has.
func (s *Section) AdminGroupsGET(c *gin.Context) {
	s.renderGroups(c, http.StatusOK, adminGroupsPage{})
}

// AdminGroupsPOST creates a group.
func (s *Section) AdminGroupsPOST(c *gin.Context) {
	page := adminGroupsPage{
		Name: strings.TrimSpace(c.PostForm("name")), Description: strings.TrimSpace(c.PostForm("description")),
		Errors: map[string]string{},
	}
	if n := utf8.RuneCountInString(page.Name); n == 0 || n > 100 {
		page.Errors["name"] = "A group name is 1 to 100 characters."
	}
	if utf8.RuneCountInString(page.Description) > 200 {
		page.Errors["description"] = "A description is at most 200 characters."
	}
	if len(page.Errors) > 0 {
		s.renderGroups(c, http.StatusUnprocessableEntity, page)
		return
	}
	ctx := c.Request.Context()
	g := store.Group{Key: secret.NewID("DG", 20), Name: page.Name, Description: page.Description, CreatedAt: s.clock.Now()}
	who := adminWho(c)
	err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateGroup(ctx, &g); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(g.CreatedAt, who, audit.GroupCreated, audit.TargetGroup, g.Name, nil))
	})
	if errors.Is(err, store.ErrConflict) {
		page.Errors["name"] = "A group with that name already exists."
		s.renderGroups(c, http.StatusUnprocessableEntity, page)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "Group "+g.Name+" was created.", "/admin/groups")
}

// AdminGroupDeletePOST deletes a group; its members stay, without it.
func (s *Section) AdminGroupDeletePOST(c *gin.Context) {
	ctx := c.Request.Context()
	g, err := s.store.GroupByKey(ctx, c.Param("key"))
	if errors.Is(err, store.ErrNotFound) {
		s.adminDone(c, "That group was already deleted.", "/admin/groups")
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	who := adminWho(c)
	err = s.store.InTx(ctx, func(q store.Queries) error {
		n, err := q.CountGroupMembers(ctx, g.ID)
		if err != nil {
			return err
		}
		if err := q.DeleteGroup(ctx, g.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.clock.Now(), who, audit.GroupDeleted, audit.TargetGroup, g.Name, map[string]any{"members": n}))
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "Group "+g.Name+" was deleted. Its members were kept.", "/admin/groups")
}

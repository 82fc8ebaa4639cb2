package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/store"
	"enrollportal/internal/users"
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
	for field, err := range users.CheckGroup(page.Name, page.Description) {
		page.Errors[field] = sentence(err)
	}
	if len(page.Errors) > 0 {
		s.renderGroups(c, http.StatusUnprocessableEntity, page)
		return
	}
	g, err := s.users.CreateGroup(c.Request.Context(), page.Name, page.Description, adminWho(c))
	if errors.Is(err, users.ErrGroupNameTaken) {
		page.Errors["name"] = sentence(err)
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
	g, err := s.users.DeleteGroup(c.Request.Context(), c.Param("key"), adminWho(c))
	if errors.Is(err, users.ErrGroupAlreadyGone) {
		s.adminDone(c, sentence(err), "/admin/groups")
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "Group "+g.Name+" was deleted. Its members were kept.", "/admin/groups")
}

package admin

// Roles, as stored in admins.role.
const (
	RoleOwner              = "owner"
	RoleAdministrator      = "administrator"
	RoleUserManager        = "user_manager"
	RoleApplicationManager = "application_manager"
	RoleHelpDesk           = "help_desk"
	RoleReadOnly           = "read_only"
)

// Roles lists every role, most powerful first, for forms and tests.
var Roles = []string{RoleOwner, RoleAdministrator, RoleUserManager, RoleApplicationManager, RoleHelpDesk, RoleReadOnly}

// RoleLabel is the name of a role as people read it.
func RoleLabel(role string) string {
	switch role {
	case RoleOwner:
		return "Owner"
	case RoleAdministrator:
		return "Administrator"
	case RoleUserManager:
		return "User Manager"
	case RoleApplicationManager:
		return "Application Manager"
	case RoleHelpDesk:
		return "Help Desk"
	case RoleReadOnly:
		return "Read-only"
	}
	return role
}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Permission is one row of the role matrix: a kind of action in the admin
// section or the Admin API.
type Permission string

// The permissions. Every admin route declares exactly one.
const (
	// ManageAdmins: list, add, change and delete admins.
	ManageAdmins Permission = "manage_admins"
	// ManageUsers: users, phones, groups, bulk enrollment, import, directory
	// sync, deleting pending enrollments.
	ManageUsers Permission = "manage_users"
	// SendEnrollment: send or resend enrollment emails, send activation
	// links. Help Desk has it only when the Help Desk setting allows.
	SendEnrollment Permission = "send_enrollment"
	// ManageApplications: applications and policies.
	ManageApplications Permission = "manage_applications"
	// ApplicationSecrets: see an application's secret again (after a
	// step-up code) and rotate it. Not a row of the SPEC's matrix; the
	// issue gives it to Owners and Administrators only.
	ApplicationSecrets Permission = "application_secrets"
	// ManageSettings: the organisation's settings (name, message header,
	// what the Help Desk may do). Not a row of the SPEC's matrix; it goes
	// with the rows only Owners and Administrators hold in full.
	ManageSettings Permission = "manage_settings"
	// ViewUsers: see users, pending enrollments, groups, applications and
	// the audit log.
	ViewUsers Permission = "view_users"
	// OwnSession: sign out; every signed-in admin has it.
	OwnSession Permission = "own_session"
)

// Permissions lists every permission, for tests that walk the matrix.
var Permissions = []Permission{ManageAdmins, ManageUsers, SendEnrollment, ManageApplications, ApplicationSecrets, ManageSettings, ViewUsers, OwnSession}

// Settings are the organisation's settings the matrix depends on (read
// from org: HelpDeskMaySend lets Help Desk admins send enrollment emails and
// activation links).
type Settings struct {
	HelpDeskMaySend bool
}

// matrix is the SPEC's role matrix. SendEnrollment for Help Desk is decided
// in Can, from Settings.
var matrix = map[Permission][]string{
	ManageAdmins:       {RoleOwner},
	ManageUsers:        {RoleOwner, RoleAdministrator, RoleUserManager},
	SendEnrollment:     {RoleOwner, RoleAdministrator, RoleUserManager},
	ManageApplications: {RoleOwner, RoleAdministrator, RoleApplicationManager},
	ApplicationSecrets: {RoleOwner, RoleAdministrator},
	ManageSettings:     {RoleOwner, RoleAdministrator},
	ViewUsers:          Roles,
	OwnSession:         Roles,
}

// Can reports whether an admin with role may do what p covers. An unknown
// role or permission may do nothing.
func Can(role string, p Permission, s Settings) bool {
	if p == SendEnrollment && role == RoleHelpDesk {
		return s.HelpDeskMaySend
	}
	for _, r := range matrix[p] {
		if r == role {
			return true
		}
	}
	return false
}

package audit

// Actions of the admin section. Every admin action writes one, with the
// admin's email as actor and the client's address.
const (
	AdminSetupLinkCreated = "admin.setup_link_created"
	AdminCreated          = "admin.created"
	AdminRoleChanged      = "admin.role_changed"
	AdminDeleted          = "admin.deleted"
	AdminSignedIn         = "admin.signed_in"
	AdminSignInFailed     = "admin.sign_in_failed"
	AdminLockedOut        = "admin.locked_out"
	AdminSignedOut        = "admin.signed_out"
	AdminTOTPSetUp        = "admin.totp_set_up"

	UserUpdated           = "user.updated"
	UserDeleted           = "user.deleted"
	UserUnlocked          = "user.unlocked"
	UserGroupAdded        = "user.group_added"
	UserGroupRemoved      = "user.group_removed"
	EnrollmentEmailQueued = "enrollment_email.queued"
	EnrollmentLinkDeleted = "enrollment_link.deleted"
	GroupCreated          = "group.created"
	GroupDeleted          = "group.deleted"
	GroupUpdated          = "group.updated"
	SettingsChanged       = "settings.changed"
)

// More target types.
const (
	TargetAdmin    = "admin"
	TargetGroup    = "group"
	TargetSettings = "settings"
)

// Admin is the actor for an admin of the admin section, by email.
func Admin(email, ip string) Who { return Who{Type: ActorAdmin, Name: email, IP: ip} }

// Outbox actions and targets.
const (
	MessageRetried = "message.retried"
	TargetMessage  = "message"
)

// An owner locked another admin out of the admin section, or let them in
// again. (AdminLockedOut above was written by versions that locked an
// account after five wrong passwords; sign-in now slows down instead.)
const (
	AdminLocked   = "admin.locked"
	AdminUnlocked = "admin.unlocked"
	// AdminPasswordSet: an admin's password was replaced (portal admin
	// set-password).
	AdminPasswordSet = "admin.password_set"
)

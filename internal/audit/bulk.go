package audit

// Actions of bulk enrollment, imports, phones and activation.
const (
	BulkEnrollmentSent    = "bulk_enrollment.sent"
	MessageTemplateSaved  = "message_template.saved"
	ImportApplied         = "import.applied"
	UserImportUpdated     = "user.updated"
	UserImportDeleted     = "user.deleted"
	PhoneAdded            = "phone.added"
	PhoneUpdated          = "phone.updated"
	ActivationCodeCreated = "activation_code.created"
	ActivationLinkSent    = "activation_link.sent"
	ActivationFailed      = "activation.code_failed"
)

// Target types of those actions.
const (
	TargetTemplate = "message_template"
	TargetPhone    = "phone"
	TargetImport   = "import"
)

// GroupImportCreated is a group an import created because a row named it.
const GroupImportCreated = "group.created"

// GroupTarget is the target type of group records written by imports.
const GroupTarget = "group"

package audit

// Actions of bulk enrollment, imports, phones and activation.
const (
	BulkEnrollmentSent    = "bulk_enrollment.sent"
	MessageTemplateSaved  = "message_template.saved"
	ImportApplied         = "import.applied"
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
	TargetBulk     = "bulk_enrollment"
)

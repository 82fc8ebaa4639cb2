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
	// Phones written on their own through the Admin API.
	PhoneCreated     = "phone.created"
	PhoneDeleted     = "phone.deleted"
	PhoneAttached    = "phone.attached"
	PhoneDetached    = "phone.detached"
	InstallSMSQueued = "phone.install_sms_queued"
)

// Target types of those actions.
const (
	TargetTemplate = "message_template"
	TargetPhone    = "phone"
	TargetImport   = "import"
	TargetBulk     = "bulk_enrollment"
)

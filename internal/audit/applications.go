package audit

// Actions on applications and policies.
const (
	ApplicationCreated = "application.created"
	PolicyCreated      = "policy.created"
)

// Target types of applications and policies.
const (
	TargetApplication = "application"
	TargetPolicy      = "policy"
)

package audit

// Actions on applications and policies.
const (
	ApplicationCreated = "application.created"
	// ApplicationUpdated carries the before and after values of what
	// changed (name, redirect URIs, username normalization).
	ApplicationUpdated = "application.updated"
	// ApplicationSecretRevealed: an admin saw the secret again, after
	// proving a current code from their own second factor.
	ApplicationSecretRevealed = "application.secret_revealed"
	// ApplicationSecretRotated: the secret was replaced; the old one stopped
	// working at once.
	ApplicationSecretRotated = "application.secret_rotated"
	// ApplicationDeleted: the application went, with its codes and
	// transactions.
	ApplicationDeleted = "application.deleted"
	PolicyCreated      = "policy.created"
)

// Target types of applications and policies.
const (
	TargetApplication = "application"
	TargetPolicy      = "policy"
)

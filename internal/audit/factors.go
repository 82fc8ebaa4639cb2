package audit

// Actions of the new-factor rule, bypass codes and the device page.
const (
	FactorProofFailed   = "factor.proof_failed"   // a wrong code where a factor had to be proved
	FactorProved        = "factor.proved"         // a user proved a factor to manage their devices
	EnrollmentResetSent = "enrollment.reset_sent" // an admin let the next device in without proof
	BypassCodesCreated  = "bypass_codes.created"
	BypassCodesCleared  = "bypass_codes.cleared"
	BypassCodeDeleted   = "bypass_code.deleted" // one code, by its id (Admin API)
	RecoveryCodesMade   = "recovery_codes.created"
	SMSPasscodeSent     = "sms_passcode.sent" // a one-time passcode texted to the user's phone
	PhoneRenamed        = "phone.renamed"
	PhoneRemoved        = "phone.removed"
	SecurityKeyRenamed  = "security_key.renamed"
	SecurityKeyRemoved  = "security_key.removed"
)

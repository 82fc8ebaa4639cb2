package audit

// Actions of the Universal Prompt (browser sign-in).
const (
	PromptLoginAllowed   = "prompt.login_allowed"
	PromptLoginDenied    = "prompt.login_denied"
	PromptPasscodeFailed = "prompt.passcode_failed"
	SecurityKeyLoginFail = "security_key.login_failed"
)

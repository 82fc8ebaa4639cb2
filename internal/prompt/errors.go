package prompt

import "errors"

// OAuth error codes, as the token endpoint names them.
const (
	CodeInvalidRequest = "invalid_request"
	CodeInvalidClient  = "invalid_client"
	CodeInvalidGrant   = "invalid_grant"
	CodeUnsupported    = "unsupported_grant_type"
)

// Error is a refused request: Code is the OAuth error code and Description a
// short sentence that is safe to send to the client (never an internal
// cause).
type Error struct {
	Code        string
	Description string
}

func (e *Error) Error() string { return "prompt: " + e.Code + ": " + e.Description }

func refuse(code, description string) error { return &Error{Code: code, Description: description} }

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// ErrTransactionNotFound means the prompt's address is unknown, finished or
// expired: the person should go back to the application and start again.
var ErrTransactionNotFound = errors.New("prompt: login transaction not found or expired")

// ErrNotFinished means the code was asked for before the person finished.
var ErrNotFinished = errors.New("prompt: login not finished")

package prompt

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"enrollportal/internal/store"
)

// AuthRequest is a verified authorize request.
type AuthRequest struct {
	App         store.Application
	RedirectURI string // registered, exactly
	State       string
	Username    string // duo_uname exactly as sent: the id_token's preferred_username
	Nonce       string
	// UseDuoCode: redirect back with duo_code= instead of code=.
	UseDuoCode bool
}

// requestClaims are the claims of the authorize request JWT.
type requestClaims struct {
	jwt.RegisteredClaims
	Scope               string `json:"scope"`
	RedirectURI         string `json:"redirect_uri"`
	ClientID            string `json:"client_id"`
	State               string `json:"state"`
	ResponseType        string `json:"response_type"`
	DuoUname            string `json:"duo_uname"`
	UseDuoCodeAttribute *bool  `json:"use_duo_code_attribute"`
	Nonce               string `json:"nonce"`
}

// ParseAuthorize verifies an authorize request: the client_id and
// response_type parameters, and the request JWT signed with the client
// secret. nonce is the optional top-level parameter; a nonce claim in the
// signed request wins over it. Any error means the request must be answered
// with an error page and never a redirect: either the redirect URI is
// unknown or the request cannot be trusted to name it.
func (s *Service) ParseAuthorize(ctx context.Context, clientID, responseType, request, nonce string) (AuthRequest, error) {
	if responseType != "code" {
		return AuthRequest{}, refuse(CodeInvalidRequest, "response_type must be code.")
	}
	a, sec, err := s.Client(ctx, clientID)
	if err != nil {
		return AuthRequest{}, err
	}
	var c requestClaims
	if err := s.parse(request, sec, &c); err != nil {
		return AuthRequest{}, refuse(CodeInvalidRequest, "The request is not valid: "+describe(err))
	}
	switch {
	case c.ClientID != clientID || c.Issuer != clientID:
		return AuthRequest{}, refuse(CodeInvalidRequest, "The request's client_id and iss must be the client_id.")
	case !audienceMatches(c.Audience, s.audiences("")):
		return AuthRequest{}, refuse(CodeInvalidRequest, "The request's aud must be https://"+s.host+".")
	case c.ResponseType != "code":
		return AuthRequest{}, refuse(CodeInvalidRequest, "The request's response_type must be code.")
	case !hasScope(c.Scope, "openid"):
		return AuthRequest{}, refuse(CodeInvalidRequest, "The request's scope must include openid.")
	case !slices.Contains(a.RedirectURIs, c.RedirectURI):
		return AuthRequest{}, refuse(CodeInvalidRequest, "The redirect_uri is not registered for this application.")
	case len(c.State) < MinStateLength || len(c.State) > MaxStateLength:
		return AuthRequest{}, refuse(CodeInvalidRequest, "The state must be 16 to 1024 characters.")
	case c.DuoUname == "" || len(c.DuoUname) > MaxUsernameLength || !utf8.ValidString(c.DuoUname):
		return AuthRequest{}, refuse(CodeInvalidRequest, "The duo_uname is missing or too long.")
	}
	if c.Nonce != "" {
		nonce = c.Nonce
	}
	if len(nonce) > MaxNonceLength || !utf8.ValidString(nonce) {
		return AuthRequest{}, refuse(CodeInvalidRequest, "The nonce is too long.")
	}
	if s.usage != nil {
		s.usage.Used(a)
	}
	return AuthRequest{
		App: a, RedirectURI: c.RedirectURI, State: c.State, Username: c.DuoUname, Nonce: nonce,
		UseDuoCode: c.UseDuoCodeAttribute != nil && *c.UseDuoCodeAttribute,
	}, nil
}

func hasScope(scope, want string) bool { return slices.Contains(strings.Fields(scope), want) }

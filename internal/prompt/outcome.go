package prompt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// Results of a login, as auth_result.result says them.
const (
	ResultAllow = "allow"
	ResultDeny  = "deny"
)

// Outcome is what happened in a login, fixed when it ends and carried by the
// code into the id_token.
type Outcome struct {
	Result    string   `json:"result"` // allow or deny
	StatusMsg string   `json:"status_msg"`
	Factor    string   `json:"factor"`
	Reason    string   `json:"reason"`
	Username  string   `json:"username"`  // duo_uname as the application sent it
	UserName  string   `json:"user_name"` // the portal's (normalized) username, if the user exists
	UserKey   string   `json:"user_key"`
	Groups    []string `json:"groups"`
	AppKey    string   `json:"app_key"`
	AppName   string   `json:"app_name"`
	IP        string   `json:"ip"`
	TxID      string   `json:"txid"`
	AuthTime  int64    `json:"auth_time"`
	Nonce     string   `json:"nonce"`
}

func (s *Service) outcome(ctx context.Context, t Transaction, u *store.User, result, factor, reason, message string) (string, error) {
	o := Outcome{
		Result: result, Factor: factor, Reason: reason, Username: t.Username, Groups: []string{},
		AppKey: t.App.Key, AppName: t.App.Name, IP: t.ClientIP, TxID: t.TxID, AuthTime: s.now().Unix(), Nonce: t.Nonce,
		StatusMsg: message,
	}
	if o.StatusMsg == "" {
		o.StatusMsg = "Login Successful"
		if result == ResultDeny {
			o.StatusMsg = "Login denied"
		}
	}
	if u != nil {
		o.UserName, o.UserKey = u.Username, u.Key
		groups, err := s.store.GroupsOfUser(ctx, u.ID)
		if err != nil {
			return "", fmt.Errorf("prompt: groups: %w", err)
		}
		for _, g := range groups {
			o.Groups = append(o.Groups, g.Name)
		}
	}
	b, err := json.Marshal(o)
	return string(b), err
}

// Exchange redeems an authorization code for application a: the code must
// exist, belong to a, have been issued for redirectURI, not be expired and
// not have been redeemed before. It is marked used whatever happens next.
func (s *Service) Exchange(ctx context.Context, a store.Application, code, redirectURI string) (Outcome, error) {
	if code == "" || len(code) > 100 {
		return Outcome{}, refuse(CodeInvalidGrant, "The code is not valid.")
	}
	c, err := s.store.OAuthCodeByHash(ctx, secret.HashToken(code))
	if errors.Is(err, store.ErrNotFound) {
		return Outcome{}, refuse(CodeInvalidGrant, "The code is not valid.")
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("prompt: exchange: %w", err)
	}
	if c.ApplicationID != a.ID {
		return Outcome{}, refuse(CodeInvalidGrant, "The code was not issued to this client.")
	}
	used, err := s.store.UseOAuthCode(ctx, c.ID, s.now())
	if err != nil {
		return Outcome{}, fmt.Errorf("prompt: exchange: %w", err)
	}
	if !used {
		return Outcome{}, refuse(CodeInvalidGrant, "The code was already used.")
	}
	if !s.clock.Now().Before(c.ExpiresAt) {
		return Outcome{}, refuse(CodeInvalidGrant, "The code has expired.")
	}
	if c.RedirectURI != redirectURI {
		return Outcome{}, refuse(CodeInvalidGrant, "The redirect_uri does not match the one the code was issued for.")
	}
	var o Outcome
	if err := json.Unmarshal([]byte(c.Outcome), &o); err != nil {
		return Outcome{}, fmt.Errorf("prompt: exchange: %w", err)
	}
	return o, nil
}

// TokenResponse is the token endpoint's answer.
type TokenResponse struct {
	IDToken     string `json:"id_token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// Tokens signs the id_token of o for a (HS512 with the client secret) and
// returns the token endpoint's answer.
func (s *Service) Tokens(a store.Application, clientSecret string, o Outcome) (TokenResponse, error) {
	now := s.now()
	contextResult := "success"
	if o.Result != ResultAllow {
		contextResult = "denied"
	}
	claims := jwt.MapClaims{
		"iss":                s.Issuer(),
		"aud":                a.ClientID, // a single string: the clients compare it as one
		"sub":                o.Username,
		"preferred_username": o.Username,
		"nonce":              o.Nonce,
		"iat":                now.Unix(),
		"exp":                now.Add(IDTokenTTL).Unix(),
		"auth_time":          o.AuthTime,
		"jti":                secret.NewToken(),
		"auth_result": map[string]any{
			"result": o.Result, "status": o.Result, "status_msg": o.StatusMsg,
		},
		"auth_context": map[string]any{
			"event_type":    "authentication",
			"factor":        o.Factor,
			"result":        contextResult,
			"reason":        o.Reason,
			"user":          map[string]any{"name": o.userName(), "key": o.UserKey, "groups": o.Groups},
			"application":   map[string]any{"key": o.AppKey, "name": o.AppName},
			"access_device": map[string]any{"ip": o.IP},
			"timestamp":     o.AuthTime,
			"isotimestamp":  time.Unix(o.AuthTime, 0).UTC().Format(time.RFC3339),
			"txid":          o.TxID,
		},
	}
	idToken, err := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString([]byte(clientSecret))
	if err != nil {
		return TokenResponse{}, fmt.Errorf("prompt: sign id_token: %w", err)
	}
	return TokenResponse{
		IDToken: idToken, AccessToken: secret.NewToken(), ExpiresIn: int(IDTokenTTL / time.Second), TokenType: "Bearer",
	}, nil
}

func (o Outcome) userName() string {
	if o.UserName != "" {
		return o.UserName
	}
	return o.Username
}

// OutcomeOf reads the outcome of a finished transaction.
func OutcomeOf(t store.PromptTransaction) (Outcome, error) {
	var o Outcome
	err := json.Unmarshal([]byte(t.Outcome), &o)
	return o, err
}

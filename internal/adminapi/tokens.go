package adminapi

import (
	"errors"
	"slices"
	"strconv"

	"enrollportal/internal/factors"
	"enrollportal/internal/store"
)

// tokenTypes are the types a token list may be filtered by: the OATH
// types the portal holds, and Duo's YubiKey and Duo-D100 types, which
// simply match nothing here.
var tokenTypes = []string{store.TokenHOTP6, store.TokenHOTP8, store.TokenTOTP6, store.TokenTOTP8, "yk", "d1"}

// tokenWithUser is a listed token as Duo answers it, with its users (one
// at most here; an empty list when it belongs to no one).
func tokenWithUser(l store.ListedToken) tokenObject {
	o := tokenOf(store.HardwareToken{ID: l.ID, Key: l.Key, Serial: l.Serial, Type: l.Type, Step: l.Step, CreatedAt: l.CreatedAt})
	list := []briefUser{}
	if l.User != nil {
		list = append(list, briefOf(*l.User))
	}
	o.Users = &list
	return o
}

// TokensGET lists hardware tokens, filtered by type and serial.
func (k *call) TokensGET() {
	pg := k.page()
	f := store.TokenFilter{Type: k.str("type"), Serial: k.str("serial"), Offset: pg.offset, Limit: pg.limit}
	if k.has("type") && !slices.Contains(tokenTypes, f.Type) {
		k.bad("type must be one of h6, h8, t6, t8, yk or d1")
	}
	if k.failed {
		return
	}
	list, total, err := k.a.factors.TokenPage(k.ctx(), f)
	if err != nil {
		k.fail(err)
		return
	}
	out := make([]tokenObject, 0, len(list))
	for _, l := range list {
		out = append(out, tokenWithUser(l))
	}
	k.okPage(out, pg, total)
}

// TokensPOST adds an OATH hardware token: type h6 or h8 (HOTP, with the
// counter of its next code) or t6 or t8 (TOTP, with totp_step 30 or 60),
// its serial and its secret in hex. It answers the token.
func (k *call) TokensPOST() {
	n := factors.NewToken{Type: k.required("type"), Serial: k.required("serial"), SecretHex: k.required("secret"), Step: 30}
	totp := n.Type == store.TokenTOTP6 || n.Type == store.TokenTOTP8
	if k.has("counter") {
		if totp {
			k.bad("counter is for h6 and h8 tokens; a t6 or t8 token takes totp_step")
		}
		c, err := strconv.ParseInt(k.str("counter"), 10, 64)
		if err != nil || c < 0 {
			k.bad("counter must be a whole number from 0")
		}
		n.Counter = c
	}
	if k.has("totp_step") {
		if !totp {
			k.bad("totp_step is for t6 and t8 tokens; an h6 or h8 token takes counter")
		}
		n.Step = k.integer("totp_step", 30, 30, 60)
	}
	if k.failed {
		return
	}
	t, err := k.a.factors.CreateToken(k.ctx(), n, k.a.enroll, k.who())
	if err != nil {
		k.fail(err)
		return
	}
	k.answerToken(t.Key)
}

// answerToken answers the token keyed key as it is now.
func (k *call) answerToken(key string) {
	l, ok := k.loadToken(key)
	if ok {
		k.ok(tokenWithUser(l))
	}
}

// loadToken finds a token, answering 40401 when there is none.
func (k *call) loadToken(key string) (store.ListedToken, bool) {
	l, err := k.a.factors.Token(k.ctx(), key)
	if errors.Is(err, factors.ErrTokenKeyNotFound) {
		k.notFound("token")
		return l, false
	}
	if err != nil {
		k.fail(err)
		return l, false
	}
	return l, true
}

// TokenGET answers one token.
func (k *call) TokenGET() { k.answerToken(k.c.Param("token_id")) }

// TokenDELETE removes a token, from its user too.
func (k *call) TokenDELETE() {
	k.answerChange(k.a.factors.DeleteToken(k.ctx(), k.c.Param("token_id"), k.who()), factors.ErrTokenKeyNotFound, "token")
}

// TokenResyncPOST sets a HOTP token's counter from three consecutive codes
// it shows (code1, code2, code3).
func (k *call) TokenResyncPOST() {
	codes := [3]string{k.required("code1"), k.required("code2"), k.required("code3")}
	if k.failed {
		return
	}
	k.answerChange(k.a.factors.ResyncTokenByKey(k.ctx(), k.c.Param("token_id"), codes, k.a.enroll, k.who()), factors.ErrTokenKeyNotFound, "token")
}

// UserTokensPOST gives a token to a user; a token belongs to one user at
// most.
func (k *call) UserTokensPOST() {
	tid := k.required("token_id")
	if k.failed {
		return
	}
	u, ok := k.loadUser()
	if !ok {
		return
	}
	k.answerChange(k.a.factors.AssignTokenByKey(k.ctx(), tid, u.User, k.who()), factors.ErrTokenKeyNotFound, "token")
}

// UserTokenDELETE takes a token from a user; the token stays, free to be
// given to someone else. A token that is not the user's is left as is.
func (k *call) UserTokenDELETE() {
	u, ok := k.loadUser()
	if !ok {
		return
	}
	k.answerChange(k.a.factors.UnassignToken(k.ctx(), k.c.Param("token_id"), u.User, k.who()), factors.ErrTokenKeyNotFound, "token")
}

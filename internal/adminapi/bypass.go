package adminapi

import (
	"time"

	"enrollportal/internal/factors"
)

// Bypass codes through the Admin API: Duo's defaults are 10 codes, each
// good once, never expiring, replacing the user's earlier codes.
const defaultBypassCount = 10

// UserBypassCodesPOST issues bypass codes to a user and answers them: the
// only time they are shown. The portal makes the codes itself, so a list
// of chosen codes is refused.
func (k *call) UserBypassCodesPOST() {
	if k.has("codes") {
		k.bad("codes is not accepted: the portal generates bypass codes; give count instead")
	}
	o := factors.BypassOptions{
		Count:   k.integer("count", defaultBypassCount, 1, factors.MaxBypassCodes),
		Uses:    k.integer("reuse_count", 1, 1, factors.MaxBypassUses),
		TTL:     time.Duration(k.integer("valid_secs", 0, 0, 10*365*86400)) * time.Second,
		Replace: !k.flag("preserve_existing"),
	}
	if k.failed {
		return
	}
	u, ok := k.loadUser()
	if !ok {
		return
	}
	codes, err := k.a.factors.IssueBypassCodes(k.ctx(), u.User, o, k.who())
	if err != nil {
		k.fail(err)
		return
	}
	k.ok(codes)
}

package apps

import (
	"fmt"
	"strings"

	"enrollportal/internal/store"
)

// Credential is one key=value line of what `portal apps add` prints.
type Credential struct {
	Name, Value string
}

// CredentialNames are the names a kind calls its id and secret: client_id
// and client_secret for the Universal Prompt, ikey and skey for the others.
func CredentialNames(kind string) (id, secret string) {
	if kind == store.AppWeb {
		return "client_id", "client_secret"
	}
	return "ikey", "skey"
}

// Credentials are the lines `portal apps add` prints for a, in its order;
// the admin pages show the same. An empty secret leaves its line out.
func Credentials(a store.Application, secret, apiHost string) []Credential {
	idName, secretName := CredentialNames(a.Kind)
	out := []Credential{{idName, a.ClientID}}
	if secret != "" {
		out = append(out, Credential{secretName, secret})
	}
	return append(out, Credential{"api_host", apiHost})
}

// DuoUnixConfig is a login_duo.conf / pam_duo.conf for a unix application:
// both read the same [duo] section.
func DuoUnixConfig(a store.Application, secret, apiHost string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[duo]\nikey = %s\nskey = %s\nhost = %s\nfailmode = secure\n", a.ClientID, secret, apiHost)
	return b.String()
}

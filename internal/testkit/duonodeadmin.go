package testkit

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// DuoNodeAPIClient runs Duo's own Node.js API client (@duosecurity/duo_api,
// installed by `make test-tools`; the client of Duo's Admin API for Node)
// against a portal, through internal/adminapi/testdata/duo_admin_client.js.
type DuoNodeAPIClient struct {
	t      testing.TB
	env    []string
	script string
}

// NewDuoNodeAPIClient configures the client for one application of a
// portal served over HTTPS (apiHost is host:port; caFile is the test CA it
// trusts). The test fails when node or the client is not installed.
func NewDuoNodeAPIClient(t testing.TB, ikey, skey, apiHost, caFile string) *DuoNodeAPIClient {
	t.Helper()
	modules := nodeModules(t, "duo_api")
	return &DuoNodeAPIClient{t: t, script: filepath.Join(RepoRoot(t), "internal", "adminapi", "testdata", "duo_admin_client.js"),
		env: append(os.Environ(), "NODE_PATH="+modules, "DUO_IKEY="+ikey, "DUO_SKEY="+skey,
			"DUO_API_HOST="+apiHost, "DUO_CA="+caFile)}
}

// Call makes one signed call with the client's jsonApiCall, signed v2
// (parameters in the query or a form) or v5 (a JSON body for POST), and
// decodes the answer as the client passed it on into out.
func (n *DuoNodeAPIClient) Call(out any, sigVersion int, method, path string, params map[string]any) {
	n.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	body, err := json.Marshal(params)
	if err != nil {
		n.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", n.script, strconv.Itoa(sigVersion), method, path, string(body))
	cmd.Env = n.env
	stdout, err := cmd.Output()
	if err != nil {
		n.t.Fatalf("node %s %s: %v (%s)", method, path, err, stdout)
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		n.t.Fatalf("node %s %s printed %q: %v", method, path, stdout, err)
	}
}

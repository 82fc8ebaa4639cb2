package testkit

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// DuoNodeClient runs Duo's own Node.js Universal Prompt client
// (@duosecurity/duo_universal, installed by `make test-tools`) against a
// portal, through internal/duo/testdata/duo_universal_client.js.
type DuoNodeClient struct {
	t      testing.TB
	env    []string
	script string
}

// NewDuoNodeClient configures the client for one application of a portal
// served over HTTPS (apiHost is host:port; caFile is the test CA it trusts).
// The test fails when node or the client is not installed.
func NewDuoNodeClient(t testing.TB, clientID, clientSecret, apiHost, redirect, caFile string) *DuoNodeClient {
	t.Helper()
	modules := nodeModules(t, "duo_universal")
	return &DuoNodeClient{t: t, script: filepath.Join(RepoRoot(t), "internal", "duo", "testdata", "duo_universal_client.js"),
		env: append(os.Environ(), "NODE_PATH="+modules, "DUO_CLIENT_ID="+clientID, "DUO_CLIENT_SECRET="+clientSecret,
			"DUO_API_HOST="+apiHost, "DUO_REDIRECT_URL="+redirect, "DUO_CA="+caFile)}
}

// Call runs one command of the script (health | authurl USERNAME STATE |
// exchange CODE USERNAME) and decodes its JSON answer into out; failed
// reports whether the client threw, with its message.
func (n *DuoNodeClient) Call(out any, args ...string) (failed bool, message string) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{n.script}, args...)...)
	cmd.Env = n.env
	stdout, err := cmd.Output()
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(stdout, &e)
	if err != nil {
		if e.Error == "" {
			n.t.Fatalf("node %v: %v (%s)", args, err, stdout)
		}
		return true, e.Error
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		n.t.Fatalf("node %v printed %q: %v", args, stdout, err)
	}
	return false, ""
}

// nodeModules is the node_modules directory of the test tools, which must
// hold Duo's package @duosecurity/pkg; the test fails when it or node is
// missing.
func nodeModules(t testing.TB, pkg string) string {
	t.Helper()
	dir := os.Getenv("PORTAL_TEST_TOOLS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), ".test-tools")
	}
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@duosecurity", pkg, "package.json")); err != nil {
		t.Fatalf("Duo's Node.js client @duosecurity/%s is missing (%v): run `make test-tools`", pkg, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is missing: run `make test-tools`")
	}
	return modules
}

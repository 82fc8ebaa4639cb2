package testkit

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/testkit/testdb"
)

// Slapd is a throwaway OpenLDAP server with the suffix dc=example,dc=org,
// started in a temporary directory and stopped when the test ends.
type Slapd struct {
	URL      string // ldap://127.0.0.1:PORT
	TLSURL   string // ldaps://localhost:PORT, when started WithSlapdTLS
	RootDN   string
	RootPW   string
	Suffix   string
	dir      string
	confPath string
}

// SlapdOUs is LDIF for ou=people and ou=groups under the suffix, where the
// tests' directories keep their users and groups: the start of their
// fixtures.
const SlapdOUs = `dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

`

// SlapdOption changes the configuration of a test slapd.
type SlapdOption func(*slapdConfig)

type slapdConfig struct {
	extra string
	tls   *TLSFiles
}

// WithSlapdConfig adds lines to slapd.conf's database section (limits,
// for instance).
func WithSlapdConfig(lines string) SlapdOption {
	return func(c *slapdConfig) { c.extra += lines + "\n" }
}

// WithSlapdTLS serves ldaps:// too, with a certificate for localhost signed
// by f's CA.
func WithSlapdTLS(f TLSFiles) SlapdOption { return func(c *slapdConfig) { c.tls = &f } }

// FreePort is a TCP port of 127.0.0.1 that nothing listens on at the
// time of the call: for a server about to start, or for an address that
// must refuse connections.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := testdb.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// StartSlapd starts slapd loaded with ldif (may be empty: the suffix entry
// is always there), via slapadd, which is far faster than ldapadd.
func StartSlapd(t testing.TB, ldif string, opts ...SlapdOption) *Slapd {
	t.Helper()
	bin, err := exec.LookPath("slapd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/slapd", "/usr/local/sbin/slapd"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Fatal("slapd is not installed: run make test-tools as root (apt-get install slapd ldap-utils)")
	}
	var c slapdConfig
	for _, o := range opts {
		o(&c)
	}
	dir := t.TempDir()
	s := &Slapd{RootDN: "cn=admin,dc=example,dc=org", RootPW: "admin-secret", Suffix: "dc=example,dc=org", dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	var tlsLines string
	if c.tls != nil {
		tlsLines = fmt.Sprintf("TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n", c.tls.CAFile, c.tls.CertFile, c.tls.KeyFile)
	}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile %[1]s/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
%[4]s
access to attrs=userPassword by anonymous auth by * none
access to * by * read
database mdb
maxsize 1073741824
suffix "dc=example,dc=org"
rootdn "%[2]s"
rootpw %[3]s
directory %[1]s/db
index objectClass eq
index uid eq
index entryUUID eq
index modifyTimestamp eq
index member eq
%[5]s`, dir, s.RootDN, s.RootPW, tlsLines, c.extra)
	s.confPath = filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(s.confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n"
	ldifPath := filepath.Join(dir, "data.ldif")
	if err := os.WriteFile(ldifPath, []byte(base+ldif), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(filepath.Dir(bin), "slapadd"), "-q", "-f", s.confPath, "-l", ldifPath).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	port := FreePort(t)
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	urls := s.URL + "/"
	if c.tls != nil {
		tport := FreePort(t)
		s.TLSURL = fmt.Sprintf("ldaps://localhost:%d", tport)
		urls += " " + fmt.Sprintf("ldaps://127.0.0.1:%d/", tport)
	}
	// -d keeps slapd in the foreground, so the test owns the process.
	cmd := exec.Command(bin, "-f", s.confPath, "-h", urls, "-d", "0")
	var logBuf strings.Builder
	cmd.Stderr = &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "ldap://"))
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not start: %v\n%s", err, logBuf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

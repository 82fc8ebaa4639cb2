package testkit

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// SambaDC is a throwaway Active Directory domain controller (Samba 4,
// LDAP only) for the domain EXAMPLE.TEST, on a loopback address of its
// own, with LDAPS under a test CA; stopped when the test ends.
type SambaDC struct {
	IP       string // the loopback address it listens on (LDAP 389, LDAPS 636)
	URL      string // ldap://IP
	TLSURL   string // ldaps://IP, certificate for that IP signed by TLS's CA
	TLS      TLSFiles
	BaseDN   string // DC=example,DC=test
	BindDN   string // the domain Administrator
	Password string
	dir      string
}

const (
	sambaAdminPassword = "Adm1n-Secret!portal"
	// sambaTemplateVersion names the cached provisioned domain; bump it
	// when the provision options change.
	sambaTemplateVersion = "v1"
)

// StartSambaDC starts a Samba AD DC. Provisioning a domain takes 5 to 80
// seconds (the last on a loaded 2-core machine), so one provisioned
// domain is kept as a template under the system's temporary directory and
// each test runs a copy of it. LDAP's ports are fixed, so each DC takes a
// loopback address of its own (127.77.x.y) that nothing else listens on.
func StartSambaDC(t testing.TB) *SambaDC {
	t.Helper()
	bin, err := exec.LookPath("samba")
	if err != nil {
		t.Fatal("samba is not installed: run make test-tools as root (apt-get install samba winbind ldb-tools)")
	}
	tmpl := sambaTemplate(t)
	dir := t.TempDir()
	for _, sub := range []string{"private", "state"} {
		if err := copyTree(filepath.Join(tmpl, sub), filepath.Join(dir, sub)); err != nil {
			t.Fatalf("copy the Samba template: %v", err)
		}
	}
	for _, sub := range []string{"etc", "cache", "run", "ncalrpc", "winbindd", "bind-dns"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ip := freeLoopbackIP(t)
	s := &SambaDC{IP: ip, URL: "ldap://" + ip, TLSURL: "ldaps://" + ip, BaseDN: "DC=example,DC=test",
		BindDN: "CN=Administrator,CN=Users,DC=example,DC=test", Password: sambaAdminPassword, dir: dir,
		TLS: NewTLSFilesForIP(t, net.ParseIP(ip), "dc1.example.test")}
	conf := filepath.Join(dir, "etc", "smb.conf")
	if err := os.WriteFile(conf, []byte(sambaConf(dir, ip, s.TLS)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-s", conf, "-i", "-M", "single")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	// Up when an LDAPS bind as the Administrator succeeds.
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := s.Dial()
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("samba did not answer LDAPS on %s: %v\n%s", ip, err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Dial opens an LDAPS connection bound as the domain Administrator, to
// change the directory as its administrator would.
func (s *SambaDC) Dial() (*ldap.Conn, error) {
	c, err := ldap.DialURL(s.TLSURL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: s.TLS.CAPool, MinVersion: tls.VersionTLS12}))
	if err != nil {
		return nil, err
	}
	if err := c.Bind(s.BindDN, s.Password); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func sambaConf(dir, ip string, f TLSFiles) string {
	return fmt.Sprintf(`[global]
	netbios name = DC1
	realm = EXAMPLE.TEST
	workgroup = EXAMPLE
	server role = active directory domain controller
	server services = ldap
	interfaces = %[2]s/8
	bind interfaces only = yes
	ldb:nosync = true
	idmap_ldb:use rfc2307 = yes
	private dir = %[1]s/private
	lock directory = %[1]s
	state directory = %[1]s/state
	cache directory = %[1]s/cache
	pid directory = %[1]s/run
	ncalrpc dir = %[1]s/ncalrpc
	winbindd socket directory = %[1]s/winbindd
	binddns dir = %[1]s/bind-dns
	log file = %[1]s/log.%%m
	logging = file
	tls enabled = yes
	tls keyfile = %[3]s
	tls certfile = %[4]s
	tls cafile = %[5]s
`, dir, ip, f.KeyFile, f.CertFile, f.CAFile)
}

// freeLoopbackIP picks a loopback address on which nothing answers LDAP.
func freeLoopbackIP(t testing.TB) string {
	t.Helper()
	for range 50 {
		n, err := rand.Int(rand.Reader, big.NewInt(250*250))
		if err != nil {
			t.Fatal(err)
		}
		ip := fmt.Sprintf("127.77.%d.%d", 1+n.Int64()/250, 1+n.Int64()%250)
		busy := false
		for _, port := range []string{"389", "636"} {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), 200*time.Millisecond); err == nil {
				c.Close()
				busy = true
			}
		}
		if !busy {
			return ip
		}
	}
	t.Fatal("no free loopback address for a Samba DC")
	return ""
}

// sambaTemplate returns the directory of the provisioned template domain,
// provisioning it first when missing (under a file lock, so that test
// processes running side by side provision it once).
func sambaTemplate(t testing.TB) string {
	t.Helper()
	root := filepath.Join(os.TempDir(), "enrollportal-samba-"+sambaTemplateVersion)
	done := filepath.Join(root, "template", "ready")
	if _, err := os.Stat(done); err == nil {
		return filepath.Join(root, "template")
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(root, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(done); err == nil {
		return filepath.Join(root, "template")
	}
	work, err := os.MkdirTemp(root, "provision-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	if err := os.MkdirAll(filepath.Join(work, "cache"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The address and paths given here are the template's; each copy gets
	// a smb.conf of its own.
	args := []string{"domain", "provision", "--host-name=dc1", "--realm=EXAMPLE.TEST", "--domain=EXAMPLE",
		"--server-role=dc", "--dns-backend=NONE", "--use-rfc2307", "--adminpass=" + sambaAdminPassword,
		"--targetdir=" + work, "--option=interfaces=127.77.0.1/8", "--option=bind interfaces only=yes",
		"--option=server services=ldap", "--option=ldb:nosync=true",
		"--option=pid directory=" + filepath.Join(work, "run"), "--option=log file=" + filepath.Join(work, "log.%m"),
		"--option=ncalrpc dir=" + filepath.Join(work, "ncalrpc"),
		"--option=winbindd socket directory=" + filepath.Join(work, "winbindd"),
		"--option=cache directory=" + filepath.Join(work, "cache")}
	if out, err := exec.Command("samba-tool", args...).CombinedOutput(); err != nil {
		t.Fatalf("samba-tool domain provision: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(work, "ready"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(filepath.Join(root, "template"))
	if err := os.Rename(work, filepath.Join(root, "template")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "template")
}

// copyTree copies the regular files and directories under src to dst
// (sockets and other special files, which a stopped server leaves, are
// skipped).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

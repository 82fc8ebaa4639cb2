package config

import (
	"flag"
	"io"
	"reflect"
	"testing"
)

func parse(t *testing.T, env map[string]string, args ...string) (Settings, []string, error) {
	t.Helper()
	var s Settings
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s.Register(fs)
	pos, err := ParseInterleaved(fs, args)
	if err != nil {
		return s, nil, err
	}
	err = s.Resolve(fs, func(k string) string { return env[k] })
	return s, pos, err
}

func TestFlagsWinOverVariablesAndDefaultsFillTheRest(t *testing.T) {
	s, pos, err := parse(t, map[string]string{"PORTAL_DB": "/env/portal.db", "PORTAL_ADDR": "0.0.0.0:9000"},
		"alice", "--db", "/flag/portal.db", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pos, []string{"alice", "bob"}) {
		t.Fatalf("positional %v", pos)
	}
	if s.DB != "/flag/portal.db" || s.Addr != "0.0.0.0:9000" {
		t.Fatalf("db %q addr %q", s.DB, s.Addr)
	}
	if s.BaseURL != "http://localhost:9000" || s.SecretKeyFile != "/flag/secret.key" {
		t.Fatalf("derived base %q key %q", s.BaseURL, s.SecretKeyFile)
	}
	if s.Host() != "localhost:9000" || s.Hostname() != "localhost" || s.Secure() {
		t.Fatalf("host %q hostname %q", s.Host(), s.Hostname())
	}
}

func TestDefaultsAndValidation(t *testing.T) {
	s, _, err := parse(t, nil)
	if err != nil || s.DB != "./data/portal.db" || s.Addr != "127.0.0.1:8080" || s.BaseURL != "http://localhost:8080" {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	for _, args := range [][]string{
		{"--base-url", "ftp://x"},
		{"--base-url", "https://x/?q=1"},
		{"--tls-cert", "cert.pem"},
		{"--log-level", "loud"},
	} {
		if _, _, err := parse(t, nil, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	s, _, err = parse(t, nil, "--base-url", "https://mfa.example.com/", "--tls-cert", "c", "--tls-key", "k")
	if err != nil || s.BaseURL != "https://mfa.example.com" || !s.Secure() {
		t.Fatalf("https: %+v %v", s, err)
	}
}

func TestTrustedProxies(t *testing.T) {
	s, _, err := parse(t, map[string]string{"PORTAL_TRUSTED_PROXIES": " 10.0.0.0/24, 192.0.2.7 ,,2001:db8::1"})
	if err != nil || !reflect.DeepEqual(s.TrustedProxyList(), []string{"10.0.0.0/24", "192.0.2.7", "2001:db8::1"}) {
		t.Fatalf("list %q, %v", s.TrustedProxyList(), err)
	}
	if s, _, err := parse(t, nil); err != nil || s.TrustedProxyList() != nil {
		t.Fatalf("default %q, %v; want none", s.TrustedProxyList(), err)
	}
	_, _, err = parse(t, nil, "--trusted-proxies", "10.0.0.5,nginx.internal")
	if err == nil || err.Error() != `config: PORTAL_TRUSTED_PROXIES entry "nginx.internal" must be an IP address (10.0.0.5) or a CIDR range (10.0.0.0/24)` {
		t.Fatalf("a host name: %v", err)
	}
}

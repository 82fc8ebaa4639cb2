package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TLSFiles is a throwaway certificate authority and a server certificate it
// signed for DNS:localhost (duo_unix matches names only on dNSName SANs).
type TLSFiles struct {
	CAFile, CertFile, KeyFile string
	CAPool                    *x509.CertPool
}

// NewTLSFiles writes a fresh test CA and a localhost server certificate
// (PEM, mode 0600) into a temporary directory.
func NewTLSFiles(t testing.TB) TLSFiles {
	t.Helper()
	return newTLSFiles(t, []string{"localhost"}, nil)
}

// NewTLSFilesForIP is NewTLSFiles with a server certificate for an IP
// address (an IP SAN) and the DNS names given, for servers a test reaches
// by address (the Samba DC on its own loopback address).
func NewTLSFilesForIP(t testing.TB, ip net.IP, dnsNames ...string) TLSFiles {
	t.Helper()
	return newTLSFiles(t, dnsNames, []net.IP{ip})
}

func newTLSFiles(t testing.TB, dnsNames []string, ips []net.IP) TLSFiles {
	t.Helper()
	dir := t.TempDir()
	cn := "test server"
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Enrollment Portal test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: dnsNames, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	f := TLSFiles{
		CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"),
		CAPool: x509.NewCertPool(),
	}
	f.CAPool.AddCert(caCert)
	writePEM(t, f.CAFile, "CERTIFICATE", caDER)
	writePEM(t, f.CertFile, "CERTIFICATE", srvDER)
	writePEM(t, f.KeyFile, "EC PRIVATE KEY", keyDER)
	return f
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Client returns an HTTP client that trusts only the test CA.
func (f TLSFiles) Client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.CAPool}}}
}

// ServeTLS opens a portal and serves it over HTTPS on a loopback port with
// a certificate for localhost from a fresh test CA. The base URL is
// https://localhost:PORT; the returned TLSFiles hold the CA for clients.
func ServeTLS(t testing.TB, opts ...Option) (*Portal, TLSFiles) {
	t.Helper()
	files := NewTLSFiles(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "https://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	p := open(t, base, opts...)
	cert, err := tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: p.Handler},
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return p, files
}

package directory

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// userPageSize is how many user entries one page of a paged search asks
// for, and groupPageSize how many groups. go-ldap keeps every BER packet of
// a page until the page is decoded (about 1.5 KB per attribute value), so
// a page of groups with 500 members each holds about 750 KB a group: 200
// groups in one page held 150 MB (bench/directory). Small pages bound
// that; a page is one round trip more, a fraction of a millisecond.
const (
	userPageSize  = 250
	groupPageSize = 8
)

// searchTimeLimit is the server-side time limit of one page, in seconds.
const searchTimeLimit = 120

// ConnectError is a failure to reach, trust or bind to a directory, in
// words an admin can act on.
type ConnectError struct {
	Message string
	Err     error
}

func (e *ConnectError) Error() string { return e.Message }
func (e *ConnectError) Unwrap() error { return e.Err }

// SearchError is a search that failed or was cut short: the run that met
// it changed nothing.
type SearchError struct {
	Message string
	Err     error
}

func (e *SearchError) Error() string { return e.Message }
func (e *SearchError) Unwrap() error { return e.Err }

// connect dials, optionally upgrades with StartTLS, and binds.
func connect(ctx context.Context, s Settings, password string) (*ldap.Conn, error) {
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, &ConnectError{Message: "the directory address is not a URL", Err: err}
	}
	tlsCfg := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if strings.TrimSpace(s.CAPEM) != "" {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(s.CAPEM))
		tlsCfg.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if dl, ok := ctx.Deadline(); ok {
		dialer.Deadline = dl
	}
	conn, err := ldap.DialURL(s.URL, ldap.DialWithDialer(dialer), ldap.DialWithTLSConfig(tlsCfg))
	if err != nil {
		return nil, explainConnect(s.URL, err)
	}
	conn.SetTimeout(2 * time.Minute)
	if s.StartTLS {
		if err := conn.StartTLS(tlsCfg); err != nil {
			conn.Close()
			return nil, explainConnect(s.URL, err)
		}
	}
	if err := conn.Bind(s.BindDN, password); err != nil {
		conn.Close()
		return nil, explainConnect(s.URL, err)
	}
	return conn, nil
}

// explainConnect turns a dial, TLS or bind error into a sentence.
func explainConnect(addr string, err error) error {
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
		return &ConnectError{Message: "the directory refused the bind DN or password (invalid credentials)", Err: err}
	case errors.As(err, &unknownCA), errors.As(err, &certErr) && errors.As(certErr.Err, &unknownCA):
		return &ConnectError{Message: fmt.Sprintf("the certificate of %s is not signed by a trusted CA: give the directory's CA certificate", addr), Err: err}
	case errors.As(err, &hostErr):
		return &ConnectError{Message: fmt.Sprintf("the certificate of %s is not for that host name", addr), Err: err}
	case errors.As(err, &certErr):
		return &ConnectError{Message: fmt.Sprintf("the certificate of %s could not be verified", addr), Err: err}
	case ldap.IsErrorWithCode(err, ldap.ErrorNetwork):
		return &ConnectError{Message: fmt.Sprintf("could not reach the directory at %s (is the address right and the server up?)", addr), Err: err}
	}
	var ldapErr *ldap.Error
	if errors.As(err, &ldapErr) && ldapErr.Err != nil {
		return &ConnectError{Message: fmt.Sprintf("the directory at %s answered: %s", addr, ldapErr.Err.Error()), Err: err}
	}
	return &ConnectError{Message: fmt.Sprintf("could not connect to the directory at %s", addr), Err: err}
}

// pagedSearch runs a paged search and hands each entry to fn. Any error,
// any result code but success (a size or time limit) and any referral
// fails the whole search: a partial answer must not pass for a full one.
// Entries are handed over as they arrive (SearchAsync) rather than a page
// at a time: a page's entries, and the BER packets they were decoded
// from, were a large part of a first sync's heap while the page lasted.
func pagedSearch(ctx context.Context, conn *ldap.Conn, base, filter string, attrs []string, pageSize uint32, fn func(*ldap.Entry) error) error {
	paging := ldap.NewControlPaging(pageSize)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, searchTimeLimit, false,
			filter, attrs, []ldap.Control{paging})
		cookie, err := searchPage(ctx, conn, base, req, fn)
		if err != nil || len(cookie) == 0 {
			return err
		}
		paging.SetCookie(cookie)
	}
}

// searchPage runs one page of a paged search and returns the cookie of
// the next page (none after the last).
func searchPage(ctx context.Context, conn *ldap.Conn, base string, req *ldap.SearchRequest, fn func(*ldap.Entry) error) ([]byte, error) {
	// Cancelled on return, so that a search left early (fn failed, a
	// referral) stops its goroutine.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := conn.SearchAsync(ctx, req, 64)
	var cookie []byte
	done := false
	for res.Next() {
		if ref := res.Referral(); ref != "" {
			return nil, &SearchError{Message: fmt.Sprintf("the search under %s returned a referral to %s, which the portal does not follow; nothing was changed", base, ref)}
		}
		if e := res.Entry(); e != nil {
			if err := fn(e); err != nil {
				return nil, err
			}
			continue
		}
		if ctrl, ok := ldap.FindControl(res.Controls(), ldap.ControlTypePaging).(*ldap.ControlPaging); ok {
			cookie, done = ctrl.Cookie, true
		}
	}
	if err := res.Err(); err != nil {
		return nil, explainSearch(base, err)
	}
	// The search goroutine also ends without an error when ctx ends.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A page's end carries the paging control (RFC 2696 has the server
	// return it, empty after the last page): without it, the answer
	// stopped short (the goroutine also ends quietly on a closing
	// connection) and must not pass for a whole one.
	if !done {
		return nil, &SearchError{Message: fmt.Sprintf("the search under %s ended without the directory's final answer (was the connection lost?); nothing was changed", base)}
	}
	return cookie, nil
}

func explainSearch(base string, err error) error {
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return &SearchError{Message: fmt.Sprintf("the directory cut the search under %s short (size limit exceeded); nothing was changed", base), Err: err}
	case ldap.IsErrorWithCode(err, ldap.LDAPResultTimeLimitExceeded):
		return &SearchError{Message: fmt.Sprintf("the directory cut the search under %s short (time limit exceeded); nothing was changed", base), Err: err}
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return &SearchError{Message: fmt.Sprintf("the base DN %s does not exist in the directory; nothing was changed", base), Err: err}
	case ldap.IsErrorWithCode(err, ldap.LDAPResultReferral):
		return &SearchError{Message: fmt.Sprintf("the search under %s returned a referral, which the portal does not follow; nothing was changed", base), Err: err}
	case ldap.IsErrorWithCode(err, ldap.ErrorNetwork):
		return &SearchError{Message: "the connection to the directory was lost during the search; nothing was changed", Err: err}
	}
	return &SearchError{Message: fmt.Sprintf("the search under %s failed; nothing was changed", base), Err: err}
}

// stableID reads an entry's stable id: objectGUID is binary and is shown
// as hex, anything else as text.
func stableID(e *ldap.Entry, attr string) string {
	if strings.EqualFold(attr, "objectGUID") {
		b := e.GetRawAttributeValue(attr)
		if len(b) == 0 {
			return ""
		}
		return hex.EncodeToString(b)
	}
	return e.GetAttributeValue(attr)
}

// normDN is a DN in a form that compares equal for equal DNs (attribute
// types and values lowercased, no spaces around separators), so that a
// member value matches the user's entry DN.
func normDN(dn string) string {
	// The common DN (no escapes, quotes, spaces, multi-valued or hex
	// RDNs) is its own normal form once lowercased: no parse, which cost
	// two allocations an RDN for every member and every user entry.
	if !strings.ContainsAny(dn, "\\\" +#;<>") {
		return strings.ToLower(dn)
	}
	p, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	var b strings.Builder
	for i, rdn := range p.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdn.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(a.Type))
			b.WriteByte('=')
			b.WriteString(strings.ToLower(a.Value))
		}
	}
	return b.String()
}

// adDisabled reports bit 2 (ACCOUNTDISABLE) of userAccountControl.
func adDisabled(e *ldap.Entry) bool {
	v, err := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64)
	return err == nil && v&2 != 0
}

// highestCommittedUSN reads the rootDSE's highestCommittedUSN (Active
// Directory): every change the server has made has a USN at or below it.
// USNs count per domain controller, so it also returns a digest of the
// server's dsServiceName: a cursor taken on one DC means nothing on
// another (a DNS name may lead to any of them).
func highestCommittedUSN(conn *ldap.Conn) (int64, string, error) {
	res, err := conn.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, searchTimeLimit, false,
		"(objectClass=*)", []string{"highestCommittedUSN", "dsServiceName"}, nil))
	if err != nil {
		return 0, "", explainSearch("the rootDSE", err)
	}
	if len(res.Entries) == 1 {
		e := res.Entries[0]
		if v, err := strconv.ParseInt(e.GetAttributeValue("highestCommittedUSN"), 10, 64); err == nil {
			sum := sha256.Sum256([]byte(strings.ToLower(e.GetAttributeValue("dsServiceName"))))
			return v, hex.EncodeToString(sum[:6]), nil
		}
	}
	return 0, "", &SearchError{Message: "the directory's rootDSE has no highestCommittedUSN, which an Active Directory server has; nothing was changed"}
}

package notify

import "testing"

// StartMailServer starts the test SMTP server for the external tests and
// returns its smtp:// URL and a function listing the raw messages received.
func StartMailServer(t testing.TB) (string, func() [][]byte) {
	srv := newMailServer(t)
	return srv.url("smtp"), func() [][]byte {
		var out [][]byte
		for _, r := range srv.messages() {
			out = append(out, r.Data)
		}
		return out
	}
}

// ParseMail exposes the test MIME parser: the text and HTML parts.
func ParseMail(t testing.TB, data []byte) (text, html, subject string) {
	p := parseMail(t, data)
	return p.text, p.html, p.header.Get("Subject")
}

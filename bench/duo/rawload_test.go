package duo

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// The TLS figures' load generator. Sixteen connections and two cores
// shared with the servers leave little room: with net/http's client and a
// request signed inside the timed loop, the generator spent more CPU per
// request than the portal, and its share of the cores showed up as the
// servers' tail latency. This generator builds every request (signed, for
// the portal) before the clock starts, writes each as one HTTP/1.1 request
// on a TLS connection of its own, and reads the answer's status line,
// headers and Content-Length body on the same goroutine: no transport
// goroutines, header maps or per-request allocations beyond the body's.
// The servers are the same net/http servers over TLS; the bare handler is
// measured by the same generator in the same run.

// rawRequest is one whole HTTP/1.1 request, ready to write.
type rawRequest []byte

// buildRequest renders a POST of the form body to path, with the extra
// headers (name, value pairs), as net/http's client would send it.
func buildRequest(host, path, body string, headers ...string) rawRequest {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n", path, host, len(body))
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.Bytes()
}

// rawConn is one keep-alive HTTP/1.1 connection over TLS.
type rawConn struct {
	c    *tls.Conn
	r    *bufio.Reader
	body []byte
}

func dialRaw(srv *httptest.Server) (*rawConn, error) {
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	c, err := tls.Dial("tcp", srv.Listener.Addr().String(), cfg)
	if err != nil {
		return nil, err
	}
	return &rawConn{c: c, r: bufio.NewReaderSize(c, 8<<10)}, nil
}

// do writes req and reads its answer; the body is valid until the next call.
func (rc *rawConn) do(req rawRequest) (status int, body []byte, err error) {
	if _, err := rc.c.Write(req); err != nil {
		return 0, nil, err
	}
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	for {
		h, err := rc.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		if len(h) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, nil, fmt.Errorf("bad Content-Length %q", h)
			}
		}
	}
	if length < 0 {
		return 0, nil, fmt.Errorf("answer %d without a Content-Length", status)
	}
	if cap(rc.body) < length {
		rc.body = make([]byte, length)
	}
	rc.body = rc.body[:length]
	if _, err := io.ReadFull(rc.r, rc.body); err != nil {
		return 0, nil, err
	}
	return status, rc.body, nil
}

// rawLoad sends reqs to srv over conns TLS connections, one goroutine a
// connection, each sending its next request once the last was answered,
// and returns the throughput, the 99th percentile latency and the
// process's CPU per request. The connections are opened, handshaken and
// used once before the clock starts.
func rawLoad(b *testing.B, srv *httptest.Server, conns int, reqs []rawRequest, check func(status int, body []byte) error) (rps float64, p99, cpuPerReq time.Duration) {
	b.Helper()
	cs := make([]*rawConn, conns)
	for i := range cs {
		c, err := dialRaw(srv)
		if err != nil {
			b.Fatal(err)
		}
		defer c.c.Close()
		status, body, err := c.do(reqs[i%len(reqs)])
		if err != nil {
			b.Fatal(err)
		}
		if err := check(status, body); err != nil {
			b.Fatal(err)
		}
		cs[i] = c
	}
	return closedLoop(b, conns, len(reqs), func(w, i int) (time.Duration, error) {
		t0 := time.Now()
		status, body, err := cs[w].do(reqs[i])
		d := time.Since(t0)
		if err != nil {
			return 0, err
		}
		return d, check(status, body)
	})
}

// Package notify_test measures outbox delivery: how many messages a second
// the worker hands to a local SMTP server (go-smtp, in process, over TCP).
package notify_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"enrollportal/internal/clock"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlite"
)

// BenchmarkDeliverEmail delivers a batch of enrollment emails per iteration
// through the real worker (claim, MIME, SMTP, mark sent) and reports msgs/s.
func BenchmarkDeliverEmail(b *testing.B) {
	const perIteration = 2000
	var received atomic.Int64
	addr := startSMTP(b, &received)
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "portal.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc, err := notify.New(notify.Options{
		Store: db, Clock: clock.Real{}, OrgName: func(context.Context) string { return "Example Org" },
		SMTPURL: "smtp://" + addr, MailFrom: "portal@example.org",
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	org, err := svc.Org(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	var sent int
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		err := db.InTx(ctx, func(q store.Queries) error {
			for j := 0; j < perIteration; j++ {
				u := store.User{Username: fmt.Sprintf("u%d-%d", i, j), RealName: "Bench User", Email: fmt.Sprintf("u%d-%d@example.com", i, j)}
				m := notify.EnrollmentEmail(org, u, "https://portal.example/enroll/token", time.Now().Add(720*time.Hour), nil)
				m.IntentKey = notify.EnrollLinkIntent(int64(i*perIteration+j), 1)
				if _, err := notify.Enqueue(ctx, q, m, time.Now()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		begin := time.Now()
		for {
			sum, err := svc.DeliverDue(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if sum.Retrying+sum.Failed > 0 {
				b.Fatalf("delivery failed: %+v", sum)
			}
			sent += sum.Sent
			if sum.Claimed == 0 {
				break
			}
		}
		elapsed += time.Since(begin)
	}
	if int(received.Load()) != sent || sent != b.N*perIteration {
		b.Fatalf("server received %d, worker sent %d, want %d", received.Load(), sent, b.N*perIteration)
	}
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "msgs/s")
}

func startSMTP(b *testing.B, received *atomic.Int64) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{received}, nil }))
	s.Domain = "localhost"
	go s.Serve(ln)
	b.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

type session struct{ received *atomic.Int64 }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.received.Add(1)
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

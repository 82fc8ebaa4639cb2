package promptbench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/demoapp"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

const (
	callback = "https://app.example.com/cb"
	browsers = 8   // concurrent sign-ins
	signIns  = 400 // per measurement
)

// BenchmarkPromptSignIn runs complete sign-ins of a bypass user from 8
// concurrent browsers. Policy allows a bypass user at once, so the figure is
// the protocol's own cost: the signed request checked, a transaction written
// and deleted, a code issued and redeemed, a client assertion checked and
// recorded, an id_token signed and verified.
func BenchmarkPromptSignIn(b *testing.B) {
	p := testkit.Serve(b)
	ctx := context.Background()
	created, err := p.Apps.Create(ctx, apps.NewApp{Name: "Bench", Kind: store.AppWeb, RedirectURIs: []string{callback}}, audit.CLI())
	if err != nil {
		b.Fatal(err)
	}
	now := p.Clock.Now()
	for i := 0; i < browsers; i++ {
		u := store.User{Key: fmt.Sprintf("DUBENCH%013d", i), Username: fmt.Sprintf("user%d", i), Status: store.StatusBypass, CreatedAt: now, UpdatedAt: now}
		if err := p.Store.CreateUser(ctx, &u); err != nil {
			b.Fatal(err)
		}
	}
	host := strings.TrimPrefix(p.URL, "http://")
	transport := &http.Transport{MaxIdleConnsPerHost: browsers}
	client := &demoapp.Client{
		ClientID: created.ClientID, ClientSecret: created.ClientSecret, APIHost: host, Scheme: "http",
		RedirectURI: callback, UseDuoCode: true, Now: p.Clock.Now, HTTP: &http.Client{Transport: transport},
	}

	signIn := func(browser *http.Client, username string) error {
		authURL, err := client.AuthURL(username, demoapp.RandomString(36), demoapp.RandomString(16))
		if err != nil {
			return err
		}
		resp, err := browser.Get(authURL)
		if err != nil {
			return err
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			return fmt.Errorf("sign-in ended with %d, not a redirect to the application", resp.StatusCode)
		}
		res, err := client.Exchange(ctx, loc.Query().Get("duo_code"), username, "")
		if err != nil {
			return err
		}
		if !res.Allowed() {
			return fmt.Errorf("denied: %+v", res.AuthResult)
		}
		return nil
	}

	var elapsed time.Duration
	var latencies []time.Duration
	for i := 0; i < b.N; i++ {
		// A minute passes between rounds, refilling the per-address
		// authorize allowance.
		p.Clock.Advance(time.Minute)
		latencies = latencies[:0]
		var mu sync.Mutex
		var wg sync.WaitGroup
		errs := make(chan error, browsers)
		start := time.Now()
		for w := 0; w < browsers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				jar, _ := cookiejar.New(nil)
				// Each browser comes from its own loopback address, as
				// people do from their own machines: authorize requests
				// are rate limited per address.
				own := &http.Transport{DialContext: (&net.Dialer{
					LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(w+2))},
				}).DialContext}
				browser := &http.Client{Jar: jar, Transport: own, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
					if r.URL.Host != host {
						return http.ErrUseLastResponse
					}
					return nil
				}}
				for n := 0; n < signIns/browsers; n++ {
					t0 := time.Now()
					if err := signIn(browser, fmt.Sprintf("user%d", w)); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					latencies = append(latencies, time.Since(t0))
					mu.Unlock()
				}
			}(w)
		}
		wg.Wait()
		elapsed = time.Since(start)
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "sign-ins/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}

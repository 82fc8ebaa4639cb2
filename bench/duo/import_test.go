package duo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/importer"
)

// importRows is the size of the import that runs under the logins.
const importRows = 100_000

// writeUsersCSV writes an import of n new users, each with an email, a
// mobile phone and a group.
func writeUsersCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "username,realname,email,phone1,platform1,type1,group1")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "imported%06d,Imported %d,imported%06d@example.org,+1%03d%03d%04d,android,mobile,Wave %02d\n",
			i, i, i, 201+i/1_000_000, 200+(i/10_000)%800, i%10_000, i%10)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// BenchmarkPreauthDuringImport sends Auth API preauths (4 connections,
// plain HTTP) while a 100,000-row import applies in its short
// transactions: half for enrolled users (reads), half for names never seen
// before (each answer waits for its audit record, a new row: a repeat of a
// name would only count on the row it has, a smaller write). It reports the p99 and
// the worst latency of each half, measured only while the import applied.
func BenchmarkPreauthDuringImport(b *testing.B) {
	f := getFixture(b)
	ctx := context.Background()
	csvPath := filepath.Join(f.dir, "import.csv")
	if err := writeUsersCSV(csvPath, importRows); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		src, err := os.Open(csvPath)
		if err != nil {
			b.Fatal(err)
		}
		plan, checked, err := f.app.Importer.Check(ctx, src, importer.ModeUpsert)
		src.Close()
		if err != nil || checked.ErrorCount > 0 {
			b.Fatalf("check: %v (%+v)", err, checked.Errors)
		}

		var applying atomic.Bool
		applying.Store(true)
		applied := make(chan error, 1)
		var applySeconds float64
		go func() {
			start := time.Now()
			_, err := f.app.Importer.ApplyPlan(ctx, plan, audit.Who{Type: audit.ActorAdmin, Name: "bench@example.org"})
			applySeconds = time.Since(start).Seconds()
			applying.Store(false)
			applied <- err
		}()

		newReq := preauthV2(f, f.portal, f.host)
		client := plainClient(workers)
		var mu sync.Mutex
		var reads, writes []time.Duration
		var failed atomic.Value
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; applying.Load(); n++ {
					unknown := n%2 == 1
					req := newReq(n)
					if unknown {
						req = signedPreauthV2(f, f.portal.URL, f.host, fmt.Sprintf("ghost%d", rand.Int64()))
					}
					t0 := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						failed.Store(err)
						return
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					d := time.Since(t0)
					if resp.StatusCode != http.StatusOK {
						failed.Store(fmt.Errorf("preauth during the import answered %d %q", resp.StatusCode, body))
						return
					}
					if !applying.Load() {
						return // finished after the import: not counted
					}
					mu.Lock()
					if unknown {
						writes = append(writes, d)
					} else {
						reads = append(reads, d)
					}
					mu.Unlock()
				}
			}()
		}
		if err := <-applied; err != nil {
			b.Fatal(err)
		}
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			b.Fatal(err)
		}
		if len(reads) == 0 || len(writes) == 0 {
			b.Fatal("no preauth finished while the import applied")
		}
		slices.Sort(reads)
		slices.Sort(writes)
		all := slices.Concat(reads, writes)
		slices.Sort(all)
		b.ReportMetric(ms(all[len(all)*99/100]), "p99_ms")
		b.ReportMetric(ms(reads[len(reads)*99/100]), "read_p99_ms")
		b.ReportMetric(ms(writes[len(writes)*99/100]), "write_p99_ms")
		b.ReportMetric(ms(all[len(all)-1]), "max_ms")
		b.ReportMetric(float64(len(all))/applySeconds, "req/s")
		b.ReportMetric(applySeconds, "apply_s")
		b.Logf("during a %d-row import applied in %.1f s: %d preauths, p99 %.1f ms (reads %.1f, writes %.1f), max %.1f ms",
			importRows, applySeconds, len(all), ms(all[len(all)*99/100]), ms(reads[len(reads)*99/100]), ms(writes[len(writes)*99/100]), ms(all[len(all)-1]))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

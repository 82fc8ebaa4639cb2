package enrollbench

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// clients is how many requests are in flight at once.
func clients() int { return envInt("BENCH_CLIENTS", 8) }

// phase is how long each measurement runs.
func phase() time.Duration { return time.Duration(envInt("BENCH_SECONDS", 3)) * time.Second }

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// loadResult is what one closed-loop run measured.
type loadResult struct {
	clients int
	ops     int
	elapsed time.Duration
	cpu     time.Duration   // CPU time of the whole process: clients and servers
	lat     []time.Duration // sorted
}

// merge adds the runs of o to r, as if they were one run.
func (r loadResult) merge(o loadResult) loadResult {
	lat := append(append([]time.Duration(nil), r.lat...), o.lat...)
	slices.Sort(lat)
	return loadResult{clients: max(r.clients, o.clients), ops: r.ops + o.ops, elapsed: r.elapsed + o.elapsed, cpu: r.cpu + o.cpu, lat: lat}
}

// cpuPerOp is the CPU time the process spent per request. Unlike the
// throughput it hardly depends on what else the machine is running.
func (r loadResult) cpuPerOp() time.Duration {
	if r.ops == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.ops)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r loadResult) perSecond() float64 { return float64(r.ops) / r.elapsed.Seconds() }

func (r loadResult) quantile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(q * float64(len(r.lat)-1))
	return r.lat[i]
}

func (r loadResult) String() string {
	return fmt.Sprintf("%d ops in %s: %.0f/s, p50 %s, p99 %s, max %s, %s CPU per op", r.ops, r.elapsed.Round(time.Millisecond),
		r.perSecond(), r.quantile(0.50), r.quantile(0.99), r.quantile(1), r.cpuPerOp())
}

// report publishes the figures of r under name.
func (r loadResult) report(b *testing.B, name string) {
	b.ReportMetric(r.perSecond(), name+"_req/s")
	b.ReportMetric(float64(r.quantile(0.50).Microseconds())/1000, name+"_p50_ms")
	b.ReportMetric(float64(r.quantile(0.99).Microseconds())/1000, name+"_p99_ms")
	b.ReportMetric(float64(r.cpuPerOp().Microseconds()), name+"_cpu_us/req")
	b.ReportMetric(0, "ns/op") // one run of many requests: per-op time means nothing here
	b.Logf("%s: %s (%d clients)", name, r, r.clients)
}

// closedLoop runs op from n clients at once, each starting its next request
// as soon as the last one answered, for d or until maxOps ops have started
// (maxOps <= 0: no limit). op gets a unique sequence number. The first error
// stops the run and fails the benchmark: a figure for failing requests would
// be meaningless.
func closedLoop(b *testing.B, n int, d time.Duration, maxOps int, op func(seq int) error) loadResult {
	b.Helper()
	var (
		next    atomic.Int64
		stop    atomic.Bool
		errOnce sync.Once
		firstEr error
		wg      sync.WaitGroup
	)
	lats := make([][]time.Duration, n)
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for !stop.Load() {
				seq := int(next.Add(1) - 1)
				if maxOps > 0 && seq >= maxOps {
					break
				}
				t0 := time.Now()
				if err := op(seq); err != nil {
					errOnce.Do(func() { firstEr = err })
					stop.Store(true)
					break
				}
				t1 := time.Now()
				local = append(local, t1.Sub(t0))
				if t1.After(deadline) {
					stop.Store(true)
				}
			}
			lats[w] = local
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	if firstEr != nil {
		b.Fatalf("load run failed: %v", firstEr)
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	return loadResult{clients: n, ops: len(all), elapsed: elapsed, cpu: cpu, lat: all}
}

// compare measures two operations in alternating slices (a b, b a, a b,
// ...), so that both see the same machine: on a shared machine the load
// of others drifts by the second, and one run of each would compare two
// different machines.
func compare(b *testing.B, rounds, n int, d time.Duration, opA, opB func(int) error) (a, bb loadResult) {
	b.Helper()
	slice := d / time.Duration(rounds)
	for i := range rounds {
		runA := func() { a = a.merge(closedLoop(b, n, slice, 0, opA)) }
		runB := func() { bb = bb.merge(closedLoop(b, n, slice, 0, opB)) }
		if i%2 == 0 {
			runA()
			runB()
		} else {
			runB()
			runA()
		}
	}
	return a, bb
}

// profiled runs fn; with BENCH_PROFILE_DIR set it writes a CPU profile of
// it to DIR/name.pprof, for `go tool pprof`.
func profiled(b *testing.B, name string, fn func()) {
	b.Helper()
	dir := os.Getenv("BENCH_PROFILE_DIR")
	if dir == "" {
		fn()
		return
	}
	pf, err := os.Create(filepath.Join(dir, name+".pprof"))
	if err != nil {
		b.Fatal(err)
	}
	defer pf.Close()
	if err := pprof.StartCPUProfile(pf); err != nil {
		b.Fatal(err)
	}
	defer pprof.StopCPUProfile()
	fn()
}

// newClient is a keep-alive HTTP client with a connection per load client.
func newClient(n int) *http.Client {
	tr := &http.Transport{
		MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}
	return &http.Client{
		Transport: tr,
		// The portal answers form posts with redirects (Post/Redirect/Get);
		// the measured step is the POST itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get fetches u and checks its status; the body is read to the end so the
// connection is reused.
func get(c *http.Client, u string, want int) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: status %d, want %d", u, resp.StatusCode, want)
	}
	return nil
}

package bulkbench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/importer"
	"enrollportal/internal/jobs"
	"enrollportal/internal/store/sqlite"
)

const importRows = 100_000

var benchAdmin = audit.Who{Type: audit.ActorAdmin, Name: "bench@example.org", IP: "127.0.0.1"}

// childEnv makes the test binary run one import and print its figures.
const childEnv = "BULKBENCH_IMPORT_CHILD"

// importFigures is what the child process reports.
type importFigures struct {
	Seconds      float64 `json:"seconds"`       // check + apply: the whole import
	CheckSeconds float64 `json:"check_seconds"` // the check pass (the preview)
	Created      int     `json:"created"`
	NewPhones    int     `json:"new_phones"`
	VmHWMKB      int     `json:"vmhwm_kb"`
	CPUSeconds   float64 `json:"cpu_seconds"` // user+system time of check + apply
	GoHeapMaxMB  float64 `json:"go_heap_max_mb"`
}

// writeImportCSV writes a file in Duo's import layout: every user with a
// real name, email, alias, a mobile in free format with a platform, and two
// groups out of 20.
func writeImportCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "username,realname,email,alias1,phone1,platform1,type1,group1,group2,notes")
	platforms := []string{"iphone", "android", "smartphone"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "User%06d,User Number %d,user%06d@example.org,u%06d.alt,(%03d) %03d-%04d,%s,mobile,Team %02d,Everyone,imported\n",
			i, i, i, i, 201+(i/1_000_000), 200+(i/10_000)%800, i%10_000, platforms[i%3], i%20)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// TestMain runs the import child when asked to, else the benchmarks.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := importChild(os.Getenv(childEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func importChild(dir string) error {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "portal.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	svc := importer.New(db, clock.Real{}, jobs.New(jobs.Options{Store: db, Owner: "bench"}))

	// Sample the Go heap while the import runs.
	done := make(chan struct{})
	maxHeap := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				maxHeap <- peak
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()

	if path := os.Getenv("BULKBENCH_CPUPROFILE"); path != "" {
		pf, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	src := filepath.Join(dir, "users.csv")
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	start, cpu0 := time.Now(), cpuTime()
	plan, checked, err := svc.Check(ctx, f, importer.ModeUpsert)
	if err != nil || checked.ErrorCount > 0 {
		return fmt.Errorf("check: %v (%+v)", err, checked.Errors)
	}
	check := time.Since(start)
	sum, err := svc.ApplyPlan(ctx, plan, benchAdmin)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	close(done)
	out := importFigures{
		Seconds: elapsed.Seconds(), CheckSeconds: check.Seconds(), Created: sum.Create, NewPhones: sum.NewPhones,
		VmHWMKB: vmHWM(), GoHeapMaxMB: float64(<-maxHeap) / (1 << 20), CPUSeconds: cpu.Seconds(),
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// cpuTime is the user+system CPU time of the process so far: on a shared
// machine it says what the work costs when wall time says how busy the
// machine was.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM reads the process's peak resident set size in kB.
func vmHWM() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return kb
		}
	}
	return -1
}

// BenchmarkImport100k imports 100,000 new users with a phone and groups
// each into an empty database, in a child process, the way the admin page
// does: the check pass (the preview, which writes the plan) and the
// one-transaction apply of the plan. Targets: under 20 s, peak memory under
// 150 MB.
func BenchmarkImport100k(b *testing.B) {
	dir := b.TempDir()
	if err := writeImportCSV(filepath.Join(dir, "users.csv"), importRows); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run := filepath.Join(dir, strconv.Itoa(i))
		if err := os.MkdirAll(run, 0o700); err != nil {
			b.Fatal(err)
		}
		if err := os.Link(filepath.Join(dir, "users.csv"), filepath.Join(run, "users.csv")); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+run)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("import child: %v", err)
		}
		var fig importFigures
		if err := json.Unmarshal(out, &fig); err != nil {
			b.Fatalf("import child said %q: %v", out, err)
		}
		if fig.Created != importRows || fig.NewPhones != importRows {
			b.Fatalf("import created %d users and %d phones, want %d", fig.Created, fig.NewPhones, importRows)
		}
		b.ReportMetric(fig.Seconds, "import_s")
		b.ReportMetric(fig.CheckSeconds, "check_s")
		b.ReportMetric(fig.Seconds-fig.CheckSeconds, "apply_s")
		b.ReportMetric(fig.CPUSeconds, "import_cpu_s")
		b.ReportMetric(float64(fig.VmHWMKB)/1024, "peak_rss_MB")
		b.ReportMetric(fig.GoHeapMaxMB, "go_heap_max_MB")
		b.ReportMetric(float64(importRows)/fig.Seconds, "rows/s")
		b.Logf("import of %d rows: check (preview) %.2f s + apply %.2f s = %.2f s wall, %.2f s CPU; peak RSS %.1f MB, Go heap max %.1f MB",
			importRows, fig.CheckSeconds, fig.Seconds-fig.CheckSeconds, fig.Seconds, fig.CPUSeconds, float64(fig.VmHWMKB)/1024, fig.GoHeapMaxMB)
	}
}

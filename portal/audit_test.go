package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
)

// seedAudit writes, beside recent records, three records older than 400
// days and one as old whose repeats went on until yesterday (kept: its
// latest event is recent: 36 hours ago).
func seedAudit(t *testing.T, files dbFiles) {
	t.Helper()
	ctx := context.Background()
	db := files.open(t)
	defer db.Close()
	now := time.Now()
	old := now.Add(-500 * 24 * time.Hour)
	who := audit.Who{Type: audit.ActorApplication, Name: "VPN"}
	for i, at := range []time.Time{old, old.Add(time.Hour), old.Add(2 * time.Hour), now.Add(-time.Hour), now} {
		if err := db.InsertAudit(ctx, audit.Entry(at, who, audit.AuthDenied, audit.TargetUser, "u"+string(rune('a'+i)), nil)); err != nil {
			t.Fatal(err)
		}
	}
	e := audit.Entry(old, who, audit.AuthEnrollRequired, audit.TargetUser, "looper", nil)
	e.RepeatKey = "looper-key"
	if err := db.InsertAudit(ctx, e); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.CountAuditRepeat(ctx, e.RepeatKey, old.Add(-time.Second), now.Add(-36*time.Hour)); err != nil || !ok {
		t.Fatalf("repeat: %v %v", ok, err)
	}
}

func auditTargets(t *testing.T, files dbFiles) []string {
	t.Helper()
	db := files.open(t)
	defer db.Close()
	entries, err := db.SearchAudit(context.Background(), store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action+":"+e.Target)
	}
	return out
}

func TestAuditPruneRemovesRecordsPastTheRetention(t *testing.T) {
	files := newDBFiles(t)
	seedAudit(t, files)
	env := files.env()

	r := runCLI(t, env, "audit", "prune")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "removed 3 audit records older than ") || !strings.Contains(r.stdout, "(retention 400d)") {
		t.Fatalf("audit prune: %d %q %q", r.code, r.stdout, r.stderr)
	}
	got := strings.Join(auditTargets(t, files), " ")
	for _, gone := range []string{":ua", ":ub", ":uc"} {
		if strings.Contains(got, gone) {
			t.Errorf("%s is older than 400 days but still there: %s", gone, got)
		}
	}
	for _, kept := range []string{":ud", ":ue", "auth.enroll_required:looper", audit.AuditPruned} {
		if !strings.Contains(got, kept) {
			t.Errorf("%s is missing after the prune: %s", kept, got)
		}
	}
	// A shorter period: the looper's latest repeat is now past it.
	if r := runCLI(t, env, "audit", "prune", "--audit-retention", "1d"); r.code != 0 || !strings.HasPrefix(r.stdout, "removed 1 audit record ") {
		t.Fatalf("prune with 1d: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "audit", "prune", "--audit-retention", "40m"); r.code == 0 || !strings.Contains(r.stderr, "shorter than a day") {
		t.Fatalf("a retention under a day: %d %q", r.code, r.stderr)
	}
}

func TestServePrunesTheAuditLogOnItsOwn(t *testing.T) {
	files := newDBFiles(t)
	seedAudit(t, files)
	s := startServe(t, files.env("PORTAL_ADDR", "127.0.0.1:0", "PORTAL_AUDIT_RETENTION", "30d"))
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(s.logs.String(), "pruned the audit log"); {
		if time.Now().After(deadline) {
			t.Fatalf("no prune at start:\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	got := strings.Join(auditTargets(t, files), " ")
	if strings.Contains(got, ":ua") || !strings.Contains(got, ":ue") || !strings.Contains(got, audit.AuditPruned) {
		t.Errorf("after serve's sweep: %s", got)
	}
}

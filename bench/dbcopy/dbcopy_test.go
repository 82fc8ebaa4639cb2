package dbcopy

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"enrollportal/internal/app"
	"enrollportal/internal/config"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/store/postgres"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/testkit"
)

const userCount = 100_000

// loadSQLite makes the source: userCount users, each with an activated
// phone holding a sealed-sized TOTP seed, in one transaction.
func loadSQLite(b *testing.B, path string) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	seed := make([]byte, 60) // the size of a sealed 20-byte seed
	users := make([]*store.User, userCount)
	phones := make([]*store.Phone, userCount)
	for i := range users {
		users[i] = &store.User{Key: secret.NewID("DU", 20), Username: fmt.Sprintf("user%06d", i), Email: fmt.Sprintf("user%06d@example.org", i),
			Status: store.StatusActive, CreatedAt: now, UpdatedAt: now}
		phones[i] = &store.Phone{Key: secret.NewID("DP", 20), Type: store.PhoneMobile, Platform: store.PlatformGeneric,
			Number: fmt.Sprintf("+1415%07d", i), TOTPSecret: seed, Activated: true, ActivatedAt: &now, CreatedAt: now}
	}
	err = db.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateUsers(ctx, users); err != nil {
			return err
		}
		if err := q.CreatePhones(ctx, phones); err != nil {
			return err
		}
		pairs := make([][2]int64, userCount)
		for i := range users {
			pairs[i] = [2]int64{users[i].ID, phones[i].ID}
		}
		return q.AttachPhones(ctx, pairs)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDBCopy100kUsers copies the source into a new PostgreSQL
// database as `portal db copy` does, once per iteration.
func BenchmarkDBCopy100kUsers(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "portal.db")
	loadSQLite(b, path)
	b.StopTimer()
	var total time.Duration
	for range b.N {
		url := testkit.StartPostgres(b)
		b.StartTimer()
		start := time.Now()
		source, err := app.OpenStore(ctx, config.Settings{DB: "sqlite:" + path})
		if err != nil {
			b.Fatal(err)
		}
		target, err := postgres.Open(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		target.Close()
		counts, err := postgres.CopyInto(ctx, source.SQL(), url)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		source.Close()
		rows := map[string]int64{}
		for _, c := range counts {
			rows[c.Table] = c.Rows
		}
		if rows["users"] != userCount || rows["phones"] != userCount || rows["user_phones"] != userCount {
			b.Fatalf("copied %d users, %d phones, %d links, want %d each", rows["users"], rows["phones"], rows["user_phones"], userCount)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "copy_s")
}

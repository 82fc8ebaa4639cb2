package org_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/org"
	"enrollportal/internal/testkit/testdb"
)

// TestSettingsRoundTripTyped saves every setting through the typed change
// and reads it back typed; a change that changes nothing writes nothing.
func TestSettingsRoundTripTyped(t *testing.T) {
	ctx := context.Background()
	db := testdb.OpenNew(t)
	s := org.New(db, "")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	got, err := org.Load(ctx, db)
	want := org.Values{ActivationHours: org.DefaultActivationHours, PhoneRegion: org.DefaultPhoneRegion, SelfRenew: true}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults %+v (%v), want %+v", got, err, want)
	}
	// The form of an unnamed organisation sends back the name it shows.
	shown := org.DefaultName
	if changed, err := s.Save(ctx, org.Change{Name: &shown}, audit.CLI(), at); err != nil || changed {
		t.Fatalf("saving the shown name: changed %v, %v", changed, err)
	}

	name, may, hours, header, logoURL, region, renew := "Acme", true, 72, "From Acme IT.", "https://acme.example/logo.png", "gb", false
	ch := org.Change{Name: &name, HelpDeskMaySend: &may, ActivationHours: &hours, MessageHeader: &header,
		MessageLogoURL: &logoURL, PhoneRegion: &region, SelfRenew: &renew, Logo: &org.Logo{Data: []byte("png bytes"), Type: "image/png"}}
	if changed, err := s.Save(ctx, ch, audit.CLI(), at); err != nil || !changed {
		t.Fatalf("save: changed %v, %v", changed, err)
	}
	got, err = org.Load(ctx, db)
	want = org.Values{Name: "Acme", HelpDeskMaySend: true, ActivationHours: 72, MessageHeader: "From Acme IT.",
		MessageLogoURL: "https://acme.example/logo.png", Logo: &org.Logo{Data: []byte("png bytes"), Type: "image/png"},
		PhoneRegion: "GB", SelfRenew: false}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("saved %+v (%v), want %+v", got, err, want)
	}
	if n := s.Name(ctx); n != "Acme" {
		t.Fatalf("name after save %q", n)
	}

	ch.Logo = nil
	if changed, err := s.Save(ctx, ch, audit.CLI(), at); err != nil || changed {
		t.Fatalf("saving the same values: changed %v, %v", changed, err)
	}
	if changed, err := s.Save(ctx, org.Change{RemoveLogo: true}, audit.CLI(), at); err != nil || !changed {
		t.Fatalf("remove logo: changed %v, %v", changed, err)
	}
	if v, err := org.Load(ctx, db); err != nil || v.Logo != nil {
		t.Fatalf("logo after removal %+v, %v", v.Logo, err)
	}
	entries, err := db.AuditForTarget(ctx, audit.TargetSettings, "organisation", 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("audit: %d records (%v), want one per change that changed something", len(entries), err)
	}
}

package bulk_test

import (
	"reflect"
	"strings"
	"testing"

	"enrollportal/internal/bulk"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		rows     []bulk.Row
		problems map[int]string // line -> part of the reason
	}{
		{
			name: "header, blank lines, case and spaces",
			in:   "Username,Email\n\n  Alice , alice@example.com\r\nbob,bob@example.com\n\n",
			rows: []bulk.Row{{Line: 3, Username: "alice", Email: "alice@example.com"}, {Line: 4, Username: "bob", Email: "bob@example.com"}},
		},
		{
			name: "no header",
			in:   "carol,carol@example.com",
			rows: []bulk.Row{{Line: 1, Username: "carol", Email: "carol@example.com"}},
		},
		{
			name: "quoted fields",
			in:   `"dave","dave@example.com"`,
			rows: []bulk.Row{{Line: 1, Username: "dave", Email: "dave@example.com"}},
		},
		{
			name: "bad lines reported by number, good lines kept",
			in: "username,email\nalice,alice@example.com\nbad user,x@example.com\nerin,not-an-email\nALICE,other@example.com\n" +
				"frank\ngina,gina@example.com,extra\n\"unclosed,x@example.com\nhank,hank@example.com",
			rows: []bulk.Row{{Line: 2, Username: "alice", Email: "alice@example.com"}, {Line: 9, Username: "hank", Email: "hank@example.com"}},
			problems: map[int]string{
				3: "bad username", 4: "bad email", 5: "duplicate: alice is already on line 2",
				6: "no email address", 7: "3 values", 8: "not valid CSV",
			},
		},
		{
			name:     "header only later is a bad line",
			in:       "alice,alice@example.com\nusername,email",
			rows:     []bulk.Row{{Line: 1, Username: "alice", Email: "alice@example.com"}},
			problems: map[int]string{2: "bad email"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bulk.Parse(tt.in)
			if !reflect.DeepEqual(got.Rows, tt.rows) {
				t.Errorf("rows = %+v, want %+v", got.Rows, tt.rows)
			}
			if len(got.Problems) != len(tt.problems) {
				t.Fatalf("problems = %+v, want lines %v", got.Problems, tt.problems)
			}
			for _, p := range got.Problems {
				want, ok := tt.problems[p.Line]
				if !ok || !strings.Contains(p.Reason, want) {
					t.Errorf("line %d: reason %q, want it to contain %q", p.Line, p.Reason, want)
				}
			}
		})
	}
}

func TestParseStopsAtMaxRows(t *testing.T) {
	var b strings.Builder
	for i := 0; i < bulk.MaxRows+5; i++ {
		b.WriteString("u")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(",u@example.com\n")
	}
	got := bulk.Parse(b.String())
	if !got.TooMany || len(got.Rows)+len(got.Problems) != bulk.MaxRows {
		t.Fatalf("TooMany=%v rows=%d problems=%d", got.TooMany, len(got.Rows), len(got.Problems))
	}
}

func TestParseRefusesNULAndInvalidUTF8(t *testing.T) {
	got := bulk.Parse("username,email\nca\x00rol,carol@example.com\ndave,d\xe9ve@example.com\ncaf\xe9,cafe@example.com\nerin,erin@example.com\n")
	if len(got.Rows) != 1 || got.Rows[0].Username != "erin" {
		t.Fatalf("rows = %+v", got.Rows)
	}
	want := map[int]string{2: "bad username", 3: "bad email address", 4: "bad username"}
	if len(got.Problems) != len(want) {
		t.Fatalf("problems = %+v", got.Problems)
	}
	for _, p := range got.Problems {
		if !strings.Contains(p.Reason, want[p.Line]) {
			t.Errorf("line %d: %q, want %q", p.Line, p.Reason, want[p.Line])
		}
	}
}

package bulk

import (
	"encoding/csv"
	"fmt"
	"strings"

	"enrollportal/internal/users"
)

// MaxRows bounds one paste, so that a mistaken paste of a whole database
// cannot tie up the portal.
const MaxRows = 20000

// Row is one valid line of the paste.
type Row struct {
	Line     int // 1-based line number in the pasted text
	Username string
	Email    string
}

// Problem is one line that cannot be used, with the reason in words.
type Problem struct {
	Line   int
	Text   string // the line as pasted, shortened
	Reason string
}

// Parsed is a paste split into usable rows and problems, both in line order.
type Parsed struct {
	Rows     []Row
	Problems []Problem
	// TooMany is set when the paste had more than MaxRows rows; rows past
	// the limit are not read.
	TooMany bool
}

// Parse reads pasted "username,email" lines. A first line that reads
// "username,email" (any case) is a header and skipped; blank lines are
// ignored. Usernames are normalized as everywhere (trimmed, lowercase).
func Parse(text string) Parsed {
	var out Parsed
	seen := map[string]int{} // username -> line of its first appearance
	first := true
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, raw := range lines {
		line := strings.TrimSpace(strings.TrimPrefix(raw, "\ufeff"))
		if line == "" {
			continue
		}
		n := i + 1
		isFirst := first
		first = false
		fields, err := splitLine(line)
		if err != nil {
			out.Problems = append(out.Problems, Problem{Line: n, Text: short(line), Reason: "the line is not valid CSV (check the quotes)"})
			continue
		}
		if isFirst && isHeader(fields) {
			continue
		}
		if len(out.Rows)+len(out.Problems) >= MaxRows {
			out.TooMany = true
			break
		}
		if p, ok := checkFields(n, line, fields, seen); !ok {
			out.Problems = append(out.Problems, p)
			continue
		}
		username := users.Normalize(fields[0])
		seen[username] = n
		out.Rows = append(out.Rows, Row{Line: n, Username: username, Email: strings.TrimSpace(fields[1])})
	}
	return out
}

func splitLine(line string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(line))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	return r.Read()
}

func isHeader(fields []string) bool {
	return len(fields) == 2 && strings.EqualFold(strings.TrimSpace(fields[0]), "username") &&
		strings.EqualFold(strings.TrimSpace(fields[1]), "email")
}

// checkFields says what is wrong with a line, in words an admin can act on.
func checkFields(n int, line string, fields []string, seen map[string]int) (Problem, bool) {
	bad := func(reason string) (Problem, bool) {
		return Problem{Line: n, Text: short(line), Reason: reason}, false
	}
	switch {
	case len(fields) < 2 || strings.TrimSpace(fields[1]) == "":
		return bad("no email address: write the line as username,email")
	case len(fields) > 2:
		return bad(fmt.Sprintf("%d values on the line; write only username,email", len(fields)))
	}
	username := users.Normalize(fields[0])
	if err := users.ValidateUsername(username); err != nil {
		return bad("bad username: " + err.Error())
	}
	if err := users.ValidateEmail(strings.TrimSpace(fields[1])); err != nil {
		return bad("bad email address: " + err.Error())
	}
	if prev, dup := seen[username]; dup {
		return bad(fmt.Sprintf("duplicate: %s is already on line %d", username, prev))
	}
	return Problem{}, true
}

func short(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:77]) + "..."
	}
	return s
}

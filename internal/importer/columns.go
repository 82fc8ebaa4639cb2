package importer

import (
	"fmt"
	"strconv"
	"strings"
)

// column is what one CSV column holds.
type column struct {
	field string // username, realname, email, alias, status, notes, phone, platform, type, group, token
	index int    // 1-based for numbered columns, 0 otherwise
}

var singleColumns = map[string]bool{"username": true, "realname": true, "email": true, "status": true, "notes": true}

// numberedColumns are the columns that repeat as name1, name2, ...; the
// value is the highest number accepted (0 for no limit).
var numberedColumns = map[string]int{"alias": 4, "phone": 0, "platform": 0, "type": 0, "group": 0, "token": 0}

// maxNumbered bounds phoneN and friends so a header cannot ask for millions.
const maxNumbered = 50

// layout maps column positions to fields.
type layout struct {
	cols   []column
	phones int // highest phone/platform/type number
}

// parseHeader reads the header row. Names are matched case-insensitively
// and may be written "phone1" or "phone 1".
func parseHeader(header []string) (layout, error) {
	var l layout
	seen := map[column]bool{}
	hasUsername := false
	for i, raw := range header {
		name := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(raw, "\ufeff")), " ", ""))
		if name == "" {
			return l, fmt.Errorf("column %d has no name; name every column or remove it", i+1)
		}
		c, err := columnOf(name)
		if err != nil {
			return l, err
		}
		if seen[c] {
			return l, fmt.Errorf("the column %q appears twice", strings.TrimSpace(raw))
		}
		seen[c] = true
		if c.field == "username" {
			hasUsername = true
		}
		if (c.field == "phone" || c.field == "platform" || c.field == "type") && c.index > l.phones {
			l.phones = c.index
		}
		l.cols = append(l.cols, c)
	}
	if !hasUsername {
		return l, fmt.Errorf("there is no username column; the header row must name one")
	}
	return l, nil
}

func columnOf(name string) (column, error) {
	if singleColumns[name] {
		return column{field: name}, nil
	}
	digits := strings.TrimLeft(name, "abcdefghijklmnopqrstuvwxyz")
	base := strings.TrimSuffix(name, digits)
	limit, numbered := numberedColumns[base]
	if !numbered || digits == "" {
		return column{}, fmt.Errorf("unknown column %q; the columns are username, realname, email, alias1-4, status, notes and the numbered phoneN, platformN, typeN, groupN and tokenN (phone1, phone2 and so on)", name)
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > maxNumbered || (limit > 0 && n > limit) {
		return column{}, fmt.Errorf("column %q is out of range", name)
	}
	return column{field: base, index: n}, nil
}

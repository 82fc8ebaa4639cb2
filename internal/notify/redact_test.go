package notify

import (
	"errors"
	"strings"
	"testing"
)

func TestRedactReasonKeepsTheGistAndDropsSecrets(t *testing.T) {
	cases := []struct {
		in       string
		keep     []string
		mustDrop []string
	}{
		{
			in:       `smtp: 554 5.7.1 message refused: "Open https://mfa.example/enroll/AbC123xyz456DEF789 to start" code 123 456`,
			keep:     []string{"554", "5.7.1", "message refused"},
			mustDrop: []string{"mfa.example", "enroll", "AbC123xyz456DEF789", "123 456"},
		},
		{
			in:       `Post "https://sms.example/send?token=s3cr3tT0kenValue99": dial tcp: i/o timeout`,
			keep:     []string{"Post", "dial tcp"},
			mustDrop: []string{"sms.example", "s3cr3tT0kenValue99"},
		},
		{
			in:       `{"body":"portal.example\/activate\/Zm9vYmFyYmF6cXV4MTIz"}`,
			mustDrop: []string{"portal.example", "activate", "Zm9vYmFyYmF6cXV4MTIz"},
		},
		{
			in:   strings.Repeat("very long reason ", 50),
			keep: []string{"very long reason"},
		},
	}
	for _, c := range cases {
		got := redactReason(errors.New(c.in))
		if len(got) > maxReasonLen {
			t.Errorf("%q: %d bytes, over %d", got, len(got), maxReasonLen)
		}
		for _, k := range c.keep {
			if !strings.Contains(got, k) {
				t.Errorf("redactReason(%q) = %q lost %q", c.in, got, k)
			}
		}
		for _, d := range c.mustDrop {
			if strings.Contains(got, d) {
				t.Errorf("redactReason(%q) = %q kept %q", c.in, got, d)
			}
		}
	}
}

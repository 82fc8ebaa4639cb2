package text

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{"", "Zoë Ångström", "日本語", "line\nbreak"} {
		if err := Check("real name", ok); err != nil {
			t.Errorf("Check(%q) = %v", ok, err)
		}
	}
	for in, want := range map[string]string{
		"Eve\x00admin": "The notes field contains a NUL character",
		"caf\xe9":      "The notes field is not valid UTF-8",
		"\xff\xfe":     "The notes field is not valid UTF-8",
	} {
		err := Check("notes", in)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Check(%q) = %v, want %q", in, err, want)
		}
	}
}

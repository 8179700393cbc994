package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		err     error
		code    int
		printed string
	}{
		{nil, 0, ""},
		{UsageError(errors.New("--timeout: bad")), 2, "tool: --timeout: bad\n"},
		{fmt.Errorf("check: %w", &ExitError{Code: 3}), 3, ""},
		{&ExitError{Code: 1, Err: errors.New("store down")}, 1, "tool: store down\n"},
		{errors.New(`unknown command "x"`), 2, "tool: unknown command \"x\"\n"},
	} {
		var b bytes.Buffer
		if code := ExitCode(tt.err, &b, "tool"); code != tt.code || b.String() != tt.printed {
			t.Errorf("ExitCode(%v) = %d, printed %q; want %d, %q", tt.err, code, b.String(), tt.code, tt.printed)
		}
	}
}

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	log, err := NewLogger(&b, "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden")
	log.Info("shown")
	if s := b.String(); bytes.Contains([]byte(s), []byte("hidden")) || !bytes.Contains([]byte(s), []byte("shown")) {
		t.Errorf("logged %q at level info", s)
	}
	var ee *ExitError
	if _, err := NewLogger(&b, "loud"); !errors.As(err, &ee) || ee.Code != 2 {
		t.Errorf("NewLogger(loud) = %v, want a usage error", err)
	}
}

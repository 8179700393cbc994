// Package cli is what the project's commands (mastership and
// mastership-bench) share about being a command: how an error becomes an
// exit code and a message, and the --log-level logger. Each main keeps its
// own run(ctx, args, stdout, stderr) int, which returns the exit code
// instead of calling os.Exit, so deferred cleanup always runs.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// ExitError carries a process exit code out of a command. Commands return
// it instead of calling os.Exit so deferred cleanup (closing the store,
// stopping the simulator) always runs.
type ExitError struct {
	Code int
	Err  error // nil: the command already said everything it had to
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError is a bad flag, file or argument: exit 2.
func UsageError(err error) error { return &ExitError{Code: 2, Err: err} }

// ExitCode is the exit code for a command's error, after printing it on
// stderr as "name: message". nil is 0; an *ExitError gives its code (and
// prints nothing when it carries no error); any other error, such as
// cobra's own (unknown command, bad arguments), is 2.
func ExitCode(err error, stderr io.Writer, name string) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(stderr, name+":", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(stderr, name+":", err)
	return 2
}

// LogLevelUsage is the help of every command's --log-level.
const LogLevelUsage = "log level: debug, info, warn or error (logs go to stderr)"

// NewLogger is the text logger on w at level (a --log-level value); a bad
// level is a usage error.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, UsageError(fmt.Errorf("--log-level: %w", err))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// Command mastership polls Juniper routers over NETCONF for Routing Engine
// mastership and chassis alarms, stores what it saw, and reports it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code out of a command. Commands return
// it instead of calling os.Exit so deferred cleanup (closing the store,
// stopping the simulator) always runs.
type exitError struct {
	code int
	err  error // nil: the command already said everything it had to
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a bad flag, inventory or argument: exit 2 for audit and
// report (the contract), 3 (UNKNOWN) for check, as Nagios expects.
func usageError(err error) error { return &exitError{code: 2, err: err} }

// app is what every command shares: where output goes and the logger.
type app struct {
	stdout, stderr io.Writer
	logLevel       string
	log            *slog.Logger
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "mastership",
		Short: "Routing Engine mastership and chassis audits for Juniper routers over NETCONF",
		Long: `mastership opens NETCONF-over-SSH sessions to Juniper (Junos) routers, reads
Routing Engine mastership and chassis alarms, stores what it saw, and tells
you which routers have lost a Routing Engine or carry alarms.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
				return usageError(fmt.Errorf("--log-level: %w", err))
			}
			a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
			a.warnDeprecated(cmd.Flags())
			return nil
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn or error (logs go to stderr)")
	root.AddCommand(newAuditCommand(a), newCheckCommand(a), newReportCommand(a), newDemoCommand(a), newRunCommand(a),
		newVersionCommand(a))
	// --version prints what `mastership version` prints.
	// Not cobra's Version field: its template cannot say what is unknown.
	root.Flags().BoolP("version", "", false, "print the version, as the version command does")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if v, _ := cmd.Flags().GetBool("version"); v {
			printVersion(a.stdout, buildInfo())
			return nil
		}
		return cmd.Help()
	}
	// Cobra's own flag errors are usage errors too.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return root
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, nil))}
	root := newRootCommand(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "mastership:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "mastership:", err)
	return 2 // cobra's own errors: unknown command, bad arguments
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Command mastership-bench measures the mastership agent: it starts a
// simulated fleet of Junos routers (devices/junos/junossim) in child
// processes, runs the agent's real code paths against it over SSH on
// loopback — fresh and persistent NETCONF sessions polled, decoded and
// stored as `mastership run` does, correlation over synthetic history,
// the CSV export of `mastership report` — and prints wall time, polls per
// second, CPU and allocations per operation and RSS beside the targets,
// together with a minimal reference client and Python's ncclient polling
// the same fleet for comparison.
//
// It is a development tool, not part of the product: operators install
// cmd/mastership, which contains none of this code. Run it from the
// repository's root (the decode scenario reads ../shared/junos-samples):
//
//	go build -o /tmp/msb ./cmd/mastership-bench && /tmp/msb --quick
//
// The bench re-executes its own binary for its children (the simulator,
// the database filler and the export); those hidden subcommands are not
// meant to be run by hand.
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mastership/mastership/cmd/internal/cli"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code out of a command (cli.ExitError).
type exitError = cli.ExitError

// usageError is a bad flag, file or argument: exit 2 (check turns it into
// 3, UNKNOWN, as Nagios expects).
func usageError(err error) error { return cli.UsageError(err) }

// app is what the bench and its child commands share: where output goes,
// the logger, and the command line as given (for the record).
type app struct {
	stdout, stderr io.Writer
	logLevel       string
	log            *slog.Logger
	args           []string
}

func newRootCommand(a *app) *cobra.Command {
	root := newBenchCommand(a)
	root.SilenceUsage = true
	root.SilenceErrors = true
	root.CompletionOptions.DisableDefaultCmd = true // a development tool
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		log, err := cli.NewLogger(a.stderr, a.logLevel)
		if err != nil {
			return err
		}
		a.log = log
		return nil
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", cli.LogLevelUsage)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return root
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, nil)), args: args}
	root := newRootCommand(a)
	root.SetArgs(args)
	return cli.ExitCode(root.ExecuteContext(ctx), stderr, "mastership-bench")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

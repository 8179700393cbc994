// Command mastership polls Juniper routers over NETCONF for Routing Engine
// mastership and chassis alarms, stores what it saw, and reports it.
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
			log, err := cli.NewLogger(a.stderr, a.logLevel)
			if err != nil {
				return err
			}
			a.log = log
			a.warnDeprecated(cmd.Flags())
			return nil
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", cli.LogLevelUsage)
	root.AddCommand(newAuditCommand(a), newCheckCommand(a), newReportCommand(a), newDemoCommand(a), newRunCommand(a),
		newVersionCommand(a), newSilenceCommand(a),
		newJunosConfigCommand(a)) // issue 17
	// Packaging (issue 18): man pages and completions, hidden from help.
	root.AddCommand(newGenerateDocsCommand())
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
	return cli.ExitCode(root.ExecuteContext(ctx), stderr, "mastership")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

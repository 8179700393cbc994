package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/schedule/metrics"
)

// buildInfo is what the Go toolchain recorded about this binary: the
// module version ("(devel)" for a build from a source tree) and, when it
// was built inside a VCS checkout, the commit, its time and whether the
// tree had uncommitted changes.
func buildInfo() metrics.BuildInfo {
	var b metrics.BuildInfo
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Version = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value
		}
	}
	return b
}

// printVersion writes the build, one fact a line. Facts the build did not
// record are said to be missing rather than printed blank.
func printVersion(w io.Writer, b metrics.BuildInfo) {
	version := b.Version
	if version == "" {
		version = "unknown (no build information in the binary)"
	}
	fmt.Fprintf(w, "mastership %s\n", version)
	if b.Revision == "" {
		fmt.Fprintln(w, "commit:   unknown (built without VCS information, e.g. by go run or with -buildvcs=false)")
	} else {
		modified := "no"
		if b.Modified == "true" {
			modified = "yes: the tree had uncommitted changes"
		}
		fmt.Fprintf(w, "commit:   %s\n", b.Revision)
		fmt.Fprintf(w, "time:     %s\n", orUnknown(b.Time))
		fmt.Fprintf(w, "modified: %s\n", modified)
	}
	fmt.Fprintf(w, "go:       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func newVersionCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the module version, commit, commit time and whether the tree was modified",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			printVersion(a.stdout, buildInfo())
			return nil
		},
	}
}

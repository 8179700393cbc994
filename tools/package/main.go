// Command package builds mastership's Debian package with nfpm's library.
//
// It lives in its own module (tools/package) so that nfpm and its large
// dependency graph never join the product's go.mod: the agent's binary and
// its go.sum stay what they are, and the packaging tool can be upgraded on
// its own. .ci/package/build.sh runs it; see docs/install.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the "deb" packager
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("package", flag.ContinueOnError)
	config := fs.String("config", "", "nfpm configuration file (${VAR} is expanded from the environment)")
	target := fs.String("target", "", "the .deb file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *config == "" || *target == "" {
		return errors.New("both -config and -target are required")
	}
	cfg, err := nfpm.ParseFileWithEnvMapping(*config, os.Getenv)
	if err != nil {
		return fmt.Errorf("reading nfpm configuration %s: %w", *config, err)
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return fmt.Errorf("taking the deb settings from %s: %w", *config, err)
	}
	info = nfpm.WithDefaults(info)
	pkgr, err := nfpm.Get("deb")
	if err != nil {
		return fmt.Errorf("finding nfpm's deb packager: %w", err)
	}
	info.Target = *target
	f, err := os.Create(*target)
	if err != nil {
		return fmt.Errorf("creating %s: %w", *target, err)
	}
	if err := pkgr.Package(info, f); err != nil {
		_ = f.Close()
		_ = os.Remove(*target)
		return fmt.Errorf("building %s: %w", *target, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", *target, err)
	}
	return nil
}

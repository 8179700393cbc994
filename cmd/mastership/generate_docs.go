package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newGenerateDocsCommand is the hidden command the package build runs to
// write man pages and shell completions from this very command tree, so
// they can never drift from the flags the binary really has. It lives here
// rather than in tools/package because the tools module cannot import
// package main; cobra/doc is small (it adds only go-md2man).
func newGenerateDocsCommand() *cobra.Command {
	var manDir, completionsDir string
	cmd := &cobra.Command{
		Use:    "generate-docs",
		Short:  "Write man pages and shell completions (for packaging)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if manDir == "" && completionsDir == "" {
				return usageError(fmt.Errorf("generate-docs: give --man DIR, --completions DIR or both"))
			}
			root := cmd.Root()
			if manDir != "" {
				if err := writeManPages(root, manDir); err != nil {
					return err
				}
			}
			if completionsDir != "" {
				if err := writeCompletions(root, completionsDir); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&manDir, "man", "", "directory for the section 1 man pages")
	cmd.Flags().StringVar(&completionsDir, "completions", "", "directory for mastership.bash, _mastership (zsh) and mastership.fish")
	return cmd
}

func writeManPages(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the man page directory %s: %w", dir, err)
	}
	// The date comes from SOURCE_DATE_EPOCH when set (cobra/doc reads it),
	// and no "Auto generated" footer with a timestamp: reproducible pages.
	root.DisableAutoGenTag = true
	header := &doc.GenManHeader{Title: "MASTERSHIP", Section: "1", Source: "mastership", Manual: "mastership manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return fmt.Errorf("writing man pages into %s: %w", dir, err)
	}
	return nil
}

func writeCompletions(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the completions directory %s: %w", dir, err)
	}
	for _, c := range []struct {
		file string
		gen  func(string) error
	}{
		{"mastership.bash", func(p string) error { return root.GenBashCompletionFileV2(p, true) }},
		{"_mastership", root.GenZshCompletionFile},
		{"mastership.fish", func(p string) error { return root.GenFishCompletionFile(p, true) }},
	} {
		p := filepath.Join(dir, c.file)
		if err := c.gen(p); err != nil {
			return fmt.Errorf("writing the completion script %s: %w", p, err)
		}
	}
	return nil
}

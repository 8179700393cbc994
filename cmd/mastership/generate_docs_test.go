package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateDocs: the hidden packaging command writes a man page per
// command, carrying that command's real flags, and the three completion
// scripts; it stays out of the help the operator reads.
func TestGenerateDocs(t *testing.T) {
	man, comp := filepath.Join(t.TempDir(), "man"), filepath.Join(t.TempDir(), "completions")
	if r := runCLI(t, "generate-docs", "--man", man, "--completions", comp); r.code != 0 {
		t.Fatalf("generate-docs: exit %d, stderr %q", r.code, r.stderr)
	}
	for file, want := range map[string]string{
		filepath.Join(man, "mastership.1"):       ".TH \"MASTERSHIP\" \"1\"",
		filepath.Join(man, "mastership-check.1"): "timeout",
		filepath.Join(man, "mastership-run.1"):   "inventory",
		filepath.Join(comp, "mastership.bash"):   "__start_mastership",
		filepath.Join(comp, "_mastership"):       "#compdef mastership",
		filepath.Join(comp, "mastership.fish"):   "complete -c mastership",
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("reading %s: %v", file, err)
			continue
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not contain %q", file, want)
		}
	}
	if _, err := os.Stat(filepath.Join(man, "mastership-generate-docs.1")); err == nil {
		t.Error("the hidden generate-docs command got a man page")
	}
	if r := runCLI(t, "--help"); strings.Contains(r.stdout, "generate-docs") {
		t.Errorf("--help lists the hidden generate-docs command:\n%s", r.stdout)
	}
	if r := runCLI(t, "generate-docs"); r.code != 2 {
		t.Errorf("generate-docs without a directory: exit %d, want 2 (usage)", r.code)
	}
}

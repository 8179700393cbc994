package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mastership/mastership/schedule/metrics"
)

// TestVersionCommand: `mastership --version` and `mastership version`
// print the same thing.
func TestVersionCommand(t *testing.T) {
	a, b := runCLI(t, "--version"), runCLI(t, "version")
	if a.code != 0 || b.code != 0 || a.stdout != b.stdout || !strings.HasPrefix(a.stdout, "mastership ") {
		t.Errorf("--version: %d %q; version: %d %q", a.code, a.stdout, b.code, b.stdout)
	}
}

// TestPrintVersion: what the build recorded is printed; what it did not
// is said to be unknown, never left blank.
func TestPrintVersion(t *testing.T) {
	for _, tt := range []struct {
		b    metrics.BuildInfo
		want []string
	}{
		{metrics.BuildInfo{Version: "v1.4.0", Revision: "0123abcd", Time: "2026-12-01T10:00:00Z", Modified: "false"},
			[]string{"mastership v1.4.0\n", "commit:   0123abcd\n", "time:     2026-12-01T10:00:00Z\n", "modified: no\n"}},
		{metrics.BuildInfo{Version: "(devel)", Revision: "0123abcd", Modified: "true"},
			[]string{"mastership (devel)\n", "time:     unknown\n", "modified: yes: the tree had uncommitted changes\n"}},
		{metrics.BuildInfo{Version: "(devel)"},
			[]string{"mastership (devel)\n", "commit:   unknown (built without VCS information"}},
		{metrics.BuildInfo{}, []string{"mastership unknown (no build information in the binary)\n"}},
	} {
		var b bytes.Buffer
		printVersion(&b, tt.b)
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("printVersion(%+v) =\n%s\nwant it to contain %q", tt.b, b.String(), w)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if strings.HasSuffix(line, ":") || strings.HasSuffix(line, " ") {
				t.Errorf("printVersion(%+v): blank value in %q", tt.b, line)
			}
		}
	}
}

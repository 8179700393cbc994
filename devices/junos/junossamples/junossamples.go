// Package junossamples finds the real Junos replies and log lines the
// tests read.
//
// The samples were collected into junos-samples, a directory kept beside
// the repository (../shared/junos-samples) whose MANIFEST.md names each
// file's source. The ones from a named public repository are copied,
// verbatim, into the repository's testdata directories (each with a
// SOURCES.md), so the tests over them always run. The unattributed ones
// (MANIFEST.md: "public code search, repository not named") may not be
// copied: they are read from ../shared when it is there, and a test of one
// skips, saying so, when it is not.
package junossamples

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"
)

// SkipUnattributed is the reason a test of an unattributed sample skips
// when ../shared/junos-samples is absent.
const SkipUnattributed = "unattributed sample (repository not named in MANIFEST.md) is kept only in ../shared/junos-samples, which is absent"

// testdata is, by directory of junos-samples, where the attributed copies
// are, relative to the module root.
func testdataDirs() map[string]string {
	return map[string]string{
		"rpc":  filepath.Join("devices", "junos", "testdata", "rpc"),
		"logs": filepath.Join("devices", "junos", "syslog", "testdata", "logs"),
	}
}

// unattributed lists, by directory of junos-samples, the samples whose
// source MANIFEST.md names no repository for: they must not be copied
// into the repository.
func unattributedNames() map[string][]string {
	return map[string][]string{
		"rpc": {
			// JSAS lightweight-collector payload fragments.
			"get-alarm-information.mx10003-3-major-pem.jsas-lwc.fragment.xml",
			"get-route-engine-information.dual-re-mx10003-panic.jsas-lwc.fragment.xml",
			// Wire-format replies from a Python test module whose
			// repository could not be resolved.
			"get-chassis-inventory.mx960-dual-re.nc-wire.xml",
			"get-environment-information.mx-pem-check.nc-wire.xml",
			"get-environment-information.qfx-psu-present.nc-wire.xml",
			"get-route-engine-information.single-re-mx-vmhost.nc-wire.xml",
		},
		"logs": {
			"alarms.log",           // lines 1-14: JTAC case notes and a lab note
			"fpc-fru.log",          // JTAC case notes
			"internal-link.log",    // a Juniper KB article and a page republishing one
			"mastership-file.log",  // the Junos 9.3 documentation DVD
			"pfe-fabric.log",       // lines 1-4: JTAC case notes
			"re-crash-context.log", // an ops note
		},
		"cli-text": {
			"gres-nsr-readiness-and-planned-switchover.mx-17.3R3-S8.1.txt",
			"show-chassis-alarms.mx480-jtac-lab.txt",
			"show-chassis-re-and-alarms.mx480-re0-powered-off.txt",
			"show-chassis-re-and-alarms.mx960-after-re0-crash.txt",
			"show-system-core-dumps.mx960-re-vmcore.txt",
		},
		"netconf": {
			"command-format-text.reply.rendoaw-gist.txt",
			"command-pipe-last.request.junos-mcp-server-issue-12.txt",
			"command-pipe-match.device-trace.pyez-issue-616.txt",
			"get-log-returns-file-content.api-mapping-excerpt.txt",
			"hello.junos-17.3R3.wire.xml",
		},
	}
}

// Unattributed reports whether junos-samples/sub/name is a sample that
// is kept only in ../shared.
func Unattributed(sub, name string) bool {
	return slices.Contains(unattributedNames()[sub], name)
}

// root finds the module root. It is looked up at each call, not kept:
// the package keeps no state.
func root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Root returns the module root, the nearest directory with a go.mod at
// or above the working directory (a test's is its package's).
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := root()
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// SharedDir returns junos-samples/sub in ../shared beside the module
// root, and whether it is there.
func SharedDir(tb testing.TB, sub string) (string, bool) {
	tb.Helper()
	dir := filepath.Join(filepath.Dir(Root(tb)), "shared", "junos-samples", sub)
	fi, err := os.Stat(dir)
	return dir, err == nil && fi.IsDir()
}

// TestdataDir returns the directory holding the attributed copies of
// junos-samples/sub, or "" when none of that directory is copied.
func TestdataDir(tb testing.TB, sub string) string {
	tb.Helper()
	rel, ok := testdataDirs()[sub]
	if !ok {
		return ""
	}
	return filepath.Join(Root(tb), rel)
}

// Absent reports whether junos-samples/sub/name is an unattributed
// sample that cannot be read because ../shared is absent.
func Absent(tb testing.TB, sub, name string) bool {
	tb.Helper()
	_, shared := SharedDir(tb, sub)
	return !shared && Unattributed(sub, name)
}

// Path returns the file of junos-samples/sub/name: the copy in testdata
// when there is one, else the file in ../shared. It skips the test when
// the sample is unattributed and ../shared is absent, and fails it when
// the sample is attributed but not in testdata.
func Path(tb testing.TB, sub, name string) string {
	tb.Helper()
	if dir := TestdataDir(tb, sub); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	dir, shared := SharedDir(tb, sub)
	switch {
	case shared:
		return filepath.Join(dir, name)
	case Unattributed(sub, name):
		tb.Skipf("%s: %s", SkipUnattributed, path.Join(sub, name))
	default:
		tb.Fatalf("sample %s is not in %s and not a known unattributed sample: copy it there from ../shared/junos-samples (with its source in SOURCES.md)",
			path.Join(sub, name), TestdataDir(tb, sub))
	}
	return ""
}

// Read returns the content of junos-samples/sub/name, as Path finds it.
func Read(tb testing.TB, sub, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Path(tb, sub, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Names returns, sorted, the names of the samples of junos-samples/sub
// matching the glob pattern that can be read: the copies in testdata and,
// when ../shared is there, every file in it. Without ../shared it logs
// how many unattributed samples are left out.
func Names(tb testing.TB, sub, pattern string) []string {
	tb.Helper()
	set := map[string]bool{}
	add := func(dir string) {
		files, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
				set[filepath.Base(f)] = true
			}
		}
	}
	if dir := TestdataDir(tb, sub); dir != "" {
		add(dir)
	}
	if dir, shared := SharedDir(tb, sub); shared {
		add(dir)
	} else {
		left := 0
		for _, name := range unattributedNames()[sub] {
			if ok, _ := path.Match(pattern, name); ok {
				left++
			}
		}
		if left > 0 {
			tb.Logf("%d unattributed samples of %s/%s not read: ../shared/junos-samples is absent", left, sub, pattern)
		}
	}
	names := make([]string, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// CheckCopies checks the testdata copies of junos-samples/sub against
// the rules they are kept by: none is an unattributed sample, each is
// named in the SOURCES.md beside its directory and, when ../shared is
// there, each is byte for byte the sample it copies, and every attributed
// sample matching pattern (the ones the tests read) has its copy.
func CheckCopies(tb testing.TB, sub, pattern string) {
	tb.Helper()
	dir := TestdataDir(tb, sub)
	if dir == "" {
		tb.Fatalf("no testdata directory for junos-samples/%s", sub)
	}
	sources, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "SOURCES.md"))
	if err != nil {
		tb.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	copied := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		copied[name] = true
		if Unattributed(sub, name) {
			tb.Errorf("%s is an unattributed sample: it must not be in %s", name, dir)
		}
		if !bytes.Contains(sources, []byte("`"+path.Join(sub, name)+"`")) {
			tb.Errorf("%s is not named in %s", path.Join(sub, name), filepath.Join(filepath.Dir(dir), "SOURCES.md"))
		}
	}
	shared, ok := SharedDir(tb, sub)
	if !ok {
		tb.Logf("../shared/junos-samples is absent: copies of %s not compared with the samples", sub)
		return
	}
	for name := range copied {
		want, err := os.ReadFile(filepath.Join(shared, name))
		if errors.Is(err, fs.ErrNotExist) {
			tb.Errorf("%s is in %s but not in %s", name, dir, shared)
			continue
		} else if err != nil {
			tb.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			tb.Errorf("%s differs from %s: the copies are verbatim", filepath.Join(dir, name), filepath.Join(shared, name))
		}
	}
	files, err := filepath.Glob(filepath.Join(shared, pattern))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if !copied[name] && !Unattributed(sub, name) {
			tb.Errorf("sample %s is attributed but not copied into %s: copy it and name its source in SOURCES.md, or list it as unattributed in devices/junos/junossamples",
				path.Join(sub, name), dir)
		}
	}
	for _, name := range unattributedNames()[sub] {
		if ok, _ := path.Match(pattern, name); !ok {
			continue
		}
		if _, err := os.Stat(filepath.Join(shared, name)); err != nil {
			tb.Errorf("unattributed sample %s is listed but not in %s", path.Join(sub, name), shared)
		}
	}
}

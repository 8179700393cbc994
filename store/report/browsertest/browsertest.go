// Package browsertest gives tests a headless Chromium, driven through
// chromedp, to look at the HTML report as an operator's browser renders
// it: the report file's own test and the daemon's live page.
//
// The browser is Debian's (apt-get install chromium fonts-dejavu-core).
// Without it the tests that need it skip, saying so — unless
// MASTERSHIP_REQUIRE_BROWSER=1, as CI sets, which makes them fail
// instead, so a missing browser cannot pass as a green run. Screenshots go
// to $MASTERSHIP_ARTIFACTS for a person to look at (CI keeps them).
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	// ChromiumPath is where Debian's chromium package puts the browser.
	ChromiumPath = "/usr/bin/chromium"
	// EnvRequire set to 1 turns "no browser" from a skip into a failure.
	EnvRequire = "MASTERSHIP_REQUIRE_BROWSER"
	// EnvArtifacts names the directory screenshots are written to.
	EnvArtifacts = "MASTERSHIP_ARTIFACTS"
)

// Start returns a chromedp context of a headless Chromium with a
// 1200×900 window, a profile of its own, no proxy (the pages under test
// are on loopback) and nothing that calls home. The browser is started
// at the context's first Run and stops when the test ends or timeout
// passes. Without Chromium the test is skipped or, with
// MASTERSHIP_REQUIRE_BROWSER=1, failed.
func Start(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1 but %s is missing: %v (apt-get install chromium)", EnvRequire, ChromiumPath, err)
		}
		t.Skipf("skipping the headless browser test: %s is not installed (apt-get install chromium; %s=1 makes this a failure)", ChromiumPath, EnvRequire)
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancel()
	})
	return bctx
}

// SaveArtifact writes data to name in $MASTERSHIP_ARTIFACTS (else a
// temporary directory of the test) and returns the path.
func SaveArtifact(t testing.TB, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

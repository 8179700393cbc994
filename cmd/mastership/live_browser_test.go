package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store/report/browsertest"
)

// livePageFacts is what the browser test reads from the live page.
type livePageFacts struct {
	Devices  string `json:"devices"`  // the "devices" figure at the top
	Findings string `json:"findings"` // the "findings" figure
	// The flapping router's first finding: its cause and severity badges.
	Cause    string `json:"cause"`
	Severity string `json:"severity"`
	Remedy   string `json:"remedy"`
}

const livePageJS = `(() => {
  const kpi = name => {
    const k = [...document.querySelectorAll('.kpi')].find(k => k.querySelector('span')?.textContent === name);
    return k ? k.querySelector('b').textContent : '';
  };
  const f = document.querySelector('section.device[data-device="lon1-mx960-3"] article.finding');
  return {
    devices: kpi('devices'), findings: kpi('findings'),
    cause: f?.querySelector('.badge[class*="cause-"]')?.textContent ?? '',
    severity: f?.querySelector('.badge[class*="sev-"]')?.textContent ?? '',
    remedy: f?.querySelector('.remedy')?.textContent ?? '',
  };
})()`

// TestLivePageInBrowser loads the daemon's live fleet page in headless
// Chromium, with the bearer token the daemon requires, and checks what a
// wall screen shows: three devices, and the hardware finding of the
// router whose backup RE flapped after a PEM alarm. It leaves a
// screenshot, live-page.png, in $MASTERSHIP_ARTIFACTS (else a temporary
// directory).
func TestLivePageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a daemon audit")
	}
	// Up to 30 s of it for the daemon's first audit.
	bctx := browsertest.Start(t, 2*time.Minute)
	var sc junossim.Scenario
	for _, d := range junossim.DemoScenario().Devices {
		if d.Name == "lon1-mx960-3" { // re1 flapped after PEM 2 lost power
			sc.Devices = append(sc.Devices, d)
		}
	}
	if len(sc.Devices) != 1 {
		t.Fatal("the demo has no lon1-mx960-3")
	}
	gone := junossim.Device{Name: "backup-gone", Model: "mx960", Topology: junossim.TopologyDual, Site: "lab",
		REStates: map[string]junossim.RESpec{"re1": {Status: junossim.StatusAbsent}}}
	sc.Devices = append(sc.Devices, gone, junossim.Device{Name: "healthy", Model: "mx960", Topology: junossim.TopologyDual, Site: "lab"})
	_, inv := startFleet(t, sc)
	const token = "wall-screen-6b8e21f4"
	tokenFile := writeFile(t, t.TempDir(), "token", token+"\n", 0o600)
	d := startDaemon(t, "--inventory", inv, "--db", filepath.Join(t.TempDir(), "m.db"), "--schedule", "@every 10s",
		"--listen", "127.0.0.1:0", "--spread", "0", "--http-token-file", tokenFile)
	if !within(30*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 }) {
		t.Fatalf("no audit in 30 s; stderr:\n%s", lastLines(d.stderr.String(), 20))
	}
	pageURL := "http://" + d.addr + "/"

	// Without the token the browser gets the 401, not the fleet.
	resp, err := chromedp.Run(bctx, chromedp.NavigateResponse(pageURL))
	if err != nil {
		t.Fatalf("load %s: %v", pageURL, err)
	}
	if resp.Status != 401 {
		t.Errorf("the page without a token: HTTP %d, want 401", resp.Status)
	}
	// With it, as a reverse proxy or a kiosk browser would send it.
	withToken := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + token}})
		return err
	})
	if err := chromedp.Do(bctx, withToken); err != nil {
		t.Fatalf("set the Authorization header: %v", err)
	}
	if resp, err = chromedp.Run(bctx, chromedp.NavigateResponse(pageURL)); err != nil {
		t.Fatalf("load %s with the token: %v", pageURL, err)
	}
	if resp.Status != 200 {
		t.Fatalf("the page with the token: HTTP %d, want 200", resp.Status)
	}
	facts, err := chromedp.Run(bctx, chromedp.Evaluate[livePageFacts](livePageJS))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shotPath := browsertest.SaveArtifact(t, "live-page.png", shot)
	t.Logf("screenshot: %s (%d bytes); page facts: %+v", shotPath, len(shot), facts)

	if facts.Devices != "3" {
		t.Errorf("the page shows %q devices, want 3", facts.Devices)
	}
	if facts.Findings != "1" || facts.Cause != "hardware" || facts.Severity != "critical" || !strings.Contains(facts.Remedy, "replace the FRU") {
		t.Errorf("the page shows %q findings, lon1-mx960-3's first %q/%q (remedy %q); want 1, hardware/critical with the FRU remedy",
			facts.Findings, facts.Cause, facts.Severity, facts.Remedy)
	}
}

package report

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mastership/mastership/store/report/browsertest"
)

// pageFacts is what the browser test reads from the rendered page, in one
// evaluation. The JSON names are explicit: the decoder matches them
// case-sensitively.
type pageFacts struct {
	Found         bool    `json:"found"`
	Width         float64 `json:"width"`
	Height        float64 `json:"height"`
	AliveRE0      int     `json:"aliveRE0"`
	AliveRE1      int     `json:"aliveRE1"`
	GoneRE1       int     `json:"goneRE1"`
	GoneLeft      float64 `json:"goneLeft"`
	AlarmLeft     float64 `json:"alarmLeft"`
	AlarmFound    bool    `json:"alarmFound"`
	MasterChanges int     `json:"masterChanges"`
	Evidence      int     `json:"evidence"`
	EvidenceTitle string  `json:"evidenceTitle"`
	CloseGoneLeft float64 `json:"closeGoneLeft"`
	CloseAlarmX   float64 `json:"closeAlarmLeft"`
	Scripts       int     `json:"scripts"`
	External      int     `json:"external"`
	InjectedNodes int     `json:"injected"`
	Timelines     int     `json:"timelines"`
}

// factsJS gathers pageFacts for the flapping device of htmlFixture. The
// selectors are the SVG contract documented in html.go.
const factsJS = `(() => {
  const dev = 'ams1-mx960-1', drop = '2026-03-14T09:10:40Z', pem = '2026-03-14T09:10:00Z';
  const svg = document.querySelector('svg.timeline[data-device="' + dev + '"]');
  const out = {
    found: !!svg,
    scripts: document.scripts.length,
    // Anything that could fetch: URL attributes other than data: or #.
    external: [...document.querySelectorAll('[src],[href],[srcset],[poster],[action]')].filter(e =>
      ['src', 'href', 'srcset', 'poster', 'action'].some(a => {
        const v = e.getAttribute(a);
        return v !== null && !v.startsWith('data:') && !v.startsWith('#');
      })).length,
    // Elements the hostile device strings would create if they were not escaped.
    injected: document.querySelectorAll('script, img, [onerror]').length,
    timelines: document.querySelectorAll('svg.timeline').length,
  };
  if (!svg) return out;
  const r = svg.getBoundingClientRect();
  out.width = r.width; out.height = r.height;
  out.aliveRE0 = svg.querySelectorAll('rect.alive[data-re="re0"]').length;
  out.aliveRE1 = svg.querySelectorAll('rect.alive[data-re="re1"]').length;
  out.goneRE1 = svg.querySelectorAll('rect.gone[data-re="re1"]').length;
  const gone = svg.querySelector('rect.gone[data-re="re1"][data-from="' + drop + '"]');
  if (gone) out.goneLeft = gone.getBoundingClientRect().left;
  const alarm = svg.querySelector('rect.alarm.major[data-time="' + pem + '"]');
  out.alarmFound = !!alarm;
  if (alarm) out.alarmLeft = alarm.getBoundingClientRect().left;
  out.masterChanges = svg.querySelectorAll('.master-change').length;
  const ev = svg.querySelectorAll('circle.evidence');
  out.evidence = ev.length;
  const t = svg.querySelector('circle.evidence[data-time="' + pem + '"] title');
  out.evidenceTitle = t ? t.textContent : '';
  const close = document.querySelector('svg.closeup[data-device="' + dev + '"][data-finding="0"]');
  if (close) {
    const g = close.querySelector('rect.gone[data-re="re1"][data-from="' + drop + '"]');
    const a = close.querySelector('rect.alarm.major[data-time="' + pem + '"]');
    if (g) out.closeGoneLeft = g.getBoundingClientRect().left;
    if (a) out.closeAlarmLeft = a.getBoundingClientRect().left;
  }
  return out;
})()`

// TestRenderHTMLInBrowser opens the golden scenario's report in headless
// Chromium and checks what an operator would see: the page asks for
// nothing but itself, and the flapping device's timeline draws the PEM
// alarm left of re1's drop. It leaves a full-page screenshot in
// $MASTERSHIP_ARTIFACTS (else a temporary directory).
func TestRenderHTMLInBrowser(t *testing.T) {
	bctx := browsertest.Start(t, 60*time.Second)
	page := renderString(t, htmlFixture())

	// The server records every request it gets: a browser fetch that
	// bypassed the page's network events (the favicon) still shows here.
	var mu sync.Mutex
	var served, requested []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served = append(served, r.URL.Path)
		mu.Unlock()
		if r.URL.Path != "/report.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	defer srv.Close()
	reportURL := srv.URL + "/report.html"

	// Listen before navigating, so the report's own request is seen too.
	err := chromedp.Listen(bctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(reportURL)); err != nil {
		t.Fatalf("load %s: %v", reportURL, err)
	}
	facts, err := chromedp.Run(bctx, chromedp.Evaluate[pageFacts](factsJS))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	// Open the collapsed table so the screenshot shows every part of the
	// page to whoever reviews it.
	if err := chromedp.Do(bctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('details').forEach(d => d.open = true)`)); err != nil {
		t.Fatalf("open details: %v", err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shotPath := browsertest.SaveArtifact(t, "report-golden.png", shot)
	t.Logf("screenshot: %s (%d bytes)", shotPath, len(shot))

	// Every check above ran after the load, the screenshot forced a full
	// layout and paint: a late request (a favicon, a font) has been made
	// by now, no sleep needed.
	mu.Lock()
	gotRequested, gotServed := slices.Clone(requested), slices.Clone(served)
	mu.Unlock()
	if len(gotRequested) != 1 || gotRequested[0] != reportURL {
		t.Errorf("the page made requests %q, want only %q", gotRequested, reportURL)
	}
	if len(gotServed) != 1 || gotServed[0] != "/report.html" {
		t.Errorf("the server was asked for %q, want only /report.html", gotServed)
	}

	f := facts
	t.Logf("page facts: %+v", f)
	if !f.Found {
		t.Fatalf("no svg.timeline for %s", flapDevice)
	}
	if f.Scripts != 0 || f.External != 0 || f.InjectedNodes != 0 {
		t.Errorf("scripts %d, external references %d, injected elements %d; want none", f.Scripts, f.External, f.InjectedNodes)
	}
	if f.Timelines != 2 {
		t.Errorf("%d timelines, want 2", f.Timelines)
	}
	if f.Width <= 0 || f.Height <= 0 {
		t.Errorf("timeline renders %gx%g px, want a visible size", f.Width, f.Height)
	}
	if f.AliveRE0 == 0 || f.AliveRE1 == 0 {
		t.Errorf("alive spans: re0 %d, re1 %d; want both", f.AliveRE0, f.AliveRE1)
	}
	if f.GoneRE1 != 2 {
		t.Errorf("%d gone spans for re1, want 2", f.GoneRE1)
	}
	if !f.AlarmFound || f.GoneLeft == 0 {
		t.Fatalf("alarm found %v, gone span at %g: cannot compare", f.AlarmFound, f.GoneLeft)
	}
	if !(f.AlarmLeft < f.GoneLeft) {
		t.Errorf("PEM alarm at x=%g is not left of re1's drop at x=%g", f.AlarmLeft, f.GoneLeft)
	}
	// On the close-up the 40 s are plain to see, not a pixel or two.
	if d := f.CloseGoneLeft - f.CloseAlarmX; d < 100 {
		t.Errorf("close-up: PEM alarm only %g px left of re1's drop, want at least 100", d)
	}
	if f.MasterChanges == 0 {
		t.Error("no master-change marks")
	}
	if f.Evidence == 0 {
		t.Error("no evidence marks")
	}
	if want := "reason=PEM 0 Not Powered"; !strings.Contains(f.EvidenceTitle, want) {
		t.Errorf("the PEM event's tooltip is %q, want the raw log line (%q)", f.EvidenceTitle, want)
	}
}

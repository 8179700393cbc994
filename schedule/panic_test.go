package schedule

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
)

// panickyCursors injects a panic into one device's poll, in the middle of
// reading its logs (after the RPC replies were decoded).
type panickyCursors struct {
	CursorSource
	device string
}

func (p panickyCursors) LogCursor(ctx context.Context, device, file string) (devices.LogCursor, bool, error) {
	if device == p.device {
		panic("injected fault in " + device)
	}
	return p.CursorSource.LogCursor(ctx, device, file)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAuditRecoversPanicInOneDevice(t *testing.T) {
	devs := fleetDevices(t, junossim.Generate(5, 1))
	victim := devs[2].Name
	st := openStore(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	a := &Auditor{
		Poller: &Poller{Now: time.Now, Timeout: 5 * time.Second, Cursors: panickyCursors{st, victim}},
		Store:  st, Logger: log, Concurrency: 2,
	}
	res, err := a.Audit(t.Context(), devs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.OK != 4 || res.Run.Failed != 1 || res.Run.Interrupted {
		t.Errorf("run %+v, want 4 ok and 1 failed", res.Run)
	}
	for _, p := range res.Polls {
		if p.Device == victim {
			if p.Outcome != devices.OutcomeProtocol || p.Error != "internal error: panic: injected fault in "+victim || p.ID == 0 {
				t.Errorf("victim poll: %s %q id %d", p.Outcome, p.Error, p.ID)
			}
			continue
		}
		if p.Outcome != devices.OutcomeOK {
			t.Errorf("%s: %s %q", p.Device, p.Outcome, p.Error)
		}
	}
	stored, err := st.LatestPolls(t.Context())
	if err != nil || len(stored) != 5 {
		t.Fatalf("%d polls stored, %v", len(stored), err)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "panic in device poll") || !strings.Contains(out, "goroutine") {
		t.Errorf("the panic and its stack were not logged at error level:\n%s", out)
	}
	// The auditor is still usable: the next audit runs normally.
	a.Poller.Cursors = st
	res, err = a.Audit(t.Context(), devs)
	if err != nil || res.Run.OK != 5 {
		t.Errorf("next audit: %+v %v", res.Run, err)
	}
}

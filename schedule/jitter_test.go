package schedule

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store"
)

func TestSpreadOffset(t *testing.T) {
	const spread = 10 * time.Second
	if SpreadOffset("r1", 0) != 0 || SpreadOffset("r1", -time.Second) != 0 {
		t.Error("no spread must mean no offset")
	}
	buckets := make([]int, 10)
	for i := range 2000 {
		name := fmt.Sprintf("site%d-mx960-%d", i%37, i)
		off := SpreadOffset(name, spread)
		if off < 0 || off >= spread {
			t.Fatalf("%s: offset %v outside [0, %v)", name, off, spread)
		}
		if again := SpreadOffset(name, spread); again != off {
			t.Fatalf("%s: offset %v then %v", name, off, again)
		}
		buckets[off*10/spread]++
	}
	for i, n := range buckets {
		if n < 140 || n > 260 { // 200 expected per bucket
			t.Errorf("bucket %d of the spread has %d of 2000 devices: %v", i, n, buckets)
		}
	}
	// Pinned (computed independently): the offset is FNV-64a of the name, the same across builds
	// and restarts, so dashboards can show each device's slot.
	if got := SpreadOffset("ams1-mx480-1", time.Hour); got != 3316285086439*time.Nanosecond {
		t.Errorf("SpreadOffset(ams1-mx480-1, 1h) = %d", got)
	}
}

// TestAuditSpreadStartsEachDeviceAtItsOffset: each poll starts no sooner
// than the device's offset, and all of them within the spread.
func TestAuditSpreadStartsEachDeviceAtItsOffset(t *testing.T) {
	devs := fleetDevices(t, junossim.Generate(6, 1))
	const spread = 400 * time.Millisecond
	var (
		mu    sync.Mutex
		began = map[string]time.Duration{}
	)
	start := time.Now()
	a := &Auditor{
		Poller: &Poller{Now: time.Now, Timeout: 5 * time.Second},
		Store:  openStore(t), Spread: spread,
		OnAttempt: func(d string, _ int) {
			mu.Lock()
			defer mu.Unlock()
			began[d] = time.Since(start)
		},
	}
	res, err := a.Audit(t.Context(), devs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.OK != len(devs) {
		t.Fatalf("run %+v", res.Run)
	}
	distinct := map[time.Duration]bool{}
	for _, d := range devs {
		off := SpreadOffset(d.Name, spread)
		distinct[off/(10*time.Millisecond)] = true
		if b := began[d.Name]; b < off || b > spread+time.Second {
			t.Errorf("%s began at %v, offset %v", d.Name, b, off)
		}
	}
	if len(distinct) < 3 {
		t.Errorf("offsets barely spread: %v", distinct)
	}
}

// TestAuditSpreadHonoursCancel: an audit waiting for its devices' slots
// ends promptly when cancelled, as an interrupted run.
func TestAuditSpreadHonoursCancel(t *testing.T) {
	devs := fleetDevices(t, junossim.Generate(4, 1))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Cancelled once the run has begun, when the audit is waiting for
	// the spread's slots; a fixed deadline could end BeginRun itself on
	// a loaded machine.
	st := &beginSignal{Store: openStore(t), begun: make(chan struct{})}
	go func() {
		<-st.begun
		cancel()
	}()
	a := &Auditor{Poller: &Poller{Now: time.Now, Timeout: 5 * time.Second}, Store: st, Spread: time.Hour}
	start := time.Now()
	res, err := a.Audit(ctx, devs)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancelled audit took %v", el)
	}
	if !res.Run.Interrupted {
		t.Errorf("run %+v, want interrupted", res.Run)
	}
	for i, p := range res.Polls {
		if off := SpreadOffset(devs[i].Name, time.Hour); off > time.Second && p.Device != "" {
			t.Errorf("%s polled before its offset %v", devs[i].Name, off)
		}
	}
	var stored []devices.Run
	if stored, err = a.Store.Runs(t.Context(), 1); err != nil || len(stored) != 1 || !stored[0].Interrupted {
		t.Errorf("stored %+v %v", stored, err)
	}
}

// beginSignal is the real store, closing begun once a run has begun.
type beginSignal struct {
	store.Store
	begun chan struct{}
}

func (b *beginSignal) BeginRun(ctx context.Context, started time.Time) (int64, error) {
	id, err := b.Store.BeginRun(ctx, started)
	close(b.begun)
	return id, err
}

package schedule

import (
	"context"
	"fmt"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
)

// ExpectedREs is how many REs device d should have alive: the inventory's
// expected_res when set, else the most REs ever seen on it in stored
// history or in poll p. A router that has lost its backup RE before its
// first audit can only be caught with expected_res; the inventory docs say
// so.
func ExpectedREs(ctx context.Context, st store.Store, d inventory.Device, p devices.Poll) (int, error) {
	if d.ExpectedREs > 0 {
		return d.ExpectedREs, nil
	}
	seen := 0
	if p.Snapshot != nil {
		seen = len(p.Snapshot.RouteEngines)
	}
	if st != nil {
		most, err := st.MaxREsSeen(ctx, d.Name)
		if err != nil {
			return 0, fmt.Errorf("history of %s: %w", d.Name, err)
		}
		seen = max(seen, most)
	}
	return seen, nil
}

package schedule

import (
	"context"
	"fmt"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/maintenance"
	"github.com/mastership/mastership/store"
)

// maintenanceWindows returns every maintenance window of the named
// devices that may overlap a flap judged since since: the inventory's
// (h.Maintenance) and the ad-hoc ones in the store.
func (h *Historian) maintenanceWindows(ctx context.Context, names []string, since time.Time) (map[string][]maintenance.Window, error) {
	out := make(map[string][]maintenance.Window, len(names))
	if h.Maintenance != nil {
		for _, n := range names {
			out[n] = append(out[n], h.Maintenance(n)...)
		}
	}
	stored, err := h.Store.MaintenanceWindows(ctx, store.Filter{Devices: names, Since: since})
	if err != nil {
		return nil, fmt.Errorf("maintenance windows: %w", err)
	}
	for _, sw := range stored {
		w, err := sw.Window()
		if err != nil {
			return nil, err
		}
		out[sw.Device] = append(out[sw.Device], w)
	}
	return out, nil
}

// MaintenanceAt returns, for each named device with a maintenance window
// (inventory or ad hoc) open at t, that window and its end ("RE swap (by
// alice), until 2026-03-01T12:00:00Z"); devices in none are left out.
// It is what mastership_maintenance and the state of a poll taken in a
// window show.
func (h *Historian) MaintenanceAt(ctx context.Context, names []string, t time.Time) (map[string]string, error) {
	ws, err := h.maintenanceWindows(ctx, names, t)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		if w, until, ok := maintenance.Active(ws[n], t); ok {
			out[n] = fmt.Sprintf("%s, until %s", w, until.UTC().Format(time.RFC3339))
		}
	}
	return out, nil
}

// markMaintenance is Judge's last step on a device's findings.
func markMaintenance(found []devices.Finding, ws []maintenance.Window) []devices.Finding {
	return maintenance.Mark(found, ws)
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mastership/mastership/devices/maintenance"
)

// MaintenanceStore keeps the ad-hoc maintenance windows that
// "mastership silence" sets, so that every agent sharing the store
// applies them from its next audit. The inventory's windows are not
// stored: the inventory is their source.
type MaintenanceStore interface {
	// AddMaintenanceWindows stores ws, all or none, and sets their IDs.
	// Each needs a device and Until after From; Created zero is now.
	AddMaintenanceWindows(ctx context.Context, ws []MaintenanceWindow) error
	// MaintenanceWindows returns the windows of f.Devices whose span
	// From..Until overlaps f's time range (From < f.Until and Until >
	// f.Since: a window open at t is selected by Since t, Until t+1ns),
	// ordered by From, device and ID. Cause is ignored.
	MaintenanceWindows(ctx context.Context, f Filter) ([]MaintenanceWindow, error)
}

// MaintenanceWindow is one ad-hoc maintenance window of one device:
// From <= t < Until.
type MaintenanceWindow struct {
	ID      int64     `json:"id"`
	Device  string    `json:"device"`
	From    time.Time `json:"from"`
	Until   time.Time `json:"until"`
	Reason  string    `json:"reason"`
	Who     string    `json:"who"`
	Created time.Time `json:"created"`
}

// Window is w as the judgement applies it.
func (w MaintenanceWindow) Window() (maintenance.Window, error) {
	mw, err := maintenance.Fixed(w.From, w.Until, w.Reason)
	if err != nil {
		return mw, fmt.Errorf("maintenance window %d of %s: %w", w.ID, w.Device, err)
	}
	mw.Who = w.Who
	return mw, nil
}

// checkMaintenanceWindow is what both engines require of a window.
func checkMaintenanceWindow(w MaintenanceWindow) error {
	if w.Device == "" {
		return errors.New("no device name")
	}
	if w.From.IsZero() || w.Until.IsZero() {
		return errors.New("no from or until time")
	}
	if !w.Until.After(w.From) {
		return fmt.Errorf("until %s is not after from %s", w.Until.Format(time.RFC3339), w.From.Format(time.RFC3339))
	}
	for _, t := range []time.Time{w.From, w.Until, w.Created} {
		if t.IsZero() {
			continue // Created zero is now
		}
		if _, err := nanos(t); err != nil {
			return err
		}
	}
	return nil
}

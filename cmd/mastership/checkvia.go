package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// check --via (issue 18): the verdict from the daemon's last poll, read
// from its API, so a Nagios check does not poll the router the daemon
// polled a minute ago. The router is never contacted.

// viaTimeout bounds the API requests when -t is not given.
const viaTimeout = 10 * time.Second

// checkVia prints the plugin result of device from the daemon at base.
// maxAge 0 means twice the daemon's interval, as /api/v1/status reports
// it. The error is a message for an UNKNOWN line.
func (a *app) checkVia(ctx context.Context, base, device string, maxAge, timeout time.Duration, asJSON bool) (devices.State, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return devices.StateUnknown, fmt.Errorf("--via %q: give the daemon's URL, e.g. http://127.0.0.1:9728", base)
	}
	if timeout <= 0 {
		timeout = viaTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	base = strings.TrimRight(u.String(), "/")
	if maxAge == 0 {
		var st apiStatus
		if err := getAPI(ctx, base+"/api/v1/status", &st); err != nil {
			return devices.StateUnknown, err
		}
		if st.IntervalSeconds <= 0 {
			return devices.StateUnknown, fmt.Errorf("the daemon at %s reports no next audits: give --max-age", base)
		}
		maxAge = 2 * time.Duration(st.IntervalSeconds*float64(time.Second))
	}
	var v deviceView
	if err := getAPI(ctx, base+"/api/v1/devices/"+url.PathEscape(device), &v); err != nil {
		return devices.StateUnknown, err
	}
	if age := time.Since(v.PolledAt); age > maxAge {
		return devices.StateUnknown, fmt.Errorf("the daemon's data for %s is %s old (polled %s), more than --max-age %s: is the daemon auditing?",
			device, age.Round(time.Second), v.PolledAt.Format(time.RFC3339), maxAge)
	}
	if asJSON {
		if err := writeJSON(a.stdout, v); err != nil {
			return devices.StateUnknown, err
		}
	} else {
		took := time.Duration(v.PollSeconds * float64(time.Second))
		writeCheck(a.stdout, v, devices.Poll{Started: v.PolledAt, Finished: v.PolledAt.Add(took)})
	}
	return v.State, nil
}

// getAPI GETs one API document into out; an API error body becomes the
// error's text.
func getAPI(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("ask the daemon: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask the daemon: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read the daemon's answer from %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("the daemon answered %s: %s", resp.Status, e.Error)
		}
		return fmt.Errorf("the daemon answered %s for %s", resp.Status, u)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return errors.Join(fmt.Errorf("the daemon's answer from %s is not the expected JSON", u), err)
	}
	return nil
}

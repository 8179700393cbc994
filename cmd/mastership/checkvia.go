package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// check --via (issue 18): the verdict from the daemon's last poll, read
// from its API, so a Nagios check does not poll the router the daemon
// polled a minute ago. The router is never contacted.

// viaTimeout bounds the API requests when -t is not given.
const viaTimeout = 10 * time.Second

// checkVia prints the plugin result of device from the daemon at o.via.
// o.maxAge 0 means twice the daemon's interval, as /api/v1/status reports
// it. The error is a message for an UNKNOWN line: it never holds the
// token or a password of the URL.
func (a *app) checkVia(ctx context.Context, o *checkOptions, device string) (devices.State, error) {
	c, err := a.newViaClient(o.via, o.viaTokenFile, o.viaCAFile)
	if err != nil {
		return devices.StateUnknown, err
	}
	state, err := a.checkViaWith(ctx, c, device, o.maxAge, time.Duration(o.timeout), o.json)
	return state, devices.RedactError(err, append(devices.DSNPasswords(o.via), c.token.Reveal())...)
}

func (a *app) checkViaWith(ctx context.Context, c *viaClient, device string, maxAge, timeout time.Duration, asJSON bool) (devices.State, error) {
	if timeout <= 0 {
		timeout = viaTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if maxAge == 0 {
		var st apiStatus
		if err := c.get(ctx, "/api/v1/status", &st); err != nil {
			return devices.StateUnknown, err
		}
		if st.IntervalSeconds <= 0 {
			return devices.StateUnknown, fmt.Errorf("the daemon at %s reports no next audits: give --max-age", c.shown)
		}
		maxAge = 2 * time.Duration(st.IntervalSeconds*float64(time.Second))
	}
	var v deviceView
	if err := c.get(ctx, "/api/v1/devices/"+url.PathEscape(device), &v); err != nil {
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

// viaClient asks the daemon's API: over HTTPS verified against the
// system's CAs or --via-ca-file (never unverified), with the bearer token
// of --via-token-file when given.
type viaClient struct {
	base  string // the URL without its trailing slash
	shown string // base as it may be printed: a password masked
	token devices.Secret
	http  *http.Client
}

func (a *app) newViaClient(base, tokenFile, caFile string) (*viaClient, error) {
	shown := devices.MaskDSN(base)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--via %q: give the daemon's URL, e.g. http://127.0.0.1:9728", shown)
	}
	c := &viaClient{base: strings.TrimRight(base, "/"), shown: strings.TrimRight(shown, "/")}
	if tokenFile != "" {
		if c.token, err = readTokenFile("--via-token-file", tokenFile); err != nil {
			return nil, err
		}
		if u.Scheme == "http" && !loopbackOnly(net.JoinHostPort(u.Hostname(), "0")) {
			a.log.Warn("--via-token-file over plain HTTP beyond loopback: the token crosses the network in clear (serve the daemon with --tls-cert)", "via", c.shown)
		}
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--via-ca-file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--via-ca-file %s: no PEM certificate in it", caFile)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	c.http = &http.Client{Transport: tr}
	return c, nil
}

// get GETs one API document (path from the root) into out; an API error
// body becomes the error's text.
func (c *viaClient) get(ctx context.Context, path string, out any) error {
	shown := c.shown + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return fmt.Errorf("ask the daemon: %w", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) {
			return fmt.Errorf("ask the daemon: %w (give --via-ca-file with the CA that signed the daemon's certificate)", err)
		}
		return fmt.Errorf("ask the daemon: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read the daemon's answer from %s: %w", shown, err)
	}
	if resp.StatusCode != http.StatusOK {
		hint := ""
		switch {
		case resp.StatusCode == http.StatusUnauthorized && c.token == "":
			hint = " (give --via-token-file with the daemon's token)"
		case resp.StatusCode == http.StatusUnauthorized:
			hint = " (the token of --via-token-file is not the daemon's)"
		}
		var e apiError
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("the daemon answered %s: %s%s", resp.Status, e.Error, hint)
		}
		return fmt.Errorf("the daemon answered %s for %s%s", resp.Status, shown, hint)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return errors.Join(fmt.Errorf("the daemon's answer from %s is not the expected JSON", shown), err)
	}
	return nil
}

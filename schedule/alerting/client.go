package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// postTimeout bounds one POST to one Alertmanager: a hung Alertmanager
// must not hold the daemon's alerts, let alone an audit.
const postTimeout = 10 * time.Second

// Client posts alerts to every configured Alertmanager: an HA pair gets
// each alert from us, as from Prometheus, and dedups among itself.
type Client struct {
	urls []*url.URL
	http *http.Client
}

// ParseURLs reads the --alertmanager values: each may hold several URLs
// separated by commas. A URL is the Alertmanager's base
// (http://am:9093, or with a path prefix); /api/v2/alerts is appended.
func ParseURLs(values []string) ([]*url.URL, error) {
	var out []*url.URL
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("alertmanager URL %q: want http(s)://host:port", devices.MaskDSN(s))
			}
			out = append(out, u)
		}
	}
	return out, nil
}

// NewClient returns a client of urls.
func NewClient(urls []*url.URL) *Client {
	return &Client{urls: urls, http: &http.Client{Timeout: postTimeout}}
}

// Target is how an Alertmanager is named in logs and metrics: its URL with
// the password masked.
func Target(u *url.URL) string { return devices.MaskDSN(u.String()) }

// Post sends alerts to every Alertmanager and returns one error per
// Alertmanager that did not take them, each naming its target.
func (c *Client) Post(ctx context.Context, alerts []Alert) map[string]error {
	errs := map[string]error{}
	if len(alerts) == 0 {
		return errs
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		for _, u := range c.urls {
			errs[Target(u)] = fmt.Errorf("encode alerts: %w", err)
		}
		return errs
	}
	for _, u := range c.urls {
		if err := c.post(ctx, u, body); err != nil {
			errs[Target(u)] = err
		}
	}
	return errs
}

func (c *Client) post(ctx context.Context, base *url.URL, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	u := base.JoinPath("api", "v2", "alerts")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post alerts to %s: %w", Target(base), err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error prints the URL, userinfo and all: say it ourselves.
		var cause error = err
		if ue, ok := err.(*url.Error); ok {
			cause = ue.Err
		}
		return fmt.Errorf("post alerts to %s: %w", Target(base), cause)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post alerts to %s: %s: %s", Target(base), resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/schedule"
	"github.com/mastership/mastership/store"
	"github.com/mastership/mastership/store/report"
)

// The daemon's read-only JSON API (issue 18), served beside /metrics. It
// answers from the store, never from the routers: `check --via` uses it so
// that Nagios does not poll a router the daemon polled a minute ago.
//
// It lives in cmd/mastership because /api/v1/devices/{name} is the same
// document as `check --json` (deviceView, a.view), and schedule/metrics
// must stay free of the store.

// apiServer serves /api/v1/….
type apiServer struct {
	a    *app
	st   store.Store
	hist *schedule.Historian
	// spec and sched are the daemon's --schedule, for /api/v1/status.
	spec  string
	sched cron.Schedule
	// inventory returns the inventory as of its latest reload: the tags
	// (and sites of devices not yet polled) come from it.
	inventory func() *inventory.Inventory
	ready     func() bool
	now       func() time.Time
	// spooled, if set, is the latest poll of each device the daemon's
	// spool has seen (issue 19): newer than the store's while the spool
	// holds unflushed polls, and the only ones while the store is down.
	spooled func() map[string]devices.Poll
}

// latestPolls is the latest poll of every device, from the store and the
// spool, whichever is newer; storeDown says the store did not answer (the
// polls are then the spool's alone).
func (s *apiServer) latestPolls(ctx context.Context) (polls []devices.Poll, storeDown bool, err error) {
	polls, err = s.st.LatestPolls(ctx)
	if err != nil {
		if s.spooled == nil {
			return nil, false, fmt.Errorf("latest polls: %w", err)
		}
		storeDown, polls = true, nil
	}
	if s.spooled == nil {
		return polls, false, nil
	}
	spooled := s.spooled()
	for i, p := range polls {
		if q, ok := spooled[p.Device]; ok && q.Started.After(p.Started) {
			polls[i] = q
		}
		delete(spooled, p.Device)
	}
	for _, q := range spooled {
		polls = append(polls, q)
	}
	return polls, storeDown, nil
}

// outageView is a device's document from its poll alone, while the store
// (its history, findings and readiness) cannot be read.
func outageView(p devices.Poll) deviceView {
	return newDeviceView(p, devices.Assess(p, p.ExpectedREs, nil))
}

// apiStatus is /api/v1/status: what a client needs to judge how fresh the
// daemon's data is. IntervalSeconds is the gap between the next two
// audits, which for a cron schedule is the best guess of its period.
type apiStatus struct {
	Schedule        string      `json:"schedule"`
	IntervalSeconds float64     `json:"interval_seconds"`
	NextAudits      []time.Time `json:"next_audits"`
	Ready           bool        `json:"ready"`
	Devices         int         `json:"devices"`
	Version         string      `json:"version"`
}

// apiError is every error body of the API. Parameter names the query
// parameter that was wrong, when one was.
type apiError struct {
	Error     string `json:"error"`
	Parameter string `json:"parameter,omitempty"`
}

// paramError is a bad query parameter: a 400 naming it.
type paramError struct {
	param string
	err   error
}

func (e *paramError) Error() string { return fmt.Sprintf("?%s: %v", e.param, e.err) }

// register adds the API's routes to mux.
func (s *apiServer) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/status", s.handle(s.status, nil))
	mux.HandleFunc("GET /api/v1/devices", s.handle(s.devices, []string{"site", "tag", "since"}))
	mux.HandleFunc("GET /api/v1/devices/{name}", s.handle(s.device, nil))
	mux.HandleFunc("GET /api/v1/findings", s.handle(s.findings, []string{"site", "tag", "since"}))
	mux.HandleFunc("GET /api/v1/switchovers", s.handle(s.switchovers, []string{"site", "tag", "since"}))
	mux.HandleFunc("GET /api/v1/runs", s.handle(s.runs, []string{"since", "limit"}))
	mux.HandleFunc("GET /{$}", s.page)
	// Anything else under /api/ is a JSON 404, not the text one.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeAPI(w, http.StatusNotFound, apiError{Error: "no such endpoint: " + r.URL.Path})
	})
}

// handle turns f into a handler: parameters outside allowed are a 400
// (a typo such as ?stie= must not silently return everything), a
// paramError is a 400, errNotFound a 404, any other error a 500.
func (s *apiServer) handle(f func(context.Context, *http.Request, selection) (any, error), allowed []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for k := range q {
			if !slices.Contains(allowed, k) {
				writeAPI(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("unknown parameter %q here (allowed: %s)", k, strings.Join(allowed, ", ")), Parameter: k})
				return
			}
		}
		sel, err := s.selection(q)
		if err == nil {
			var body any
			body, err = f(r.Context(), r, sel)
			if err == nil {
				writeAPI(w, http.StatusOK, body)
				return
			}
		}
		var pe *paramError
		switch {
		case errors.As(err, &pe):
			writeAPI(w, http.StatusBadRequest, apiError{Error: pe.Error(), Parameter: pe.param})
		case errors.Is(err, errNotFound):
			writeAPI(w, http.StatusNotFound, apiError{Error: err.Error()})
		default:
			s.a.log.Error("api", "path", r.URL.Path, "error", err)
			writeAPI(w, http.StatusInternalServerError, apiError{Error: err.Error()})
		}
	}
}

var errNotFound = errors.New("not found")

func writeAPI(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body) // the client went away: nothing to tell it
}

// selection is the ?site=, ?tag=, ?since= and ?limit= of a request.
type selection struct {
	site, tag string
	since     time.Time
	limit     int
}

func (s *apiServer) selection(q url.Values) (selection, error) {
	var sel selection
	for _, p := range []string{"site", "tag", "since", "limit"} {
		if vs, ok := q[p]; ok && (len(vs) != 1 || vs[0] == "") {
			return sel, &paramError{p, errors.New("give it once, with a value")}
		}
	}
	sel.site, sel.tag = q.Get("site"), q.Get("tag")
	if v := q.Get("since"); v != "" {
		t, err := parseSince(v, s.now())
		if err != nil {
			return sel, &paramError{"since", err}
		}
		sel.since = t
	}
	sel.limit = 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return sel, &paramError{"limit", fmt.Errorf("%q is not a number of runs from 1 to 10000", v)}
		}
		sel.limit = n
	}
	return sel, nil
}

// matches says whether a device (with the site its row gives, empty if
// none) is selected by ?site= and ?tag=. Sites and tags not in a row come
// from the inventory.
func (sel selection) matches(inv *inventory.Inventory, name, site string) bool {
	if sel.site == "" && sel.tag == "" {
		return true
	}
	d, inInv := inv.Device(name)
	if site == "" {
		site = d.Site
	}
	if sel.site != "" && site != sel.site {
		return false
	}
	return sel.tag == "" || (inInv && slices.Contains(d.Tags, sel.tag))
}

func (s *apiServer) status(_ context.Context, _ *http.Request, _ selection) (any, error) {
	st := apiStatus{Schedule: s.spec, NextAudits: schedule.NextRuns(s.sched, s.now(), 2), Ready: s.ready(),
		Devices: len(s.inventory().Devices), Version: buildInfo().Version}
	if len(st.NextAudits) == 2 {
		st.IntervalSeconds = st.NextAudits[1].Sub(st.NextAudits[0]).Seconds()
	}
	return st, nil
}

// devices is the latest state of every selected device, in name order.
func (s *apiServer) devices(ctx context.Context, _ *http.Request, sel selection) (any, error) {
	polls, storeDown, err := s.latestPolls(ctx)
	if err != nil {
		return nil, err
	}
	inv := s.inventory()
	views := []deviceView{}
	for _, p := range polls {
		if !sel.matches(inv, p.Device, p.Site) || p.Started.Before(sel.since) {
			continue
		}
		if storeDown {
			views = append(views, outageView(p))
			continue
		}
		v, err := s.view(ctx, p)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	slices.SortFunc(views, func(a, b deviceView) int { return strings.Compare(a.Device, b.Device) })
	return views, nil
}

// device is one device's `check --json` document, from its last poll.
func (s *apiServer) device(ctx context.Context, r *http.Request, _ selection) (any, error) {
	name := r.PathValue("name")
	p, err := s.st.LatestPoll(ctx, name)
	var spooled *devices.Poll
	if s.spooled != nil {
		if q, ok := s.spooled()[name]; ok {
			spooled = &q
		}
	}
	if err != nil {
		if spooled == nil {
			return nil, fmt.Errorf("latest poll of %s: %w", name, err)
		}
		return outageView(*spooled), nil
	}
	if spooled != nil && (p == nil || spooled.Started.After(p.Started)) {
		p = spooled
	}
	if p == nil {
		return nil, fmt.Errorf("device %q: %w: the daemon has no poll of it", name, errNotFound)
	}
	return s.view(ctx, *p)
}

// view is the device's document as check builds it, with the findings the
// daemon stored when it judged that poll.
func (s *apiServer) view(ctx context.Context, p devices.Poll) (deviceView, error) {
	fs, err := s.st.Findings(ctx, store.Filter{Devices: []string{p.Device}, Since: p.Started.Add(-s.hist.Window())})
	if err != nil {
		return deviceView{}, fmt.Errorf("findings of %s: %w", p.Device, err)
	}
	v, err := s.a.view(ctx, s.st, s.hist, p, fs)
	if err != nil {
		return deviceView{}, err
	}
	// The switchover readiness verdict the daemon stored with the poll,
	// judged as check judges it (the inventory's readiness.severity).
	rs, err := s.st.Readinesses(ctx, store.Filter{Devices: []string{p.Device}})
	if err != nil {
		return deviceView{}, fmt.Errorf("readiness of %s: %w", p.Device, err)
	}
	if len(rs) == 1 {
		d, _ := s.inventory().Device(p.Device)
		v = v.withReadiness(rs[0].Verdict, true, d)
	}
	return v, nil
}

// sites maps each polled device to its site, for rows that carry none.
func (s *apiServer) sites(ctx context.Context) (map[string]string, error) {
	polls, err := s.st.LatestPolls(ctx)
	if err != nil {
		return nil, fmt.Errorf("latest polls: %w", err)
	}
	m := make(map[string]string, len(polls))
	for _, p := range polls {
		m[p.Device] = p.Site
	}
	return m, nil
}

func (s *apiServer) findings(ctx context.Context, _ *http.Request, sel selection) (any, error) {
	fs, err := s.st.Findings(ctx, store.Filter{Since: sel.since})
	if err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	sites, err := s.sites(ctx)
	if err != nil {
		return nil, err
	}
	inv := s.inventory()
	out := []devices.Finding{}
	for _, f := range fs {
		if sel.matches(inv, f.Device, sites[f.Device]) {
			out = append(out, f)
		}
	}
	return out, nil
}

func (s *apiServer) switchovers(ctx context.Context, _ *http.Request, sel selection) (any, error) {
	sws, err := s.st.Switchovers(ctx, store.Filter{Since: sel.since})
	if err != nil {
		return nil, fmt.Errorf("switchovers: %w", err)
	}
	sites, err := s.sites(ctx)
	if err != nil {
		return nil, err
	}
	inv := s.inventory()
	out := []devices.Switchover{}
	for _, sw := range sws {
		if sel.matches(inv, sw.Device, sites[sw.Device]) {
			out = append(out, sw)
		}
	}
	return out, nil
}

// runs is the latest audits, newest first, at most ?limit= (100).
func (s *apiServer) runs(ctx context.Context, _ *http.Request, sel selection) (any, error) {
	rs, err := s.st.Runs(ctx, sel.limit)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	out := []devices.Run{}
	for _, r := range rs {
		if !r.Started.Before(sel.since) {
			out = append(out, r)
		}
	}
	return out, nil
}

// page is the live fleet page: the HTML report built from the store at
// each request. It refreshes itself through the Refresh response header,
// not a meta refresh: the report stays the same self-contained document
// that `report --format html` writes (no script, no http-equiv).
func (s *apiServer) page(w http.ResponseWriter, r *http.Request) {
	var buf strings.Builder
	err := report.WriteHTML(r.Context(), s.st, &buf, report.GatherOptions{Now: s.now(), Inventory: s.inventory().Devices})
	if err != nil {
		s.a.log.Error("live page", "error", err)
		http.Error(w, "the fleet page could not be built: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Refresh", strconv.Itoa(int(s.refresh().Seconds())))
	_, _ = io.WriteString(w, buf.String()) // the browser went away
}

// refresh is how often the live page reloads: once an audit, between 10 s
// and 5 min.
func (s *apiServer) refresh() time.Duration {
	next := schedule.NextRuns(s.sched, s.now(), 2)
	d := time.Minute
	if len(next) == 2 {
		d = next[1].Sub(next[0])
	}
	return min(max(d, 10*time.Second), 5*time.Minute)
}

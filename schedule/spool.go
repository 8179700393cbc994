package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/store"
	"github.com/mastership/mastership/store/spool"
)

// Spool is the daemon's write path to the store (issue 19): an audit
// appends its run, its polls and their log lines to a durable local
// journal (store/spool) and goes on, and Flush drains the journal into
// the store, in order, whenever the store answers. So an audit never
// waits on the store, and a store outage loses no poll.
//
// While the store is down the Spool also stands in for it where a poll
// needs the store: the log cursors (LogCursor) and, under --shared, which
// devices this agent holds (HeldLastSlot). It is safe for concurrent use.
type Spool struct {
	j     *spool.Journal
	dir   string
	store store.Store
	hist  *Historian
	log   *slog.Logger
	// storeOp reports each store operation of the flush.
	storeOp func(op string, err error)

	mu       sync.Mutex
	runs     map[int64]int64 // run key (its begin record's seq) → store run ID
	finished map[int64]int64 // the same, of the last runs finished
	cursors  map[cursorKey]spooledCursor
	latest   map[string]devices.Poll // the latest spooled poll of each device
	mostREs  map[string]int          // the most REs seen on each device, for ExpectedREs
	acked    uint64
	lastErr  error     // the last flush error; nil once a flush went through
	failures int       // flush attempts that failed, ever
	errSince time.Time // when the flush began failing
	changed  chan struct{}
	progress flushProgress
	// Under --shared: the slot this agent last claimed devices in, and
	// those devices.
	claimSlot time.Time
	claimed   map[string]bool

	kick  chan struct{} // something was appended
	retry chan struct{} // an audit waits: try now, even while backing off
}

type cursorKey struct{ device, file string }

type spooledCursor struct {
	cur devices.LogCursor
	seq uint64 // the group it came in
}

// flushProgress remembers how far the flush of one group went, so a
// retry after the store failed half-way does not store its poll twice.
type flushProgress struct {
	seq    uint64
	saved  bool
	pollID int64
	prev   *devices.Poll
}

// Record kinds in the journal.
const (
	kindRun    byte = 1
	kindPoll   byte = 2
	kindLogs   byte = 3 // droppable: dropped first when the spool is full
	kindFinish byte = 4
	kindClaim  byte = 5
)

type runRecord struct {
	Started time.Time `json:"started"`
}

type pollRecord struct {
	Run         int64 `json:"run"` // run key; 0: not part of a run
	ExpectedREs int   `json:"inventory_expected_res"`
	// Poll is the poll without its log lines, Zone its device zone's
	// name.
	Poll devices.Poll
	Zone string
}

// The model's JSON tags make the API's and check's documents, and leave
// out what the store needs (up times, the alarms-read mark, the
// configuration, replication, log cursors' state, …); gob cannot carry a
// *time.Location, and turns a pointer to zero (RE slot 0) into nil. So a
// record is the JSON of a copy of the value, made by reflection, whose
// struct types have every exported field and no tags: every field of
// the model, today's and tomorrow's, travels, but a *time.Location
// (the device zone travels as its name, pollRecord.Zone).
var (
	timeType     = reflect.TypeFor[time.Time]()
	locationType = reflect.TypeFor[*time.Location]()
	wireTypes    sync.Map // reflect.Type → its wire type
)

func wireType(t reflect.Type) reflect.Type {
	if w, ok := wireTypes.Load(t); ok {
		return w.(reflect.Type)
	}
	var w reflect.Type
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			w = t
			break
		}
		var fs []reflect.StructField
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Anonymous || f.Type == locationType {
				continue
			}
			fs = append(fs, reflect.StructField{Name: f.Name, Type: wireType(f.Type)})
		}
		w = reflect.StructOf(fs)
	case reflect.Pointer:
		w = reflect.PointerTo(wireType(t.Elem()))
	case reflect.Slice:
		w = reflect.SliceOf(wireType(t.Elem()))
	case reflect.Array:
		w = reflect.ArrayOf(t.Len(), wireType(t.Elem()))
	case reflect.Map:
		w = reflect.MapOf(t.Key(), wireType(t.Elem()))
	default:
		w = t
	}
	wireTypes.Store(t, w)
	return w
}

// convert copies v into a value of type to, field by field by name:
// from a model type to its wire type or back.
func convert(v reflect.Value, to reflect.Type) reflect.Value {
	if v.Type() == to {
		return v
	}
	switch to.Kind() {
	case reflect.Struct:
		out := reflect.New(to).Elem()
		for i := range to.NumField() {
			f := to.Field(i)
			if !f.IsExported() || f.Anonymous || f.Type == locationType {
				continue
			}
			src := v.FieldByName(f.Name)
			if !src.IsValid() {
				continue
			}
			out.Field(i).Set(convert(src, f.Type))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return reflect.Zero(to)
		}
		out := reflect.New(to.Elem())
		out.Elem().Set(convert(v.Elem(), to.Elem()))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return reflect.Zero(to)
		}
		out := reflect.MakeSlice(to, v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(convert(v.Index(i), to.Elem()))
		}
		return out
	case reflect.Array:
		out := reflect.New(to).Elem()
		for i := range v.Len() {
			out.Index(i).Set(convert(v.Index(i), to.Elem()))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return reflect.Zero(to)
		}
		out := reflect.MakeMapWithSize(to, v.Len())
		it := v.MapRange()
		for it.Next() {
			out.SetMapIndex(it.Key(), convert(it.Value(), to.Elem()))
		}
		return out
	}
	return v.Convert(to)
}

// encode is a record's payload.
func encode(v any) []byte {
	rv := reflect.ValueOf(v)
	b, err := json.Marshal(convert(rv, wireType(rv.Type())).Interface())
	if err != nil {
		// Only the model's own types are encoded: plain exported data.
		panic(fmt.Sprintf("spool: encode %T: %v", v, err))
	}
	return b
}

// decode reads a record's payload into *v.
func decode(b []byte, v any) error {
	dst := reflect.ValueOf(v).Elem()
	w := reflect.New(wireType(dst.Type()))
	if err := json.Unmarshal(b, w.Interface()); err != nil {
		return err
	}
	dst.Set(convert(w.Elem(), dst.Type()))
	return nil
}

// zoned puts a decoded poll's device zone back.
func zoned(p devices.Poll, zone string) devices.Poll {
	if zone != "" && p.Snapshot != nil {
		if loc, err := time.LoadLocation(zone); err == nil {
			p.Snapshot.DeviceZone = loc
		}
	}
	return p
}

type logsRecord struct {
	Lines   []devices.LogLine   `json:"lines"`
	Cursors []devices.LogCursor `json:"cursors"`
}

// logsStub stands for a logsRecord the spool dropped when it was full.
type logsStub struct {
	Lines   int                 `json:"lines"`
	First   time.Time           `json:"first"`
	Last    time.Time           `json:"last"`
	Cursors []devices.LogCursor `json:"cursors"`
}

type finishRecord struct {
	Run    int64       `json:"run"`
	Result devices.Run `json:"result"`
}

type claimRecord struct {
	Slot   time.Time `json:"slot"`
	Device string    `json:"device"`
}

// spoolState is what the spool keeps beside the journal: the store run
// IDs of runs begun in the store and not yet finished, so that polls
// flushed after a restart still join their run.
type spoolState struct {
	Runs map[int64]int64 `json:"runs"`
}

// SpoolStatus is what a Spool holds, for the metrics, /healthz and the
// status file report reads.
type SpoolStatus struct {
	PID int `json:"pid"`
	// PollsWaiting are the polls not yet in the store.
	PollsWaiting int       `json:"polls_waiting"`
	Records      int       `json:"records"`
	Bytes        int64     `json:"bytes"`
	MaxBytes     int64     `json:"max_bytes"`
	Full         bool      `json:"full"`
	DroppedLogs  int64     `json:"dropped_log_records"`
	StoreError   string    `json:"store_error,omitempty"`
	ErrorSince   time.Time `json:"store_error_since,omitzero"`
	Updated      time.Time `json:"updated"`
}

// Degraded reports whether the store is not taking the spool's records.
func (s SpoolStatus) Degraded() bool { return s.StoreError != "" }

// DefaultSpoolMax is --spool-max's default.
const DefaultSpoolMax = 256 << 20

// StatusFile is the name of the spool's status file in its directory.
const StatusFile = "status.json"

// OpenSpool opens the spool in dir (created if missing), bounded to max
// bytes, in front of st; hist (may be nil) records each poll's history
// as it is flushed. What an earlier process left in the spool is flushed
// first; a run it began and never finished is finished as interrupted.
func OpenSpool(dir string, max int64, st store.Store, hist *Historian, storeOp func(string, error), log *slog.Logger) (*Spool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	j, err := spool.Open(dir, max, log)
	if err != nil {
		return nil, err
	}
	s := &Spool{j: j, dir: dir, store: st, hist: hist, log: log, storeOp: storeOp,
		runs: map[int64]int64{}, finished: map[int64]int64{}, cursors: map[cursorKey]spooledCursor{}, latest: map[string]devices.Poll{}, mostREs: map[string]int{},
		changed: make(chan struct{}), kick: make(chan struct{}, 1), retry: make(chan struct{}, 1)}
	if b, err := os.ReadFile(filepath.Join(dir, "runs.json")); err == nil {
		var state spoolState
		if err := json.Unmarshal(b, &state); err != nil {
			log.Warn("spool: runs.json unreadable; polls of its runs are stored outside a run", "error", err)
		} else if state.Runs != nil {
			s.runs = state.Runs
		}
	}
	if err := s.reload(); err != nil {
		j.Close()
		return nil, err
	}
	s.writeStatus()
	return s, nil
}

// reload rebuilds what the spool keeps in memory from the journal, and
// finishes the runs an earlier process left unfinished.
func (s *Spool) reload() error {
	groups, err := s.j.Peek(1 << 30)
	if err != nil {
		return err
	}
	open := map[int64]*devices.Run{}
	var order []int64
	for _, g := range groups {
		for _, e := range g {
			switch e.Kind {
			case kindRun:
				var r runRecord
				if decode(e.Data, &r) == nil {
					open[int64(e.Seq)] = &devices.Run{Started: r.Started}
					order = append(order, int64(e.Seq))
				}
			case kindPoll:
				var r pollRecord
				if decode(e.Data, &r) == nil {
					s.latest[r.Poll.Device] = zoned(r.Poll, r.Zone)
					if run := open[r.Run]; run != nil {
						run.Devices++
						if r.Poll.Outcome == devices.OutcomeOK || r.Poll.Outcome == devices.OutcomePartial {
							run.OK++
						} else {
							run.Failed++
						}
						run.Finished = r.Poll.Finished
					}
				}
			case kindLogs:
				dev := ""
				if len(g) > 0 {
					var r pollRecord
					if decode(g[0].Data, &r) == nil {
						dev = r.Poll.Device
					}
				}
				for _, c := range logsCursors(e) {
					s.cursors[cursorKey{dev, c.File}] = spooledCursor{cur: c, seq: e.Seq}
				}
			case kindFinish:
				var r finishRecord
				if decode(e.Data, &r) == nil {
					delete(open, r.Run)
				}
			}
		}
	}
	for _, key := range order {
		run := open[key]
		if run == nil {
			continue
		}
		run.Interrupted = true
		if run.Finished.IsZero() {
			run.Finished = run.Started
		}
		s.log.Warn("spool: a run an earlier process began and never finished is stored as interrupted", "started", run.Started)
		if _, err := s.append(spool.Record{Kind: kindFinish, Data: encode(finishRecord{Run: key, Result: *run})}); err != nil {
			return err
		}
	}
	return nil
}

func logsCursors(e spool.Entry) []devices.LogCursor {
	if e.Dropped {
		var st logsStub
		if decode(e.Data, &st) != nil {
			return nil
		}
		return st.Cursors
	}
	var r logsRecord
	if decode(e.Data, &r) != nil {
		return nil
	}
	return r.Cursors
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the model's own types are marshalled: every field is
		// plain data.
		panic(fmt.Sprintf("spool: marshal %T: %v", v, err))
	}
	return b
}

func (s *Spool) append(recs ...spool.Record) (uint64, error) {
	seq, err := s.j.Append(recs...)
	if err != nil {
		return 0, fmt.Errorf("spool: %w", err)
	}
	s.wake()
	return seq, nil
}

func (s *Spool) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// BeginRun spools the start of an audit and returns the run's key.
func (s *Spool) BeginRun(started time.Time) (int64, error) {
	seq, err := s.append(spool.Record{Kind: kindRun, Data: encode(runRecord{Started: started})})
	if err != nil {
		return 0, fmt.Errorf("begin run: %w", err)
	}
	return int64(seq), nil
}

// SavePoll spools device d's poll p of the run with key run (0: none),
// its log lines in a record of their own that the spool may drop when
// full.
func (s *Spool) SavePoll(run int64, d inventory.Device, p devices.Poll) (uint64, error) {
	rec := pollRecord{Run: run, ExpectedREs: d.ExpectedREs, Poll: p}
	var logs logsRecord
	if p.Snapshot != nil {
		snap := *p.Snapshot
		logs = logsRecord{Lines: snap.Logs, Cursors: snap.LogCursors}
		snap.Logs, snap.LogCursors = nil, nil
		if snap.DeviceZone != nil {
			rec.Zone = snap.DeviceZone.String()
		}
		rec.Poll.Snapshot = &snap
	}
	stub := logsStub{Lines: len(logs.Lines), Cursors: logs.Cursors}
	for _, l := range logs.Lines {
		if l.Time.IsZero() {
			continue
		}
		if stub.First.IsZero() || l.Time.Before(stub.First) {
			stub.First = l.Time
		}
		if l.Time.After(stub.Last) {
			stub.Last = l.Time
		}
	}
	seq, err := s.append(
		spool.Record{Kind: kindPoll, Data: encode(rec)},
		spool.Record{Kind: kindLogs, Data: encode(logs), Droppable: true, Stub: encode(stub)})
	if err != nil {
		return 0, fmt.Errorf("save poll of %s: %w", p.Device, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range logs.Cursors {
		s.cursors[cursorKey{p.Device, c.File}] = spooledCursor{cur: c, seq: seq}
	}
	s.latest[p.Device] = p
	return seq, nil
}

// ExpectedREs is ExpectedREs without waiting on a store that is down:
// the most REs seen on the device is remembered, and the store asked
// only for a device this process has not seen yet.
func (s *Spool) ExpectedREs(ctx context.Context, d inventory.Device, p devices.Poll) int {
	if d.ExpectedREs > 0 {
		return d.ExpectedREs
	}
	seen := 0
	if p.Snapshot != nil {
		seen = len(p.Snapshot.RouteEngines)
	}
	s.mu.Lock()
	most, known := s.mostREs[d.Name]
	s.mu.Unlock()
	if !known {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if m, err := s.store.MaxREsSeen(ctx, d.Name); err == nil {
			most, known = m, true
		}
	}
	most = max(most, seen)
	// Remembered only once the store said what it has seen: else the
	// next poll asks it again.
	if known {
		s.mu.Lock()
		s.mostREs[d.Name] = max(s.mostREs[d.Name], most)
		s.mu.Unlock()
	}
	return most
}

// FinishRun spools the end of the run with key run and returns the
// sequence number to wait for (Flushed) before judging.
func (s *Spool) FinishRun(run int64, r devices.Run) (uint64, error) {
	seq, err := s.append(spool.Record{Kind: kindFinish, Data: encode(finishRecord{Run: run, Result: r})})
	if err != nil {
		return 0, fmt.Errorf("finish run: %w", err)
	}
	return seq, nil
}

// Claimed notes that this agent won device's claim in slot: the set of
// the last slot whose claims worked is what HeldLastSlot answers from.
func (s *Spool) Claimed(slot time.Time, device string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slot.Equal(s.claimSlot) {
		if slot.Before(s.claimSlot) {
			return
		}
		s.claimSlot, s.claimed = slot, map[string]bool{}
	}
	s.claimed[device] = true
}

// HeldLastSlot reports whether this agent polled device in the last slot
// it could claim in. While the store is down no claim can be made: each
// agent keeps polling its own devices, so every device is still polled
// once, and the claim (spooled) is written after the flush.
func (s *Spool) HeldLastSlot(slot time.Time, device string) (bool, error) {
	s.mu.Lock()
	held := s.claimed[device] && slot.After(s.claimSlot)
	s.mu.Unlock()
	if !held {
		return false, nil
	}
	if _, err := s.append(spool.Record{Kind: kindClaim, Data: encode(claimRecord{Slot: slot, Device: device})}); err != nil {
		return false, fmt.Errorf("claim %s: %w", device, err)
	}
	return true, nil
}

// Idle reports whether the spool holds nothing and the store takes its
// records: a write may then go to the store directly without passing
// one still in the spool.
func (s *Spool) Idle() bool {
	s.mu.Lock()
	failing := s.lastErr != nil
	s.mu.Unlock()
	return !failing && s.j.Stats().Records == 0
}

// LogCursor is where reading device's file stopped: the spool's cursor
// when it holds a newer one than the store, else the store's, else (the
// store down) the last one the spool saw.
func (s *Spool) LogCursor(ctx context.Context, device, file string) (devices.LogCursor, bool, error) {
	s.mu.Lock()
	c, ok := s.cursors[cursorKey{device, file}]
	pending := ok && c.seq > s.acked
	s.mu.Unlock()
	if pending {
		return c.cur, true, nil
	}
	cur, found, err := s.store.LogCursor(ctx, device, file)
	if err != nil && ok {
		return c.cur, true, nil
	}
	return cur, found, err
}

// LatestPolls returns the latest poll of each device the spool has seen
// since the process started (the daemon's view during an outage).
func (s *Spool) LatestPolls() map[string]devices.Poll {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.latest)
}

// Status says what the spool holds now.
func (s *Spool) Status() SpoolStatus {
	st := s.j.Stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := SpoolStatus{PID: os.Getpid(), PollsWaiting: st.ByKind[kindPoll], Records: st.Records, Bytes: st.Bytes,
		MaxBytes: st.Max, Full: st.Full, DroppedLogs: st.Dropped, Updated: time.Now().UTC()}
	if s.lastErr != nil {
		out.StoreError, out.ErrorSince = s.lastErr.Error(), s.errSince
	}
	return out
}

// ReadSpoolStatus reads the status file a daemon's spool in dir keeps;
// ok is false when there is none.
func ReadSpoolStatus(dir string) (st SpoolStatus, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if errors.Is(err, os.ErrNotExist) {
		return SpoolStatus{}, false, nil
	}
	if err != nil {
		return SpoolStatus{}, false, fmt.Errorf("read spool status: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return SpoolStatus{}, false, fmt.Errorf("read spool status %s: %w", filepath.Join(dir, StatusFile), err)
	}
	return st, true, nil
}

// writeStatus writes the status file (not synced: it is a hint for
// report, and the journal is the truth).
func (s *Spool) writeStatus() {
	st := s.Status()
	path := filepath.Join(s.dir, StatusFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, mustJSON(st), 0o600); err == nil {
		_ = os.Rename(tmp, path)
	}
}

func (s *Spool) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Flushed waits until the store has taken every record up to seq
// (true), or two flush attempts made after the call failed (false: one
// failure may be a passing one, a busy SQLite file), or ctx ends.
func (s *Spool) Flushed(ctx context.Context, seq uint64) bool {
	return s.wait(ctx, seq, 2)
}

// Stored is Flushed for one poll in the audit: false at once while the
// store is failing, so that an outage never holds an audit's workers.
func (s *Spool) Stored(ctx context.Context, seq uint64) bool {
	s.mu.Lock()
	failing := s.lastErr != nil
	s.mu.Unlock()
	if failing {
		return false
	}
	return s.wait(ctx, seq, 1)
}

// wait waits for the ack of seq, giving up after the given number of
// failed flush attempts made after the call.
func (s *Spool) wait(ctx context.Context, seq uint64, failures int) bool {
	retryNow := func() {
		select { // try now rather than at the next backoff
		case s.retry <- struct{}{}:
		default:
		}
	}
	s.mu.Lock()
	if s.lastErr != nil {
		retryNow()
	}
	start := s.failures
	s.mu.Unlock()
	for {
		s.mu.Lock()
		if s.acked >= seq {
			s.mu.Unlock()
			return true
		}
		if n := s.failures - start; n > 0 {
			if n >= failures {
				s.mu.Unlock()
				return false
			}
			retryNow()
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// Run flushes the spool into the store until ctx ends: at once when
// something is appended, and after a failure again with a backoff from
// retryMin up to retryMax. Records are taken in order; a record the store
// refuses is tried again, never skipped.
func (s *Spool) Run(ctx context.Context, retryMin, retryMax time.Duration) {
	backoff := retryMin
	timer := time.NewTimer(0)
	defer timer.Stop()
	failing := false
	for {
		// While the store fails, appends do not call for a retry each
		// (a poll a second would be a connection attempt a second): the
		// backoff does, or an audit waiting for its records.
		kick := s.kick
		if failing {
			kick = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-s.retry:
		case <-timer.C:
		}
		err := s.Flush(ctx)
		failing = err != nil
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if err == nil {
			backoff = retryMin
			continue
		}
		if ctx.Err() != nil {
			return
		}
		timer.Reset(backoff)
		backoff = min(2*backoff, retryMax)
	}
}

// groupTimeout bounds the store's work on one group (one poll and its
// history) during a flush.
const groupTimeout = 30 * time.Second

// flushBatch is how many groups one Flush reads from the journal at once.
const flushBatch = 64

// Flush drains the journal into the store now, and returns the first
// error (the rest stays in the journal).
func (s *Spool) Flush(ctx context.Context) error {
	defer s.writeStatus()
	for {
		groups, err := s.j.Peek(flushBatch)
		if err != nil {
			return s.failed(err)
		}
		if len(groups) == 0 {
			s.mu.Lock()
			if s.lastErr != nil {
				s.lastErr = nil
				s.broadcast()
			}
			s.mu.Unlock()
			return nil
		}
		// One head update (an fsync) per batch, not per poll; on an
		// error, the groups stored before it are acknowledged first, so
		// that a retry does not store them again.
		var done uint64
		var ferr error
		for _, g := range groups {
			// A store that hangs (a server gone without a reset) must
			// not hold the flusher, and the audits waiting on it, for
			// ever.
			gctx, cancel := context.WithTimeout(ctx, groupTimeout)
			ferr = s.flushGroup(gctx, g)
			cancel()
			if ferr != nil {
				break
			}
			done = g[len(g)-1].Seq
		}
		if done > 0 {
			if err := s.j.Ack(done); err != nil {
				return s.failed(err)
			}
			s.mu.Lock()
			s.acked = done
			if s.lastErr != nil && ferr == nil {
				s.log.Info("store answers again: spool flushing", "failing_since", s.errSince)
				s.lastErr = nil
			}
			s.broadcast()
			s.mu.Unlock()
		}
		if ferr != nil {
			return s.failed(ferr)
		}
	}
}

func (s *Spool) failed(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr == nil {
		s.errSince = time.Now().UTC()
		s.log.Warn("store degraded: polls wait in the spool", "error", err)
	}
	s.lastErr = err
	s.failures++
	s.broadcast()
	return err
}

func (s *Spool) op(op string, err error) error {
	if s.storeOp != nil {
		s.storeOp(op, err)
	}
	return err
}

// flushGroup stores one group: a run's start, a poll with its log lines,
// a run's end or a claim.
func (s *Spool) flushGroup(ctx context.Context, g []spool.Entry) error {
	first := g[0]
	switch first.Kind {
	case kindRun:
		var r runRecord
		if err := decode(first.Data, &r); err != nil {
			return s.corrupt(first, err)
		}
		id, err := s.store.BeginRun(ctx, r.Started)
		if s.op(OpBeginRun, err) != nil {
			return err
		}
		s.mu.Lock()
		s.runs[int64(first.Seq)] = id
		state := spoolState{Runs: maps.Clone(s.runs)}
		s.mu.Unlock()
		return s.saveState(state)
	case kindPoll:
		return s.flushPoll(ctx, g)
	case kindFinish:
		var r finishRecord
		if err := decode(first.Data, &r); err != nil {
			return s.corrupt(first, err)
		}
		s.mu.Lock()
		id, ok := s.runs[r.Run]
		s.mu.Unlock()
		if !ok {
			return nil // its start was never stored (see saveState)
		}
		r.Result.ID = id
		if err := s.op(OpFinishRun, s.store.FinishRun(ctx, r.Result)); err != nil {
			return err
		}
		s.mu.Lock()
		delete(s.runs, r.Run)
		s.finished[r.Run] = id
		if len(s.finished) > 64 {
			delete(s.finished, slices.Min(slices.Collect(maps.Keys(s.finished))))
		}
		state := spoolState{Runs: maps.Clone(s.runs)}
		s.mu.Unlock()
		return s.saveState(state)
	case kindClaim:
		var r claimRecord
		if err := decode(first.Data, &r); err != nil {
			return s.corrupt(first, err)
		}
		mine, err := s.store.ClaimPoll(ctx, r.Slot, r.Device)
		if s.op(OpClaim, err) != nil {
			return err
		}
		if !mine {
			s.log.Warn("store outage: another agent also polled this device in the slot", "device", r.Device, "slot", r.Slot)
		}
		return nil
	default:
		s.log.Warn("spool: record of an unknown kind skipped", "seq", first.Seq, "kind", first.Kind)
		return nil
	}
}

// corrupt: a record that does not decode cannot be stored by retrying;
// it is logged and skipped rather than holding up every record after it.
func (s *Spool) corrupt(e spool.Entry, err error) error {
	s.log.Error("spool: undecodable record skipped", "seq", e.Seq, "kind", e.Kind, "error", err)
	return nil
}

func (s *Spool) saveState(st spoolState) error {
	path := filepath.Join(s.dir, "runs.json")
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("spool state: %w", err)
	}
	_, err = f.Write(mustJSON(st))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("spool state: %w", err)
	}
	return nil
}

// flushPoll stores a poll and its history, as Auditor.save does when
// there is no spool.
func (s *Spool) flushPoll(ctx context.Context, g []spool.Entry) error {
	first := g[0]
	var r pollRecord
	if err := decode(first.Data, &r); err != nil {
		return s.corrupt(first, err)
	}
	p := zoned(r.Poll, r.Zone)
	if len(g) > 1 && g[1].Kind == kindLogs {
		if p.Snapshot == nil {
			p.Snapshot = &devices.Snapshot{}
		}
		if g[1].Dropped {
			var st logsStub
			if err := decode(g[1].Data, &st); err == nil {
				p.Snapshot.LogCursors = st.Cursors
				if st.Lines > 0 {
					// The note the operator sees: the poll is partial,
					// its error says which lines are missing.
					note := fmt.Sprintf("spool full during a store outage: %d log lines dropped (%s to %s)",
						st.Lines, st.First.Format(time.RFC3339), st.Last.Format(time.RFC3339))
					if p.Outcome == devices.OutcomeOK {
						p.Outcome, p.ErrorKind = devices.OutcomePartial, string(devices.OutcomePartial)
					}
					p.Error = joinNote(p.Error, note)
				}
			}
		} else {
			var lr logsRecord
			if err := decode(g[1].Data, &lr); err != nil {
				return s.corrupt(g[1], err)
			}
			p.Snapshot.Logs, p.Snapshot.LogCursors = lr.Lines, lr.Cursors
		}
	}
	s.mu.Lock()
	p.RunID = s.runs[r.Run]
	prog := s.progress
	s.mu.Unlock()
	if prog.seq != first.Seq {
		prog = flushProgress{seq: first.Seq}
	}
	if !prog.saved {
		if p.ExpectedREs == 0 {
			exp, err := ExpectedREs(ctx, s.store, inventory.Device{Name: p.Device, ExpectedREs: r.ExpectedREs}, p)
			if err != nil {
				return s.op(OpSavePoll, err)
			}
			p.ExpectedREs = exp
		}
		var err error
		if s.hist != nil {
			if prog.prev, err = s.store.LatestREPoll(ctx, p.Device); err != nil {
				return s.op(OpSavePoll, err)
			}
		}
		if err := s.op(OpSavePoll, s.store.SavePoll(ctx, &p)); err != nil {
			return err
		}
		prog.saved, prog.pollID = true, p.ID
		s.mu.Lock()
		s.progress = prog
		s.mu.Unlock()
	}
	p.ID = prog.pollID
	if s.hist != nil {
		if err := s.op(OpSavePoll, s.hist.Record(ctx, prog.prev, p)); err != nil {
			return err
		}
	}
	return nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Close closes the journal; the flusher must have stopped.
func (s *Spool) Close() error {
	s.writeStatus()
	return s.j.Close()
}

// RunID is the store's ID of the run with key run, once its start is
// flushed (0 before).
func (s *Spool) RunID(run int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.runs[run]; ok {
		return id
	}
	return s.finished[run]
}

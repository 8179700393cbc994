// Package schedule decides when and how devices are polled, and turns
// each poll into history. By file:
//
//   - poll.go: one device's poll (Poller): dial or reuse a session, the
//     RPCs, the decoders, the log tails read past their cursors;
//   - rotation.go: a log turned over since the last poll, read from its
//     archive (messages.0.gz) past the cursor, or noted as a gap;
//   - outcome.go: the outcome word a poll's error gets (ok, timeout,
//     refused, auth, hostkey, protocol, rpc-error, too-large);
//   - retry.go: which outcomes are retried, with jittered backoff inside
//     the device's deadline;
//   - sessions.go: the pool of persistent NETCONF sessions, kept alive
//     with SSH keepalives and never used by two polls at once;
//   - audit.go: a fleet audit (Auditor) over a bounded worker pool, with a
//     hard per-device deadline, the run stored around it and each store
//     operation reported (StoreOp);
//   - memory.go: what the auditor stored last about each device, so a
//     steady-state poll does not read it back;
//   - spool.go: the daemon's write path (Spool): runs, polls and log
//     lines appended to a local journal (store/spool) and flushed into the
//     store in order whenever it answers, so a store outage loses no poll;
//   - jitter.go: each device's fixed start offset within the spread;
//   - history.go: the Historian, which records what a poll adds to the
//     alive set's history (transitions, events, alarm lifecycle) and
//     judges findings with devices/correlate;
//   - expect.go: how many REs a device should have alive;
//   - cron.go, slot.go: schedules (robfig/cron, checked before the
//     library sees them), the runner that never overlaps audits, and the
//     slots several agents sharing a store agree on.
//
// Time is injected (Poller.Now); the decoders and the correlation it
// calls are pure.
package schedule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices/junos/syslog"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/netconf"
)

// Poller polls one device: it opens a NETCONF session, runs the poll's
// RPCs, decodes what came back and classifies how it ended.
type Poller struct {
	// Now is the clock; it stamps polls. Required.
	Now func() time.Time
	// Timeout overrides every device's own timeout when > 0.
	Timeout time.Duration
	// MaxReplyBytes limits one reply; 0 means the netconf default.
	MaxReplyBytes int64
	// Cursors says where each log file's reading stopped; nil reads every
	// log as on a first poll (the tail only).
	Cursors CursorSource
	// LogTail is how many lines a first read of a log takes (default 500)
	// and LogMaxBytes the most log text taken per file per poll (1 MiB).
	LogTail     int
	LogMaxBytes int
	Logger      *slog.Logger
	// Sessions keeps the sessions of "session: persistent" devices open
	// between polls; nil dials every device per poll.
	Sessions *SessionPool
	// KnownHosts shares parsed known_hosts files between polls; nil
	// parses the file on every dial (see netconf.KnownHostsCache).
	KnownHosts *netconf.KnownHostsCache
	// Readiness remembers each device's last read of the replication
	// state, read at most once per readiness.interval unless a reboot,
	// switchover or commit calls for it (schedule/readiness.go); nil reads
	// it at every poll.
	Readiness *ReadinessMemory
	// Refresh caches software and configuration between polls (issue
	// 17, refresh.go); nil reads them at every poll, as check does.
	Refresh *Refresher
	// LogWarnBytes: a log file read this poll that is bigger gets a note
	// (devices.Notes); zero means DefaultLogWarnBytes, negative never.
	LogWarnBytes int64
}

// DefaultLogWarnBytes is --log-warn-bytes' default.
const DefaultLogWarnBytes = 1 << 20

// CursorSource is the part of the store the poller reads cursors from.
type CursorSource interface {
	LogCursor(ctx context.Context, device, file string) (devices.LogCursor, bool, error)
}

// DefaultLogs are the log files read when the inventory names none.
var defaultLogFiles = []string{"messages", "mastership"}

// step is one RPC of a poll and where its decoded data goes.
type step struct {
	name   string // the RPC's element name, as operators know it
	body   string
	decode func(raw []byte, snap *devices.Snapshot) error
}

// pollSteps is the poll, in order: the device clock first (log lines are
// dated by it), then the RE table, without which nothing can be said about
// the alive set.
func pollSteps() []step {
	return []step{
		{"get-system-uptime-information", junos.RPCSystemUptime, func(raw []byte, s *devices.Snapshot) error {
			u, err := junos.DecodeSystemUptime(raw)
			if keptData(err) {
				// The clock of the members that answered is the clock:
				// the RE table says which members did not.
				err = nil
			}
			if err == nil {
				s.DeviceTime = u.CurrentTime
				s.DeviceZone = u.Location
				if u.LastConfigured != nil {
					s.LastConfigured = *u.LastConfigured
				}
			}
			return err
		}},
		{"get-route-engine-information", junos.RPCRouteEngine, func(raw []byte, s *devices.Snapshot) error {
			res, err := junos.DecodeRouteEngines(raw)
			s.RouteEngines = res
			return err
		}},
		{"get-alarm-information", junos.RPCChassisAlarms, func(raw []byte, s *devices.Snapshot) error {
			al, err := junos.DecodeAlarms(raw, devices.AlarmChassis)
			s.Alarms = append(s.Alarms, al...)
			return err
		}},
		{"get-system-alarm-information", junos.RPCSystemAlarms, func(raw []byte, s *devices.Snapshot) error {
			al, err := junos.DecodeAlarms(raw, devices.AlarmSystem)
			s.Alarms = append(s.Alarms, al...)
			return err
		}},
		{"get-configuration", junos.RPCRedundancyConfig, func(raw []byte, s *devices.Snapshot) error {
			c, err := junos.DecodeRedundancyConfig(raw)
			if err == nil || keptData(err) {
				s.Config = &c
			}
			return err
		}},
		// Every RE's release, not only the local one's: switchover
		// readiness compares them (issue 16).
		{"get-software-information", junos.RPCSoftwareAllREs, func(raw []byte, s *devices.Snapshot) error {
			sw, err := junos.DecodeSoftware(raw)
			s.Software = sw
			return err
		}},
	}
}

// DeviceTimeout is the hard deadline of one device's whole poll.
func (p *Poller) DeviceTimeout(d inventory.Device) time.Duration {
	switch {
	case p.Timeout > 0:
		return p.Timeout
	case d.Timeout > 0:
		return d.Timeout
	default:
		return 30 * time.Second
	}
}

// Poll polls one device and always returns a Poll: failures are results,
// classified in Outcome, never a Go error.
func (p *Poller) Poll(ctx context.Context, d inventory.Device) devices.Poll {
	log := p.logger().With("device", d.Name)
	poll := devices.Poll{Device: d.Name, Host: d.Host, Site: d.Site, Started: p.Now().UTC()}
	ctx, cancel := context.WithTimeout(ctx, p.DeviceTimeout(d))
	defer cancel()

	finish := func(outcome devices.Outcome, err error) devices.Poll {
		poll.Finished = p.Now().UTC()
		poll.Outcome = outcome
		if err != nil {
			poll.ErrorKind = string(Outcome(err))
			poll.Error = err.Error()
		}
		log.Debug("poll finished", "outcome", outcome, "duration", poll.Finished.Sub(poll.Started), "error", poll.Error)
		return poll
	}

	cfg, err := p.sessionConfig(d)
	if err != nil {
		// A device whose credentials cannot be read is an auth failure of
		// that device, not of the audit.
		poll.Finished = p.Now().UTC()
		poll.Outcome, poll.ErrorKind, poll.Error = devices.OutcomeAuth, string(devices.OutcomeAuth), err.Error()
		return poll
	}
	dial := func(ctx context.Context) (*netconf.Session, error) { return netconf.Dial(ctx, cfg) }
	persistent := d.Session == inventory.SessionPersistent && p.Sessions != nil
	key := sessionKey(d)
	var sess *netconf.Session
	reused := false
	if persistent {
		sess, reused, err = p.Sessions.Get(ctx, key, dial)
	} else {
		sess, err = dial(ctx)
	}
	if err != nil {
		return finish(Outcome(err), err)
	}
	// keep is set when the poll ends with the session still good; a panic
	// or any failure other than a device's rpc-error leaves it false.
	keep := false
	defer func() {
		if persistent {
			if keep && sess != nil {
				p.Sessions.Put(key, sess)
			} else {
				p.Sessions.Discard(key, sess)
			}
			return
		}
		// close-session gets its own short budget: the poll's deadline may
		// be spent, and a device that never answers it must not hold us —
		// nor push the poll past the audit's hard deadline, which would
		// throw away everything this poll read.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), closeBudget(ctx))
		defer ccancel()
		if err := sess.Close(cctx); err != nil {
			log.Debug("close session", "error", err)
		}
	}()

	snap := &devices.Snapshot{Device: d.Name}
	var failed []string
	var firstErr error
	succeeded := 0
	ok := make(map[string]bool)
	sessionGone := false
	sessionOK := true
	allUnknown := true // every failure so far: "no such RPC"
	fail := func(err error) {
		if !refusedAsUnknown(err) {
			allUnknown = false
		}
		var rpcErr *netconf.RPCError
		var decErr *decodeError
		if !errors.As(err, &rpcErr) && !errors.As(err, &decErr) {
			sessionOK = false
		}
		failed = append(failed, err.Error())
		if firstErr == nil {
			firstErr = err
		}
		if errors.Is(err, netconf.ErrSessionClosed) || ctx.Err() != nil || sess.Closed() {
			sessionGone = true // the remaining RPCs cannot run
		}
	}
	refresh := "" // why software and configuration are read; "" not decided yet
	for i, st := range pollSteps() {
		if sessionGone {
			break
		}
		if refreshed(st.name) {
			if refresh == "" {
				refresh = p.Refresh.Due(d.Name, p.signals(snap), p.Now())
			}
			if refresh == "" && p.fromCache(d.Name, snap) {
				ok[st.name] = true
				succeeded++
				continue
			}
		}
		reply, err := sess.RPC(ctx, st.body)
		if i == 0 && reused && err != nil && sess.Closed() && ctx.Err() == nil {
			// The router dropped the session while it was idle (EOF,
			// reset, ErrSessionClosed: the session broke, the poll's
			// time did not run out): dial once more and start over.
			log.Debug("persistent session was dropped while idle; redialling", "error", err)
			reused = false
			if sess, err = p.Sessions.replace(ctx, key, sess, dial); err != nil {
				return finish(Outcome(err), err)
			}
			reply, err = sess.RPC(ctx, st.body)
		}
		var rpcErr *netconf.RPCError
		switch {
		case err == nil:
			if err = st.decode(reply.Raw, snap); err != nil {
				err = &decodeError{rpc: st.name, err: err}
			}
		case errors.As(err, &rpcErr) && reply != nil && len(reply.Raw) > 0:
			// An error nested in one member's item of a multi-RE reply
			// comes with the other members' data: keep it. The RPC error
			// stays the news; a reply without data adds nothing to it.
			if derr := st.decode(reply.Raw, snap); derr == nil || keptData(derr) {
				fail(fmt.Errorf("%s: %w", st.name, err))
				succeeded++
				continue
			}
		}
		if err != nil {
			fail(fmt.Errorf("%s: %w", st.name, err))
			if keptData(err) {
				succeeded++ // partial data: some members answered
			}
			continue
		}
		ok[st.name] = true
		succeeded++
	}
	snap.AlarmsRead = ok["get-alarm-information"] && ok["get-system-alarm-information"]
	if refresh != "" && ok["get-configuration"] && ok["get-software-information"] {
		p.Refresh.Store(d.Name, snap.Software, snap.Config, p.signals(snap), p.Now())
	} else if refresh != "" {
		p.Refresh.Forget(d.Name) // read again at the next poll
	}
	files := logFiles(d)
	var listed map[string]junos.FileInfo
	if !sessionGone && len(files) > 0 {
		listed = p.describeLogs(ctx, sess, files)
	}
	for _, file := range files {
		if sessionGone {
			break
		}
		if err := p.readLog(ctx, sess, d, file, snap, listed); err != nil {
			fail(err)
			continue
		}
		succeeded++
	}
	if !sessionGone && ctx.Err() == nil {
		// Last: its triggers are in what the poll read (RE table, logs).
		p.readReplication(ctx, sess, d, snap)
	}
	snap.PolledAt = p.Now().UTC()
	keep = sessionOK && !sess.Closed()

	switch {
	case succeeded == 0 && firstErr != nil && allUnknown:
		// Not a broken Junos router: some other NETCONF server. Say so in
		// one line instead of a list of identical rpc-errors.
		err := &notJunosError{err: firstErr}
		return finish(Outcome(err), err)
	case succeeded == 0:
		return finish(Outcome(firstErr), firstErr)
	case len(failed) > 0:
		poll.Snapshot = snap
		poll.Finished = p.Now().UTC()
		poll.Outcome = devices.OutcomePartial
		poll.ErrorKind = string(Outcome(firstErr))
		if keptData(firstErr) {
			// A member that answered with an error or a notice instead
			// of data: the device's own answer, not a broken reply.
			poll.ErrorKind = string(devices.OutcomeRPCError)
		}
		poll.Error = strings.Join(failed, "; ")
		return poll
	default:
		poll.Snapshot = snap
		return finish(devices.OutcomeOK, nil)
	}
}

// refusedAsUnknown reports whether err is a device's rpc-error saying the
// RPC does not exist there: NETCONF's unknown-element, unknown-namespace
// or operation-not-supported, or Junos's own "syntax error".
func refusedAsUnknown(err error) bool {
	var rpcErr *netconf.RPCError
	if !errors.As(err, &rpcErr) {
		return false
	}
	switch rpcErr.Tag {
	case "unknown-element", "unknown-namespace", "operation-not-supported":
		return true
	case "operation-failed":
		return strings.Contains(rpcErr.Message, "syntax error")
	}
	return false
}

// notJunosError is a poll in which the device refused every RPC as
// unknown: it speaks NETCONF, but it is not Junos (or not the Junos the
// agent needs). It unwraps to the first rpc-error, so the outcome stays
// rpc-error.
type notJunosError struct{ err error }

func (e *notJunosError) Error() string {
	var rpcErr *netconf.RPCError
	errors.As(e.err, &rpcErr)
	return fmt.Sprintf("the device speaks NETCONF but does not implement the Junos RPCs (every RPC refused; %s: %s)",
		rpcErr.Tag, rpcErr.Message)
}

func (e *notJunosError) Unwrap() error { return e.err }

// keptData reports whether a decode error came with data worth keeping:
// some members of a multi-RE reply answered and others did not.
func keptData(err error) bool {
	var me *junos.MemberError
	return errors.As(err, &me)
}

// closeBudget is how long close-session may take: at most 2 s, and no
// longer than half the audit's slack past the poll's deadline.
func closeBudget(ctx context.Context) time.Duration {
	budget := 2 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, max(time.Until(dl)+hardDeadlineSlack/2, 50*time.Millisecond))
	}
	return budget
}

// sessionKey names a device's persistent session: a device whose address
// or user changes (an inventory reload) gets a new session.
func sessionKey(d inventory.Device) string {
	var b strings.Builder
	b.WriteString(d.Name + "\x00" + d.Username + "@" + net.JoinHostPort(d.Host, strconv.Itoa(d.Port)))
	// A new path to the router (another jump chain, ssh_config or
	// algorithms) is a new session too.
	for _, j := range d.Jump {
		fmt.Fprintf(&b, "\x00via %s@%s/%s:%d", j.Username, j.Name, j.Host, j.Port)
	}
	fmt.Fprintf(&b, "\x00%s\x00%t", d.SSHConfig, d.LegacyAlgorithms)
	return b.String()
}

func logFiles(d inventory.Device) []string {
	if d.Logs != nil {
		return d.Logs // an explicit empty list reads no logs
	}
	return defaultLogFiles
}

// readLog reads one log file with <get-log>, falling back to <file-show>
// on devices that refuse it, and keeps only the lines new since the
// cursor. Junos ignores "| last" over NETCONF, so the whole file comes
// back and the tail is cut here.
//
// listed is what "file list detail" said about the poll's log files (nil
// when it could not be asked): a file missing from it does not exist; a
// file whose size and time are the cursor's is not read at all, and its
// cursor is not rewritten.
func (p *Poller) readLog(ctx context.Context, sess *netconf.Session, d inventory.Device, file string, snap *devices.Snapshot, listed map[string]junos.FileInfo) error {
	info, described := listed[junos.LogPath(file)]
	if listed != nil && !described {
		return p.absentLog(ctx, d, file, snap, fmt.Errorf("file-list %s: %s: No such file or directory", file, junos.LogPath(file)))
	}
	var cur devices.LogCursor
	haveCursor := false
	if p.Cursors != nil {
		c, ok, err := p.Cursors.LogCursor(ctx, d.Name, file)
		if err != nil {
			return fmt.Errorf("log cursor of %s %s: %w", d.Name, file, err)
		}
		cur, haveCursor = c, ok
	}
	if described && haveCursor && len(cur.Tail) > 0 && !cur.ModTime.IsZero() &&
		cur.Size == info.Size && cur.ModTime.Equal(info.ModTime) {
		return nil // unchanged since the last read
	}
	if !haveCursor {
		cur = devices.LogCursor{Device: d.Name, File: file}
	}
	clock := syslog.DeviceClock{Now: snap.DeviceTime, Location: snap.DeviceZone}
	if clock.Now.IsZero() {
		clock.Now = p.Now()
	}
	parse := func(raw string) devices.LogLine { return syslog.ParseLine(file, raw, clock) }
	opt := syslog.TakeOptions{FirstTail: p.LogTail, MaxBytes: p.LogMaxBytes, Parse: parse,
		// A log only grows between rotations (issue 19: truncation).
		Shrunk: described && haveCursor && info.Size < cur.Size}
	// The reply streams through the taker; while it is small it is also
	// held whole, so that a rotation, seen only once the reply has ended,
	// needs no second read of the new file (a new file is short).
	held := &heldReply{limit: heldLogBytes}
	take, err := takeLog(ctx, sess, file, cur, opt, held)
	var rpcErr *netconf.RPCError
	if err != nil {
		if errors.As(err, &rpcErr) && junos.NoSuchFile(rpcErr.Message) {
			return p.absentLog(ctx, d, file, snap, err)
		}
		return err
	}
	size := take.Size
	if described {
		size = info.Size
	}
	if warn := cmp.Or(p.LogWarnBytes, DefaultLogWarnBytes); warn > 0 && size > warn {
		snap.LargeLogs = append(snap.LargeLogs, devices.LargeLog{File: junos.LogPath(file), Size: size})
	}
	lines, next, took := take.Lines, take.Next, take.Info
	if took.Rotated && !took.First {
		// The place is not in the file: read its archive (rotation.go).
		content, err := p.wholeLog(ctx, sess, file, held)
		if err != nil {
			return err
		}
		r, err := p.acrossRotation(ctx, sess, d, file, content, cur, opt, listed, rotationRead{lines: lines, next: next, took: took})
		if err != nil {
			return err
		}
		lines, next, took = r.lines, r.next, r.took
		if r.gap != nil {
			snap.LogGaps = append(snap.LogGaps, *r.gap)
		}
	}
	next.Device, next.File = d.Name, file
	next.Appended = !took.First && (!took.Rotated || took.Found)
	// The listing was taken before the content: if the file grew in
	// between, the next poll sees a new size and reads it again.
	next.Size, next.ModTime = 0, time.Time{}
	if described {
		next.Size, next.ModTime = info.Size, info.ModTime
	}
	// Dated across a change of the device's zone since the last read
	// (issue 19); the same as parse otherwise.
	parsed := syslog.ParseNewLines(file, lines, took.LastRead, cur.LastTime, clock)
	for i := len(parsed) - 1; i >= 0; i-- {
		if !parsed[i].Time.IsZero() {
			next.LastTime = parsed[i].Time
			break
		}
	}
	snap.Logs = append(snap.Logs, parsed...)
	snap.LogCursors = append(snap.LogCursors, next)
	return nil
}

// takeLog reads one log file with <get-log>, falling back to
// <file-show> on devices that refuse it, streaming the reply through a
// junos.LogTaker so that only the lines past cur are kept
// (netconf.Session.RPCStream), and reads it once more, thoroughly, in the
// one case the streaming read asks to (syslog.ErrReadAgain).
func takeLog(ctx context.Context, sess *netconf.Session, file string, cur devices.LogCursor, opt syslog.TakeOptions, held *heldReply) (junos.LogTake, error) {
	for attempt := 0; ; attempt++ {
		rpc := "get-log"
		lt := junos.NewLogTaker(cur, opt)
		held.reset()
		_, err := sess.RPCStream(ctx, junos.GetLogRPC(file), io.MultiWriter(lt, held))
		var rpcErr *netconf.RPCError
		if errors.As(err, &rpcErr) {
			rpc, lt = "file-show", junos.NewLogTaker(cur, opt)
			held.reset()
			_, err = sess.RPCStream(ctx, junos.FileShowRPC(file), io.MultiWriter(lt, held))
		}
		if err != nil {
			return junos.LogTake{}, fmt.Errorf("get-log %s: %w", file, err)
		}
		take, err := lt.Finish()
		if errors.Is(err, syslog.ErrReadAgain) && attempt == 0 {
			opt.Thorough = true
			continue
		}
		if err != nil {
			return junos.LogTake{}, fmt.Errorf("get-log %s: %w", file, &decodeError{rpc: rpc, err: err})
		}
		return take, nil
	}
}

// describeLogs asks "file list detail" about the poll's log files, in one
// RPC when they share a directory (FileListPattern), and returns what it
// said by absolute path. nil means the answer is unknown (a device that
// refuses file-list, an undecodable reply, files in several directories):
// every file is then read as before.
func (p *Poller) describeLogs(ctx context.Context, sess *netconf.Session, files []string) map[string]junos.FileInfo {
	pattern, ok := junos.FileListPattern(files)
	if !ok {
		return nil
	}
	return p.listFiles(ctx, sess, pattern)
}

// listFiles asks "file list detail" about pattern and returns what it
// said by absolute path; nil when it could not be asked or understood.
func (p *Poller) listFiles(ctx context.Context, sess *netconf.Session, pattern string) map[string]junos.FileInfo {
	reply, err := sess.RPC(ctx, junos.FileListRPC(pattern))
	if err != nil {
		p.logger().Debug("file-list not answered", "pattern", pattern, "error", err)
		return nil
	}
	infos, err := junos.DecodeFileList(reply.Raw)
	if err != nil {
		p.logger().Debug("file-list not understood", "pattern", pattern, "error", err)
		return nil
	}
	out := make(map[string]junos.FileInfo, len(infos))
	for _, f := range infos {
		out[f.Path] = f
	}
	return out
}

// refreshed reports whether an RPC is one the refresh cache may answer.
func refreshed(rpc string) bool {
	return rpc == "get-configuration" || rpc == "get-software-information"
}

// signals is what this poll has read so far that says whether software
// or configuration changed.
func (p *Poller) signals(snap *devices.Snapshot) Signals {
	return Signals{RouteEngines: snap.RouteEngines, LastConfigured: snap.LastConfigured}
}

// fromCache fills the snapshot's software and configuration from the
// refresh cache, and reports whether it could.
func (p *Poller) fromCache(device string, snap *devices.Snapshot) bool {
	c, ok := p.Refresh.Cached(device)
	if !ok || c.Config == nil || len(c.Software) == 0 {
		return false
	}
	if snap.Software == nil {
		snap.Software = slices.Clone(c.Software)
	}
	if snap.Config == nil {
		cfg := *c.Config
		snap.Config = &cfg
	}
	return true
}

// absentLog handles a log file the device says does not exist. A file
// the agent has never read (no cursor) is one the platform does not keep,
// such as /var/log/mastership on an SRX cluster: it is noted in the
// snapshot, and the poll is not partial for it, or such a router would
// read WARNING at every poll. A file that existed at an earlier poll and
// is gone now is a failure (notFound), since its lines may be lost.
func (p *Poller) absentLog(ctx context.Context, d inventory.Device, file string, snap *devices.Snapshot, notFound error) error {
	if p.Cursors != nil {
		_, existed, err := p.Cursors.LogCursor(ctx, d.Name, file)
		if err != nil {
			return fmt.Errorf("log cursor of %s %s: %w", d.Name, file, err)
		}
		if existed {
			return fmt.Errorf("get-log %s: the file was read at earlier polls and is gone: %w", file, notFound)
		}
	}
	snap.AbsentLogs = append(snap.AbsentLogs, file)
	return nil
}

// decodeError marks a reply that arrived but could not be understood.
type decodeError struct {
	rpc string
	err error
}

func (e *decodeError) Error() string { return "decode reply: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// sessionConfig turns an inventory device into netconf settings, reading
// its secrets (and its jump hosts' own) from the environment or files
// named in the inventory. With ssh_config, the port and known_hosts the
// inventory only defaulted are left empty, for ssh_config to fill.
func (p *Poller) sessionConfig(d inventory.Device) (netconf.Config, error) {
	creds, err := credentials(d.Auth)
	if err != nil {
		return netconf.Config{}, fmt.Errorf("credentials of %s: %w", d.Name, err)
	}
	policy, err := netconf.ParseHostKeyPolicy(d.HostKeyPolicy)
	if err != nil {
		return netconf.Config{}, fmt.Errorf("device %s: %w", d.Name, err)
	}
	cfg := netconf.Config{
		Host:             d.Host,
		Port:             d.Port,
		User:             d.Username,
		Credentials:      creds,
		KnownHostsFile:   d.KnownHosts,
		KnownHosts:       p.KnownHosts,
		HostKeyPolicy:    policy,
		MaxReplyBytes:    p.MaxReplyBytes,
		Logger:           p.logger().With("device", d.Name),
		SSHConfigFile:    d.SSHConfig,
		LegacyAlgorithms: d.LegacyAlgorithms,
	}
	if d.SSHConfig != "" {
		if !d.PortSet {
			cfg.Port = 0 // ssh_config's Port, else 830
		}
		if !d.KnownHostsSet {
			cfg.KnownHostsFile = "" // ssh_config's UserKnownHostsFile, else ~/.ssh/known_hosts
		}
	}
	for _, h := range d.Jump {
		j, err := jumpHost(d, h)
		if err != nil {
			return netconf.Config{}, err
		}
		cfg.Jump = append(cfg.Jump, j)
	}
	if d.Jump != nil && cfg.Jump == nil {
		cfg.Jump = []netconf.JumpHost{} // jump: none
	}
	if d.JumpHosts != nil {
		// The jump hosts ssh_config's ProxyJump names get their
		// jump_hosts settings, secrets read only when one is used.
		cfg.ProxyJumpHost = func(name string) (netconf.JumpHost, bool, error) {
			h, ok := d.JumpHosts[name]
			if !ok {
				return netconf.JumpHost{}, false, nil
			}
			j, err := jumpHost(d, h)
			return j, true, err
		}
	}
	return cfg, nil
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// credentials reads the secrets an inventory Auth points at.
func credentials(a inventory.Auth) (netconf.Credentials, error) {
	password, err := a.Password()
	if err != nil {
		return netconf.Credentials{}, err
	}
	passphrase, err := a.Passphrase()
	if err != nil {
		return netconf.Credentials{}, err
	}
	return netconf.Credentials{
		KeyFile:    a.PrivateKey,
		Passphrase: passphrase,
		Agent:      a.Agent,
		Password:   password,
	}, nil
}

// jumpHost turns one of a device's jump hosts into netconf's, reading its
// own secrets if it has any; without, netconf gives it the device's
// credentials.
func jumpHost(d inventory.Device, h inventory.JumpHost) (netconf.JumpHost, error) {
	j := netconf.JumpHost{Name: h.Name, Host: h.Host, Port: h.Port, User: h.Username, KnownHostsFile: h.KnownHosts}
	if h.HostKeyPolicy != "" {
		policy, err := netconf.ParseHostKeyPolicy(h.HostKeyPolicy)
		if err != nil {
			return netconf.JumpHost{}, fmt.Errorf("device %s: jump host %s: %w", d.Name, h.Name, err)
		}
		j.HostKeyPolicy = policy
	}
	if h.Auth.Configured() {
		c, err := credentials(h.Auth)
		if err != nil {
			return netconf.JumpHost{}, fmt.Errorf("credentials of jump host %s for %s: %w", h.Name, d.Name, err)
		}
		j.Credentials = &c
	}
	return j, nil
}

package junossim

import (
	"cmp"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// Log line shapes. Every line is built here, after the real samples in
// junos-samples/logs (file and line named beside each shape), so that the
// agent's parsers meet what real routers write:
//
//   - /var/log/messages: "Apr  3 08:27:50  DC-L36-GTWY04 sshd[30062]: ..."
//     (re-crash-context.log): month, space-padded day, time, TWO spaces,
//     the host name, "process[pid]:" ("/kernel:" has no pid), the text.
//   - /var/log/mastership: "Jan 12 21:50:18 failed to receive keepalives
//     ..." (mastership-file.log): time and text, no host, no process.
//   - Lines newsyslog and clear-log write straight into a file, not
//     through syslogd: "Jan 12 21:50:05 clear-log[865]: logfile cleared"
//     (mastership-file.log line 1), and FreeBSD newsyslog's "<time> <host>
//     newsyslog[pid]: logfile turned over", one space each.
//
// Timestamps are the router's local time from the injected clock, with
// no year, as Junos writes them; the agent takes the year from the
// current-time of get-system-uptime-information.
const stampLayout = "Jan _2 15:04:05"

// Timing of the lines an event writes after its own moment.
const (
	// rebootRejoin is how long a rebooted RE takes to come back into the
	// alive set. The RE table shows the new up-time at once (the kernel
	// boots at the event's time); the logs show it leave then, and rejoin
	// when its daemons are up.
	rebootRejoin = 2 * time.Minute
	// commitTakes separates UI_COMMIT from UI_COMMIT_COMPLETED.
	commitTakes = 3 * time.Second
	// keepaliveReport is how often the mastership log repeats the
	// keepalive-loss line: "every 20 s of keepalive loss a line is added
	// to /var/log/mastership" (REFERENCE §2; the sample's 60 then 80 sec).
	keepaliveReport = 20 * time.Second
	// rotatedGenerations is how many turned-over files (messages.0.gz ..)
	// a router keeps; the agent needs only the newest after a rotation.
	rotatedGenerations = 3
)

// logFile is one log file: its lines, oldest first, without newlines.
type logFile struct {
	lines   []string
	size    int       // bytes, each line with its newline
	modTime time.Time // last write, for junos:seconds
	// gzipSize is a turned-over file's size on disk, compressed: what
	// "file list detail" shows for messages.0.gz. Zero for a live file.
	gzipSize int
}

// diskSize is the size "file list detail" shows.
func (f *logFile) diskSize() int {
	if f.gzipSize > 0 {
		return f.gzipSize
	}
	return f.size
}

func (f *logFile) content() string {
	var b strings.Builder
	b.Grow(f.size)
	for _, l := range f.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// pendingAction is a log line (or a check that writes one) due after the
// event that caused it, applied when the clock passes it, in time order
// with the timeline.
type pendingAction struct {
	at  time.Time
	seq uint64
	do  func(at time.Time)
}

// initLogsLocked creates the log files the platform keeps (messages, and
// mastership unless the device has none), each starting with the line
// newsyslog wrote when it last turned the file over, at born.
func (r *Router) initLogsLocked(born time.Time) {
	r.logs = map[string]*logFile{}
	r.logsBorn = born
	files := []string{LogMessages}
	if r.mastershipLog {
		files = append(files, LogMastership)
	}
	for _, name := range files {
		f := &logFile{}
		r.logs[name] = f
		r.appendLocked(f, born, r.turnoverLine(born))
	}
}

// fillLocked writes routine lines into messages after its turnover line
// until it holds about n bytes, dated in the hour after born (before any
// event's lines, which start an hour after born at the earliest). The
// lines are real shapes: cron's CMD line and sshd's accepted login
// (re-crash-context.log).
func (r *Router) fillLocked(born time.Time, n int) {
	f := r.logs[LogMessages]
	if n <= 0 || f == nil {
		return
	}
	host := r.hostOf(r.loggingRE())
	for i := 0; f.size < n; i++ {
		at := born.Add(time.Duration(min(i/20, 3599)) * time.Second) // in time order
		line := r.stamp(at) + "  " + host + " cron[" + strconv.Itoa(10000+i%50000) + "]: (root) CMD (   /usr/libexec/atrun)"
		if i%2 == 1 {
			line = r.stamp(at) + "  " + host + " sshd[" + strconv.Itoa(20000+i%40000) + "]: Accepted publickey for netconf from 192.0.2.10 port " + strconv.Itoa(40000+i%20000) + " ssh2"
		}
		f.lines = append(f.lines, line)
		f.size += len(line) + 1
		f.modTime = at
	}
	// The cap keeps what was filled: it trims only what is added later.
	r.logMax = max(r.logMax, len(f.lines)+DefaultLogMaxLines)
}

// stamp is a log timestamp: "Mar  3 18:07:36", what the router's clock
// read in its zone at t, when the line was written.
func (r *Router) stamp(t time.Time) string { return r.dev.at(t).In(r.dev.zone(t)).Format(stampLayout) }

func (r *Router) turnoverLine(at time.Time) string {
	return r.stamp(at) + " " + r.hostOf(r.loggingRE()) + " newsyslog[" + strconv.Itoa(r.transientPID()) + "]: logfile turned over"
}

// appendLocked adds a line to f, dropping the oldest beyond the cap.
func (r *Router) appendLocked(f *logFile, at time.Time, line string) {
	f.lines = append(f.lines, line)
	f.size += len(line) + 1
	f.modTime = at
	if over := len(f.lines) - r.logMax; over > 0 {
		for _, l := range f.lines[:over] {
			f.size -= len(l) + 1
		}
		f.lines = slices.Delete(f.lines, 0, over)
	}
}

// writeLocked writes a line to a log file now, or schedules it when at is
// still ahead of the moment being applied. Lines from before the files
// began (an alarm raised a month before the start) were in files long
// rotated away, and are not written.
func (r *Router) writeLocked(at time.Time, file, line string) {
	if at.After(r.cursor) {
		r.scheduleLocked(at, func(time.Time) { r.writeLocked(at, file, line) })
		return
	}
	if at.Before(r.logsBorn) {
		return
	}
	f := r.logs[file]
	if f == nil {
		return // a file this platform does not keep (no /var/log/mastership)
	}
	r.appendLocked(f, at, line)
}

// scheduleLocked queues do for at, after anything already queued for the
// same moment.
func (r *Router) scheduleLocked(at time.Time, do func(time.Time)) {
	r.seq++
	i, _ := slices.BinarySearchFunc(r.pending, at, func(p pendingAction, t time.Time) int {
		if p.at.After(t) {
			return 1
		}
		return -1 // equal times sort before the new one
	})
	r.pending = slices.Insert(r.pending, i, pendingAction{at: at, seq: r.seq, do: do})
}

// syslogLocked writes a /var/log/messages line as the master writes it;
// proc is "alarmd[2030]" or "/kernel", or empty when text has its own.
func (r *Router) syslogLocked(at time.Time, proc, text string) {
	if proc != "" {
		text = proc + ": " + text
	}
	r.writeLocked(at, LogMessages, r.stamp(at)+"  "+r.hostOf(r.loggingRE())+" "+text)
}

// hostOf is the syslog host of lines st writes: the router's name, or
// with re_hostnames "re1-<name>" ("member0-re1-<name>", "node1-<name>").
func (r *Router) hostOf(st *reState) string {
	if !r.reHostnames {
		return r.host
	}
	return st.Name + "-" + r.host
}

// daemonLocked writes a messages line from a daemon of the master RE.
func (r *Router) daemonLocked(at time.Time, daemon, text string) {
	r.syslogLocked(at, daemon+"["+strconv.Itoa(r.daemonPID(daemon))+"]", text)
}

// mastershipLocked writes a /var/log/mastership line.
func (r *Router) mastershipLocked(at time.Time, text string) {
	r.writeLocked(at, LogMastership, r.stamp(at)+" "+text)
}

// loggingRE is the RE whose daemons write the lines: the master (the
// first one on a Virtual Chassis), else the first present RE.
func (r *Router) loggingRE() *reState {
	for _, st := range r.res {
		if st.IsMaster() {
			return st
		}
	}
	for _, st := range r.res {
		if st.Present() {
			return st
		}
	}
	return r.res[0]
}

// daemonPID is the process id of a daemon on the logging RE. It is fixed
// for one boot of that RE, and changes when the RE reboots or another RE
// takes over, as real daemon pids do; daemons start early, so their pids
// are small (alarmd[2030], craftd[1765] in alarms.log).
func (r *Router) daemonPID(daemon string) int {
	st := r.loggingRE()
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%s/%d/%s", r.hostname, r.seed, st.Name, st.BootTime.Unix(), daemon)
	return 1200 + int(h.Sum64()%8800)
}

// transientPID is the pid of a short-lived process (an mgd session,
// newsyslog, clear-log): each one is newer than the last.
func (r *Router) transientPID() int {
	if r.lastPID == 0 {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s/%d/pids", r.hostname, r.seed)
		r.lastPID = 10000 + int(h.Sum64()%40000)
	}
	r.lastPID += 1 + r.lastPID%97
	if r.lastPID > 99999 {
		r.lastPID = 10000 + r.lastPID%1000
	}
	return r.lastPID
}

// rotateLocked turns a log file over as newsyslog does: messages becomes
// messages.0.gz (older generations move up one), and the new file starts
// with newsyslog's line.
func (r *Router) rotateLocked(at time.Time, file string) {
	for g := rotatedGenerations - 1; g > 0; g-- {
		if f, ok := r.logs[rotatedName(file, g-1)]; ok {
			r.logs[rotatedName(file, g)] = f
		}
	}
	old := r.logs[file]
	// newsyslog compresses what it turns over; the listing shows that size.
	old.gzipSize = gzipSize(old.content())
	r.logs[rotatedName(file, 0)] = old
	f := &logFile{}
	r.logs[file] = f
	r.appendLocked(f, at, r.turnoverLine(at))
}

func rotatedName(file string, g int) string { return file + "." + strconv.Itoa(g) + ".gz" }

// isRotatedName reports whether base names a turned-over file,
// "messages.0.gz".
func isRotatedName(base string) bool {
	stem, ok := strings.CutSuffix(base, ".gz")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(stem, '.')
	if i < 0 {
		return false
	}
	_, err := strconv.Atoi(stem[i+1:])
	return err == nil
}

// gzipSize is the length of text gzip-compressed.
func gzipSize(text string) int {
	var n countWriter
	zw := gzip.NewWriter(&n)
	// Writing to a counter cannot fail.
	_, _ = zw.Write([]byte(text))
	_ = zw.Close()
	return int(n)
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// replaceLocked puts an older, shorter copy of a log file in its place,
// as restoring a backup does: its first keep lines, so it starts with the
// same line.
func (r *Router) replaceLocked(at time.Time, file string, keep int) {
	old := r.logs[file]
	if old == nil {
		return
	}
	f := &logFile{lines: slices.Clone(old.lines[:min(keep, len(old.lines))]), modTime: at}
	for _, l := range f.lines {
		f.size += len(l) + 1
	}
	r.logs[file] = f
}

// clearLocked empties a log file as "clear log" does, leaving clear-log's
// own line (mastership-file.log line 1).
func (r *Router) clearLocked(at time.Time, file string) {
	f := &logFile{}
	r.logs[file] = f
	r.appendLocked(f, at, r.stamp(at)+" clear-log["+strconv.Itoa(r.transientPID())+"]: logfile cleared")
}

// resolveLog maps a get-log or file-show file name to a log file: get-log
// takes "messages" or "/var/log/messages"; file-show resolves a relative
// name against the user's home directory, so it needs the full path.
func (r *Router) resolveLog(name string, fullPathOnly bool) (string, *logFile) {
	base, full := strings.CutPrefix(name, "/var/log/")
	if !full && fullPathOnly {
		return "", nil
	}
	if f, ok := r.logs[base]; ok && base != "" {
		return base, f
	}
	return "", nil
}

// Log returns the lines of a log file ("messages", "mastership",
// "messages.0.gz", or the same under /var/log/), oldest first, and whether
// the file exists.
func (r *Router) Log(name string) ([]string, bool) {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advanceLocked(now)
	_, f := r.resolveLog(name, false)
	if f == nil {
		return nil, false
	}
	return slices.Clone(f.lines), true
}

// reView is what the alive-set and mastership lines compare before and
// after a state change.
type reView struct{ alive, master bool }

func (r *Router) viewLocked() []reView {
	v := make([]reView, len(r.res))
	for i, st := range r.res {
		v[i] = reView{alive: st.alive(), master: st.IsMaster()}
	}
	return v
}

// alive mirrors devices.RouteEngine.Alive: present, status OK or Testing,
// and master, backup or no mastership at all.
func (s *reState) alive() bool {
	switch strings.ToLower(s.Status) {
	case "", "ok", "testing":
	default:
		return false
	}
	switch strings.ToLower(s.MastershipState) {
	case "", "master", "backup":
		return true
	}
	return false
}

// aliveGroups returns the REs that share an alive set: each member's pair
// on an MX Virtual Chassis, the whole router otherwise (an SRX cluster's
// two nodes watch each other).
func (r *Router) aliveGroups() [][]int {
	if r.topo != TopologyMXVC {
		all := make([]int, len(r.res))
		for i := range r.res {
			all[i] = i
		}
		return [][]int{all}
	}
	var groups [][]int
	for _, m := range members(r.topo) {
		var g []int
		for i, st := range r.res {
			if st.Member == m {
				g = append(g, i)
			}
		}
		groups = append(groups, g)
	}
	return groups
}

// changeLocked runs a state change and writes the lines a real router
// writes about it: the mastership state machine in /var/log/mastership
// and the alive-set line in /var/log/messages. The router keeps one of
// each file, the master's, which is the one get-log reads: every line is
// written from the point of view of the RE that is master after the
// change, so that an agent can take "new state = master" to be about the
// RE it is talking to. rebooted, if not nil, is an RE that reboots: it
// leaves the alive set now and rejoins rebootRejoin later, though the RE
// table shows it up at once.
func (r *Router) changeLocked(at time.Time, rebooted *reState, change func() error) error {
	before := r.viewLocked()
	if err := change(); err != nil {
		return err
	}
	after := r.viewLocked()
	for _, g := range r.aliveGroups() {
		if len(g) < 2 {
			continue // a lone RE has no other RE to lose or find
		}
		var left, joined []*reState
		var oldMaster, newMaster *reState
		survivor := false
		for _, i := range g {
			st, b, a := r.res[i], before[i], after[i]
			switch {
			case st == rebooted && b.alive:
				left = append(left, st)
			case b.alive && !a.alive:
				left = append(left, st)
			case !b.alive && a.alive:
				joined = append(joined, st)
			}
			if b.master && !a.master {
				oldMaster = st
			}
			if !b.master && a.master {
				newMaster = st
			}
			if a.alive && st != rebooted {
				survivor = true
			}
		}
		// Only the pair of the RE that logs writes to its mastership log:
		// on a Virtual Chassis, another member's pair has its own, which
		// the agent does not read (it would take the lines for the VC
		// master's partner). The alive-set line names the RE, so every
		// member's goes into messages.
		writer := r.loggingRE()
		pair := (r.res[g[0]].MastershipState != "" || r.res[g[1]].MastershipState != "") &&
			slices.ContainsFunc(g, func(i int) bool { return r.res[i] == writer })
		for _, st := range left {
			if pair && survivor {
				// The surviving RE's state machine: it saw no other RE,
				// and stays master or takes over.
				state := "master"
				if st == oldMaster && newMaster != nil {
					state = "backup"
				}
				r.mastershipLocked(at, "event = E_NO_ORE, state = "+state+", param = 0x0")
				r.mastershipLocked(at, "new state = master")
			}
			r.aliveSetLocked(at, st, false)
			if st == rebooted {
				boot := st.BootTime
				r.scheduleLocked(at.Add(rebootRejoin), func(t time.Time) {
					// Not if it went down or rebooted again meanwhile.
					if st.alive() && st.BootTime.Equal(boot) {
						r.joinedLocked(t, st, pair)
					}
				})
			}
		}
		if len(left) == 0 && oldMaster != nil && newMaster != nil && pair {
			// A switchover with both REs up, as the new master's state
			// machine writes it: it sees the other RE turn backup and
			// takes over. The old master's side (the sample's E_CMD_R and
			// "new state = backup") is in the old master's own file, which
			// the agent, reading the master's, does not see.
			r.mastershipLocked(at, "event = E_ORE_B, state = backup, param = 0x0")
			r.mastershipLocked(at, "new state = master")
		}
		for _, st := range joined {
			r.joinedLocked(at, st, pair)
		}
	}
	return nil
}

// joinedLocked writes the lines of an RE coming (back) into the alive set.
func (r *Router) joinedLocked(at time.Time, st *reState, pair bool) {
	if pair {
		if st.IsMaster() {
			r.mastershipLocked(at, "event = E_NO_ORE, state = backup, param = 0x0")
		} else {
			r.mastershipLocked(at, "event = E_ORE_B, state = master, param = 0x0")
		}
		r.mastershipLocked(at, "new state = master")
	}
	r.aliveSetLocked(at, st, true)
}

// aliveSetLocked writes the project's own alive-set line. No public Junos
// material shows "mcontrol_ore_alive_set" (FINDINGS-mcontrol_ore_alive_set.md),
// so its shape is the project's: chassisd, the tag, the RE's full name, and
// the reason in parentheses on removal. The reason is always "keepalive
// timeout" (how the master notices), so it tells nothing about the cause.
func (r *Router) aliveSetLocked(at time.Time, st *reState, added bool) {
	if !r.aliveSetLog {
		return
	}
	text := "mcontrol_ore_alive_set: " + st.Name + " removed from alive set (keepalive timeout)"
	if added {
		text = "mcontrol_ore_alive_set: " + st.Name + " added to alive set"
	}
	r.daemonLocked(at, "chassisd", text)
}

// alarmLinesLocked writes alarmd's and craftd's lines for an alarm set or
// cleared, as alarms.log: "alarmd[2449]: Alarm set: Pwr supply
// color=YELLOW, class=CHASSIS, reason=PEM 1 Fan Failed" and "craftd[4817]:
// Major alarm set, ..." — craftd puts two spaces before the class on set
// lines (MANIFEST pitfall 17; three of the four real sources) and one on
// cleared lines.
func (r *Router) alarmLinesLocked(at time.Time, a devices.Alarm, set bool) {
	color := "YELLOW"
	if a.IsMajor() {
		color = "RED"
	}
	class := "CHASSIS"
	if a.Source == devices.AlarmSystem {
		class = "SYSTEM"
	}
	// syslogLocked puts one space after the colon; craftd's set lines
	// have one more.
	verb, sep := "set", " "
	if !set {
		verb, sep = "cleared", ""
	}
	r.daemonLocked(at, "alarmd", fmt.Sprintf("Alarm %s: %s color=%s, class=%s, reason=%s",
		verb, alarmComponent(a), color, class, a.Description))
	r.syslogLocked(at, "craftd["+strconv.Itoa(r.daemonPID("craftd"))+"]", fmt.Sprintf("%s%s alarm %s, %s",
		sep, a.Class, verb, a.Description))
}

// alarmComponent is the FRU word alarmd puts before color=: "Pwr supply"
// for PEM alarms, "FPC", "CB", "RE" as in alarms.log; "Fan" has no sample.
func alarmComponent(a devices.Alarm) string {
	d := strings.ToLower(a.Description)
	switch {
	case strings.HasPrefix(d, "pem") || strings.Contains(d, "power supply"):
		return "Pwr supply"
	case strings.HasPrefix(d, "fpc"):
		return "FPC"
	case strings.HasPrefix(d, "cb "):
		return "CB"
	case strings.HasPrefix(d, "fan"):
		return "Fan"
	case strings.HasPrefix(d, "re ") || strings.HasPrefix(d, "routing engine") ||
		strings.Contains(d, "backup re") || strings.HasPrefix(d, "host "):
		return "RE"
	case strings.HasPrefix(d, "license"):
		return "License"
	}
	return cmp.Or(a.Type, "Chassis")
}

// FRU kinds a fru event can name.
const (
	fruPEM = "PEM"
	fruFPC = "FPC"
	fruFan = "Fan Tray"
	fruCB  = "CB"
	fruRE  = "RE"
)

// parseFRU reads "PEM 1", "FPC 3", "Fan Tray 0", "CB 0", "RE 1" (or
// "Routing Engine 1").
func parseFRU(s string) (kind string, slot int, ok bool) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 0 || n > 99 {
		return "", 0, false
	}
	switch strings.ToLower(s[:i]) {
	case "pem":
		return fruPEM, n, true
	case "fpc":
		return fruFPC, n, true
	case "fan tray":
		return fruFan, n, true
	case "cb":
		return fruCB, n, true
	case "re", "routing engine":
		return fruRE, n, true
	}
	return "", 0, false
}

func isTempAction(a string) bool { return a == "warm-temp" || a == "over-temp" || a == "shutdown" }

// fruTrapFields is the jnxFru* part of a CHASSISD_SNMP_TRAP line, as
// fpc-fru.log. Container indexes and jnxFruType codes follow JUNIPER-MIB
// (jnxFruType: flexiblePicConcentrator 3, controlBoard 5, routingEngine
// 6, powerEntryModule 7, fan 13); only the FPC and MIC ones appear in the
// samples. jnxFruL1Index is the slot plus one, as in the samples.
func fruTrapFields(kind string, slot int) string {
	var contents, typ int
	var name string
	switch kind {
	case fruFPC:
		contents, typ, name = 7, 3, fmt.Sprintf("FPC: MPC7E 3D 40XGE @ %d/*/*", slot)
	case fruPEM:
		contents, typ, name = 2, 7, fmt.Sprintf("PEM %d", slot)
	case fruFan:
		contents, typ, name = 4, 13, fmt.Sprintf("Fan Tray %d", slot)
	case fruCB:
		contents, typ, name = 12, 5, fmt.Sprintf("CB %d", slot)
	default:
		contents, typ, name = 9, 6, fmt.Sprintf("Routing Engine %d", slot)
	}
	return fmt.Sprintf("jnxFruContentsIndex %d, jnxFruL1Index %d, jnxFruL2Index 0, jnxFruL3Index 0, jnxFruName %s, jnxFruType %d, jnxFruSlot %d",
		contents, slot+1, name, typ, slot)
}

// fruLocked writes the chassisd lines of a fru event.
func (r *Router) fruLocked(at time.Time, ev Event) error {
	kind, slot, ok := parseFRU(ev.FRU)
	if !ok {
		return fmt.Errorf("bad fru %q", ev.FRU)
	}
	name := kind + " " + strconv.Itoa(slot)
	// jnxFruLastPowerOff/On are chassis up-time in hundredths of a second.
	var chassisBoot time.Time
	for _, st := range r.res {
		if chassisBoot.IsZero() || st.BootTime.Before(chassisBoot) {
			chassisBoot = st.BootTime
		}
	}
	ticks := func(t time.Time) int64 { return max(0, int64(t.Sub(chassisBoot)/(10*time.Millisecond))) }
	poweredOn := ticks(chassisBoot.Add(90 * time.Second))
	trap := func(n int, what, extra string) {
		r.daemonLocked(at, "chassisd", fmt.Sprintf("CHASSISD_SNMP_TRAP%d: SNMP trap generated: FRU %s (%s%s)",
			n, what, fruTrapFields(kind, slot), extra))
	}
	switch action := cmp.Or(ev.Action, "offline"); action {
	case "offline":
		reason := cmp.Or(ev.Text, "Error")
		// jnxFruOfflineReason: error(3), cliCommand(7) as in the sample.
		code := 3
		if strings.Contains(strings.ToLower(reason), "cli") {
			code = 7
		}
		r.daemonLocked(at, "chassisd", "CHASSISD_FRU_OFFLINE_NOTICE: Taking "+name+" offline: "+reason)
		trap(10, "power off", fmt.Sprintf(", jnxFruOfflineReason %d, jnxFruLastPowerOff %d, jnxFruLastPowerOn %d", code, ticks(at), poweredOn))
	case "power-off":
		trap(10, "power off", fmt.Sprintf(", jnxFruOfflineReason 3, jnxFruLastPowerOff %d, jnxFruLastPowerOn %d", ticks(at), poweredOn))
	case "online", "power-on":
		trap(10, "power on", fmt.Sprintf(", jnxFruOfflineReason 2, jnxFruLastPowerOff 0, jnxFruLastPowerOn %d", ticks(at)))
	case "removal", "insertion":
		trap(7, action, "")
	case "warm-temp", "over-temp", "shutdown":
		// CHASSISD_RE_* templates of the Junos System Log Messages
		// Reference (REFERENCE §1), filled in.
		st := r.reInSlotLocked(slot, ev.Member)
		c := ev.Celsius
		switch action {
		case "warm-temp":
			c = cmp.Or(c, 78)
			r.daemonLocked(at, "chassisd", fmt.Sprintf("CHASSISD_RE_WARM_TEMP_CONDITION: Routing Engine %d temperature (%d C) is above warm temperature limit (75 C)", slot, c))
		case "over-temp":
			c = cmp.Or(c, 92)
			r.daemonLocked(at, "chassisd", fmt.Sprintf("CHASSISD_RE_OVER_TEMP_WARNING: Routing Engine %d temperature (%d C) over 85 degrees C, component will shutdown in 240 seconds if condition persists", slot, c))
		default:
			c = cmp.Or(c, 95)
			r.daemonLocked(at, "chassisd", fmt.Sprintf("CHASSISD_RE_OVER_TEMP_SHUTDOWN: Routing Engine %d temperature above 85 degrees C for too long; shutting down", slot))
		}
		if st != nil {
			st.tempC = c
			st.cpuTempC = c + 3
		}
	}
	return nil
}

// reInSlotLocked is the RE in slot n (of member, or the first member).
func (r *Router) reInSlotLocked(n int, member string) *reState {
	if ms := members(r.topo); ms != nil && member == "" {
		member = ms[0]
	}
	for _, st := range r.res {
		if st.Slot == n && (member == "" || st.Member == member) {
			return st
		}
	}
	if r.topo == TopologySingle && n == 0 {
		return r.res[0]
	}
	return nil
}

// ifIndexLocked gives each interface a stable SNMP ifIndex: em0 is 17 as
// in both internal-link.log captures, revenue ports count from 502 as in
// link.log.
func (r *Router) ifIndexLocked(ifName string) int {
	if n, ok := r.ifIndex[ifName]; ok {
		return n
	}
	var n int
	if rest, ok := strings.CutPrefix(ifName, "em"); ok {
		if k, err := strconv.Atoi(rest); err == nil {
			n = 17 + k
		}
	}
	if n == 0 {
		n = 502 + r.revenuePorts
		r.revenuePorts++
	}
	r.ifIndex[ifName] = n
	return n
}

// linkFlapLocked writes a port going down at at and up again after d:
// mib2d's traps (link.log, internal-link.log) and, for the internal em
// ports, the kernel's lines (KB13389 in internal-link.log).
func (r *Router) linkFlapLocked(at time.Time, ifName string, d time.Duration, internal bool) {
	idx := r.ifIndexLocked(ifName)
	up := at.Add(d)
	if internal {
		r.syslogLocked(at, "/kernel", ifName+": Link is Down")
	}
	r.daemonLocked(at, "mib2d", fmt.Sprintf("SNMP_TRAP_LINK_DOWN: ifIndex %d, ifAdminStatus up(1), ifOperStatus down(2), ifName %s", idx, ifName))
	r.scheduleOrRun(up, func(t time.Time) {
		if internal {
			r.syslogLocked(t, "/kernel", ifName+": Link is up 100 Mbps Half Duplex")
		}
		r.daemonLocked(t, "mib2d", fmt.Sprintf("SNMP_TRAP_LINK_UP: ifIndex %d, ifAdminStatus up(1), ifOperStatus up(1), ifName %s", idx, ifName))
	})
}

// scheduleOrRun runs do at at: now if at is not ahead of the moment being
// applied, else when the clock gets there. Lines that depend on the state
// at their own time (which daemon pid writes them) go through it.
func (r *Router) scheduleOrRun(at time.Time, do func(time.Time)) {
	if at.After(r.cursor) {
		r.scheduleLocked(at, do)
		return
	}
	do(at)
}

// keepaliveLossLocked writes the mastership log's keepalive-loss lines
// (mastership-file.log): every 20 s of loss from at, for d.
func (r *Router) keepaliveLossLocked(at time.Time, d time.Duration) {
	n := int(d / keepaliveReport)
	if n == 0 {
		r.mastershipLocked(at.Add(d), fmt.Sprintf("failed to receive keepalives from other RE for the last %d sec", int(d/time.Second)))
		return
	}
	for k := 1; k <= n; k++ {
		t := at.Add(time.Duration(k) * keepaliveReport)
		r.mastershipLocked(t, fmt.Sprintf("failed to receive keepalives from other RE for the last %d sec", k*int(keepaliveReport/time.Second)))
		if k == 1 {
			r.mastershipLocked(t, "failed to send RE info/keepalive: errno=22, total=6 in the last 20 sec")
		}
	}
}

// masterStateLocked is the mastership state of the RE that writes the
// mastership log.
func (r *Router) masterStateLocked() string {
	if st := r.loggingRE(); st.IsMaster() {
		return "master"
	}
	return "backup"
}

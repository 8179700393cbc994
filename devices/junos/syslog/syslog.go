package syslog

import (
	"path"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// DeviceClock is what dating a syslog line needs from the device. Classic
// syslog timestamps carry neither a year nor a zone, so both come from the
// device (SystemUptime.CurrentTime and .Location), never from the agent:
// the two clocks can disagree by hours, and a wrong year moves a line by a
// year.
type DeviceClock struct {
	// Now is the device's current time (get-system-uptime-information's
	// current-time). Zero means unknown: lines without a year then keep a
	// zero Time, because guessing would misplace them.
	Now time.Time
	// Location is the device's zone, in which it writes its timestamps;
	// nil means UTC.
	Location *time.Location
}

func (c DeviceClock) location() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// maxFuture is how far ahead of the device clock a year-less line may
// seem before it is taken to be from the previous year. A day covers a
// clock a little behind the line and any zone confusion, while a
// December line read in January (eleven months ahead in the current year)
// lands in the previous year.
const maxFuture = 24 * time.Hour

// ParseLine reads one line of a Junos log file. It accepts every shape
// seen in the captured samples:
//
//	[<PRI>]TIMESTAMP [HOST] [PROCESS[PID]:|PROCESS:|:] [%FAC-SEV[-TAG]:] [TAG:] MESSAGE
//
// with TIMESTAMP one of
//   - "Mmm dd HH:MM:SS", the day space-padded or not, optionally with
//     ".mmm" fractions and a trailing year ("Jan 18 02:59:24.466 2026");
//     without a year the year is inferred from clock (see classic.date);
//   - ISO 8601 ("2020-03-31T08:41:59+00:00"), the offset honoured, or the
//     device's zone when there is none;
//   - "HH:MM:SS" alone, as left by a web page that elided the date. Such a
//     line is parsed only when a host and process follow, and keeps a zero
//     Time: it cannot be dated.
//
// RFC 5424 lines ("<165>1 2007-02-15T09:17:15.719Z router1 mgd 3046
// UI_DBASE_LOGOUT_EVENT [junos@2636… username="regress"] User …"), which
// Junos writes for a file with the structured-data option, are read too:
// none is in the captures, but a fleet may have the option set, and the
// fields map one to one.
//
// The host is absent in /var/log/mastership ("Jan 12 21:50:18 failed to
// receive keepalives …") and in engineers' pastes ("Mar 14 00:21:12
// CHASSISD_FRU_OFFLINE_NOTICE: …"); a first word is taken as the host only
// when a process, a PFE "%" marker (" : %PFE-3:") or a PFE component
// ("fpc0") follows it, so free text is not split into host and process,
// and never in the file "mastership" (see hostlessFile).
//
// Tags: the part after the second dash of an explicit-priority marker
// ("%DAEMON-3-CHASSISD_FPC_ASIC_ERROR:"), otherwise a word ending in ':'
// that is upper case with underscores ("UI_COMMIT:",
// "RT_FLOW_SESSION_CLOSE:"), or a lower-case tag from a short known list
// (see knownLowerTag). Lower-case words with underscores in general are
// not tags: daemons print their C function names that way ("bgp_recv:",
// "tcp_auth_ok:", "bgp_handle_notify:4236:"), and taking those as tags
// would cut them off the message that rules match on.
//
// Times are returned in UTC. A line that has none of these shapes comes
// back with Parsed false and only File and Raw set; it is never dropped.
// ParseLine does not panic on any input.
func ParseLine(file, raw string, clock DeviceClock) devices.LogLine {
	line := devices.LogLine{File: file, Raw: raw}
	s := stripPRI(trimBlanks(raw))

	// RFC 5424, written when a file has the structured-data option:
	// "<165>1 2007-02-15T09:17:15.719Z router1 mgd 3046 UI_DBASE_LOGOUT_EVENT
	// [junos@2636.1.1.1.2.18 username="regress"] User 'regress' exiting …".
	if r, ok := strings.CutPrefix(s, "1 "); ok {
		if t, r, ok := scanISO(trimBlanks(r), clock.location()); ok {
			if b, ok := parseStructured(r); ok {
				line.Time = t.UTC()
				line.Host, line.Process, line.PID, line.Tag, line.Message = b.host, b.process, b.pid, b.tag, b.msg
				line.Parsed = true
			}
			return line
		}
	}

	var (
		t        time.Time
		rest     string
		dateless bool
	)
	if c, r, ok := scanClassic(s); ok {
		var valid bool
		if t, valid = c.date(clock); !valid {
			return line
		}
		rest = r
	} else if it, r, ok := scanISO(s, clock.location()); ok {
		t, rest = it, r
	} else if _, r, ok := scanClock(s); ok && (r == "" || isBlank(r[0])) {
		rest, dateless = r, true
	} else {
		return line
	}
	if dateless && hostlessFile(file) {
		return line
	}
	b, ok := parseBody(rest, dateless, hostlessFile(file))
	if !ok {
		return line
	}
	if !t.IsZero() {
		line.Time = t.UTC()
	}
	line.Host, line.Process, line.PID, line.Tag, line.Message = b.host, b.process, b.pid, b.tag, b.msg
	line.Parsed = true
	return line
}

// body is what follows the timestamp.
type body struct {
	host, process string
	pid           int
	tag, msg      string
}

// parseBody splits what follows the timestamp into host, process, tag and
// message. needHost is set for the dateless shape: a bare time of day
// followed by free text is too weak to call a log line. noHost is set for
// files that have no host field.
func parseBody(rest string, needHost, noHost bool) (body, bool) {
	var b body
	s := trimBlanks(rest)
	tok1, after1 := cutToken(s)

	// No host: "clear-log[865]: logfile cleared" (mastership log) and
	// "CHASSISD_FRU_OFFLINE_NOTICE: …" (pastes with host and process
	// removed). Only a process with a PID counts here: a bare "word:" with
	// no host is message text ("Currentstate: master …").
	if !needHost {
		if name, pid, ok := processToken(tok1, true); ok {
			b.process, b.pid = name, pid
			b.tag, b.msg = tagAndMessage(after1)
			return b, true
		}
		if tag, ok := tagToken(tok1); ok {
			b.tag, b.msg = tag, strings.TrimSpace(after1)
			return b, true
		}
	}

	if !noHost && isHost(tok1) {
		tok2, after2 := cutToken(trimBlanks(after1))
		switch name, pid, isProc := processToken(tok2, false); {
		case tok2 == ":":
			// PFE lines: "SELLB-ER4 : %PFE-5: fpc1 …" have no process.
			b.host = tok1
			b.tag, b.msg = tagAndMessage(after2)
			return b, true
		case isProc:
			b.host, b.process, b.pid = tok1, name, pid
			b.tag, b.msg = tagAndMessage(after2)
			return b, true
		case isPFEComponent(tok2):
			// "some-switch fpc0 (buf alloc) failed …": a line card logs
			// through the RE with its name and no colon.
			b.host, b.process = tok1, tok2
			b.tag, b.msg = tagAndMessage(after2)
			return b, true
		}
	}
	if needHost {
		return b, false
	}
	// The mastership log: timestamp and free text.
	b.msg = strings.TrimSpace(s)
	return b, true
}

// parseStructured reads the RFC 5424 fields after the timestamp:
// HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG], "-" for a field
// left out. Junos puts its tag in MSGID and the tag's parameters in the
// structured data, which the message repeats in words, so the structured
// data is skipped.
func parseStructured(rest string) (body, bool) {
	var b body
	var f [4]string
	s := rest
	for i := range f {
		f[i], s = cutToken(trimBlanks(s))
		if f[i] == "" {
			return b, false
		}
		if f[i] == "-" {
			f[i] = ""
		}
	}
	b.host, b.process, b.tag = f[0], f[1], f[3]
	b.pid, _ = decimal(f[2], 1, 9)
	s = trimBlanks(s)
	switch {
	case strings.HasPrefix(s, "-"):
		s = s[1:]
	case strings.HasPrefix(s, "["):
		var ok bool
		if s, ok = skipStructuredData(s); !ok {
			return b, false
		}
	default:
		return b, false
	}
	if s != "" && !isBlank(s[0]) {
		return b, false
	}
	b.msg = strings.TrimSpace(strings.TrimPrefix(trimBlanks(s), "\uFEFF"))
	return b, true
}

// skipStructuredData skips one or more "[id key="value" …]" elements.
// Inside quotes, '\' escapes '"', ']' and itself.
func skipStructuredData(s string) (string, bool) {
	for strings.HasPrefix(s, "[") {
		i, quoted := 1, false
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && quoted {
				i++
				continue
			}
			if c == '"' {
				quoted = !quoted
			} else if c == ']' && !quoted {
				break
			}
		}
		if i >= len(s) {
			return s, false
		}
		s = s[i+1:]
	}
	return s, true
}

// hostlessFile reports whether lines of file have no host field, so that
// free text is never taken for one. /var/log/mastership is written without
// host (MANIFEST pitfall 18), and its messages are sentences whose second
// word can end in ':' ("Jan 12 21:50:34 new state: …" would otherwise read
// as host "new", process "state"). In other files such a line still reads
// that way: there the host-process shape is the norm.
func hostlessFile(file string) bool {
	return path.Base(file) == "mastership"
}

// tagAndMessage reads an optional explicit-priority marker and an optional
// tag off the front of s, and returns the tag and the trimmed rest.
func tagAndMessage(s string) (tag, msg string) {
	tok, after := cutToken(trimBlanks(s))
	if t, ok := priorityToken(tok); ok {
		tag, s = t, after
		tok, after = cutToken(trimBlanks(s))
	}
	if tag == "" {
		if t, ok := tagToken(tok); ok {
			tag, s = t, after
		}
	}
	return tag, strings.TrimSpace(s)
}

// processToken reads "name[pid]:" or, unless needPID, "name:". Names are
// daemon names or paths ("mgd", "clear-log", "/kernel", "RT_FLOW").
func processToken(tok string, needPID bool) (name string, pid int, ok bool) {
	if len(tok) < 2 || tok[len(tok)-1] != ':' {
		return "", 0, false
	}
	name = tok[:len(tok)-1]
	hasPID := false
	if name[len(name)-1] == ']' {
		i := strings.LastIndexByte(name, '[')
		if i <= 0 {
			return "", 0, false
		}
		n, ok := decimal(name[i+1:len(name)-1], 1, 9)
		if !ok {
			return "", 0, false
		}
		name, pid, hasPID = name[:i], n, true
	}
	if needPID && !hasPID {
		return "", 0, false
	}
	if !isProcessName(name) {
		return "", 0, false
	}
	return name, pid, true
}

func isProcessName(s string) bool {
	if s == "" || !(isLetter(s[0]) || s[0] == '/' || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isLetter(c) || isDigit(c) || c == '-' || c == '_' || c == '.' || c == '/') {
			return false
		}
	}
	return true
}

// isHost accepts host names, dotted names and addresses. A word ending in
// ':' is never a host: in the mastership log it starts the message.
func isHost(s string) bool {
	if s == "" || s[len(s)-1] == ':' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLetter(c) || isDigit(c) || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// isPFEComponent reports whether s names a packet forwarding component
// that logs through the RE without a colon after its name: "fpc0", and the
// FPC-equivalents of the compact MX and M series ("tfeb0", "afeb0",
// "cfeb0").
func isPFEComponent(s string) bool {
	for _, p := range [...]string{"fpc", "tfeb", "afeb", "cfeb"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			_, ok := decimal(rest, 1, 3)
			return ok
		}
	}
	return false
}

// priorityToken reads an explicit-priority marker: "%DAEMON-4:" (no tag)
// or "%DAEMON-3-CHASSISD_FPC_ASIC_ERROR:" (tag after the second dash). The
// facility ends at the first dash followed by a digit, the one-digit
// severity, so a facility with a dash of its own ("%CHANGE-LOG-5-…") is
// still read.
func priorityToken(tok string) (tag string, ok bool) {
	if len(tok) < 5 || tok[0] != '%' || tok[len(tok)-1] != ':' {
		return "", false
	}
	inner := tok[1 : len(tok)-1]
	for i := 1; i+1 < len(inner); i++ {
		if inner[i] != '-' || !isDigit(inner[i+1]) {
			continue
		}
		if !isFacility(inner[:i]) {
			return "", false
		}
		after := inner[i+2:]
		switch {
		case after == "":
			return "", true
		case after[0] == '-' && isTagName(after[1:]):
			return after[1:], true
		}
		return "", false
	}
	return "", false
}

func isFacility(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isUpper(c) || isDigit(c) || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isTagName accepts the tag after a priority marker; it is upper case in
// every sample but Junos does not promise it, so any word will do.
func isTagName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLetter(c) || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// tagToken reads "TAG:" where TAG is upper case with at least one
// underscore between non-empty parts ("UI_COMMIT", "CHASSISD_SNMP_TRAP7"),
// or a known lower-case tag. "NH:" (one word) is not a tag: tags are
// FACILITY_EVENT.
func tagToken(tok string) (string, bool) {
	if len(tok) < 2 || tok[len(tok)-1] != ':' {
		return "", false
	}
	name := tok[:len(tok)-1]
	if knownLowerTag(name) || isUpperTag(name) {
		return name, true
	}
	return "", false
}

func isUpperTag(s string) bool {
	if s == "" || !isUpper(s[0]) {
		return false
	}
	underscores := 0
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			if s[i-1] == '_' || i == len(s)-1 {
				return false
			}
			underscores++
		case isUpper(c) || isDigit(c):
		default:
			return false
		}
	}
	return underscores > 0
}

// knownLowerTag lists the lower-case tags, which cannot be told from
// function names by their shape. mcontrol_ore_alive_set is the status tag
// the source document names (unverified in public Junos material, see
// docs/domain.md); add others only from captures.
func knownLowerTag(s string) bool {
	switch s {
	case "mcontrol_ore_alive_set":
		return true
	}
	return false
}

// classic is a "Mmm dd HH:MM:SS[.fff][ YYYY]" timestamp before dating.
type classic struct {
	month               time.Month
	day, hour, min, sec int
	nsec                int
	year                int // 0 when the line has none
	hasYear             bool
}

// scanClassic reads a classic syslog timestamp off the front of s.
func scanClassic(s string) (classic, string, bool) {
	var c classic
	if len(s) < 3 {
		return c, s, false
	}
	if c.month = monthOf(s[:3]); c.month == 0 {
		return c, s, false
	}
	s = s[3:]
	if s == "" || !isBlank(s[0]) {
		return c, s, false
	}
	s = trimBlanks(s)
	n := digitRun(s, 2)
	if n == 0 || n >= len(s) || !isBlank(s[n]) {
		return c, s, false
	}
	c.day, _ = decimal(s[:n], 1, 2)
	if c.day < 1 || c.day > daysIn(c.month, 2000) { // 2000 is a leap year
		return c, s, false
	}
	s = trimBlanks(s[n:])
	var (
		tod clockTime
		ok  bool
	)
	if tod, s, ok = scanClock(s); !ok || (s != "" && !isBlank(s[0])) {
		return c, s, false
	}
	c.hour, c.min, c.sec, c.nsec = tod.hour, tod.min, tod.sec, tod.nsec
	// "time-format year" puts the year after the time. Four digits then a
	// blank or the end; a year before 1970 is not one a router wrote.
	r := trimBlanks(s)
	if len(r) >= 4 && digitRun(r, 4) == 4 && (len(r) == 4 || isBlank(r[4])) {
		if y, _ := decimal(r[:4], 4, 4); y >= 1970 {
			c.year, c.hasYear, s = y, true, r[4:]
		}
	}
	return c, s, true
}

// date turns the timestamp into a time in the device's zone. valid is
// false for a day the month does not have in an explicit year (Feb 29
// 2025). Without a year the line is dated in the latest year, from the
// clock's next one down, that does not put it more than maxFuture ahead
// of clock.Now and that has the day (Feb 29 goes back to the last leap year). With clock.Now zero there
// is nothing to infer from: the time stays zero.
func (c classic) date(clock DeviceClock) (t time.Time, valid bool) {
	loc := clock.location()
	at := func(y int) time.Time {
		return time.Date(y, c.month, c.day, c.hour, c.min, c.sec, c.nsec, loc)
	}
	if c.hasYear {
		if c.day > daysIn(c.month, c.year) {
			return time.Time{}, false
		}
		return at(c.year), true
	}
	if clock.Now.IsZero() {
		return time.Time{}, true
	}
	// Next year first: a line up to maxFuture ahead of a clock just
	// before midnight on Dec 31 is from Jan 1 (written after current-time
	// was read, or before the clock stepped back over midnight; issue 19).
	y := clock.Now.In(loc).Year() + 1
	// Leap years are at most 8 years apart, so eleven tries always find a
	// year with Feb 29.
	for range 11 {
		if c.day <= daysIn(c.month, y) {
			if t := at(y); t.Sub(clock.Now) <= maxFuture {
				return t, true
			}
		}
		y--
	}
	return time.Time{}, true
}

// scanISO reads an ISO 8601 / RFC 3339 timestamp (wire syslog, structured
// format). Without an offset the time is in the device's zone.
func scanISO(s string, loc *time.Location) (time.Time, string, bool) {
	if len(s) < 19 || digitRun(s, 4) != 4 || s[4] != '-' || s[10] != 'T' {
		return time.Time{}, s, false
	}
	tok, rest := cutToken(s)
	t, err := time.Parse(time.RFC3339Nano, tok)
	if err != nil {
		if t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", tok, loc); err != nil {
			return time.Time{}, s, false
		}
	}
	if t.Year() < 1970 {
		return time.Time{}, s, false
	}
	return t, rest, true
}

type clockTime struct{ hour, min, sec, nsec int }

// scanClock reads "HH:MM:SS" with optional ".f" to ".fffffffff".
func scanClock(s string) (clockTime, string, bool) {
	var c clockTime
	if len(s) < 8 || digitRun(s, 2) != 2 || s[2] != ':' || digitRun(s[3:], 2) != 2 || s[5] != ':' || digitRun(s[6:], 2) != 2 {
		return c, s, false
	}
	c.hour, _ = decimal(s[0:2], 2, 2)
	c.min, _ = decimal(s[3:5], 2, 2)
	c.sec, _ = decimal(s[6:8], 2, 2)
	// 60 is a leap second; time.Date carries it into the next minute.
	if c.hour > 23 || c.min > 59 || c.sec > 60 {
		return c, s, false
	}
	s = s[8:]
	if len(s) > 1 && s[0] == '.' {
		n := digitRun(s[1:], 10)
		if n == 0 || n > 9 {
			return c, s, false
		}
		f, _ := decimal(s[1:1+n], 1, 9)
		for range 9 - n {
			f *= 10
		}
		c.nsec = f
		s = s[1+n:]
	}
	return c, s, true
}

// stripPRI removes the "<PRI>" that syslog adds on the wire ("<28>Jul …").
func stripPRI(s string) string {
	if len(s) < 3 || s[0] != '<' {
		return s
	}
	n := digitRun(s[1:], 3)
	if n == 0 || len(s) < n+2 || s[1+n] != '>' {
		return s
	}
	return s[n+2:]
}

func monthOf(s string) time.Month {
	switch s {
	case "Jan":
		return time.January
	case "Feb":
		return time.February
	case "Mar":
		return time.March
	case "Apr":
		return time.April
	case "May":
		return time.May
	case "Jun":
		return time.June
	case "Jul":
		return time.July
	case "Aug":
		return time.August
	case "Sep":
		return time.September
	case "Oct":
		return time.October
	case "Nov":
		return time.November
	case "Dec":
		return time.December
	}
	return 0
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// cutToken splits s (without leading blanks) at its first blank; rest
// keeps the blank so callers can trim as they need.
func cutToken(s string) (tok, rest string) {
	for i := 0; i < len(s); i++ {
		if isBlank(s[i]) {
			return s[:i], s[i:]
		}
	}
	return s, ""
}

func trimBlanks(s string) string {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return s[i:]
}

// digitRun returns how many of the first limit bytes of s are ASCII
// digits, stopping at the first that is not.
func digitRun(s string, limit int) int {
	n := 0
	for n < len(s) && n < limit && isDigit(s[n]) {
		n++
	}
	return n
}

// decimal parses s as a decimal of lo to hi digits (hi ≤ 9, so it cannot
// overflow an int).
func decimal(s string, lo, hi int) (int, bool) {
	if len(s) < lo || len(s) > hi {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func isBlank(c byte) bool  { return c == ' ' || c == '\t' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isLetter(c byte) bool { return isUpper(c) || ('a' <= c && c <= 'z') }

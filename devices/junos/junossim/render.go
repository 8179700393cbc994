package junossim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// replyWriter builds one reply the way Junos writes it on the wire: the
// nc:rpc-reply envelope of the real capture, one element per line, no
// indentation, no <?xml?> declaration (ncclient's junos handler chokes on
// one, and Junos sends none) and no <cli><banner> (CLI-only).
type replyWriter struct {
	b       bytes.Buffer
	release string // for payload namespaces
}

func newReplyWriter(version, messageID string) *replyWriter {
	w := &replyWriter{release: payloadRelease(version)}
	w.b.WriteString(`<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/`)
	w.escape(version)
	w.b.WriteString(`/junos" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"`)
	if messageID != "" {
		w.b.WriteString(` message-id="`)
		w.escape(messageID)
		w.b.WriteByte('"')
	}
	w.b.WriteString(">\n")
	return w
}

func (w *replyWriter) finish() []byte {
	w.b.WriteString("</nc:rpc-reply>\n")
	return w.b.Bytes()
}

// escape writes s as XML character data; it escapes quotes too, so it is
// also right inside attribute values.
func (w *replyWriter) escape(s string) {
	_ = xml.EscapeText(&w.b, []byte(s)) // bytes.Buffer writes never fail
}

// open writes a start tag, with an optional xmlns.
func (w *replyWriter) open(name, xmlns string) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	if xmlns != "" {
		w.b.WriteString(` xmlns="`)
		w.escape(xmlns)
		w.b.WriteByte('"')
	}
	w.b.WriteString(">\n")
}

func (w *replyWriter) close(name string) {
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteString(">\n")
}

func (w *replyWriter) empty(name string) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	w.b.WriteString("/>\n")
}

// text writes <name>value</name>.
func (w *replyWriter) text(name, value string) {
	w.textAttr(name, "", "", value)
}

// textAttr writes <name attr="aval">value</name>; attr may be empty.
func (w *replyWriter) textAttr(name, attr, aval, value string) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	if attr != "" {
		w.b.WriteByte(' ')
		w.b.WriteString(attr)
		w.b.WriteString(`="`)
		w.escape(aval)
		w.b.WriteByte('"')
	}
	w.b.WriteByte('>')
	w.escape(value)
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteString(">\n")
}

func (w *replyWriter) seconds(name string, secs int64, value string) {
	w.textAttr(name, "junos:seconds", strconv.FormatInt(secs, 10), value)
}

func (w *replyWriter) ns(suffix string) string {
	return "http://xml.juniper.net/junos/" + w.release + "/" + suffix
}

var releasePattern = regexp.MustCompile(`^(\d+)\.(\d+)([A-Z])`)

// payloadRelease is the release in payload namespaces. Recent releases put
// "<major>.<minor>R0" there while the envelope carries the full version
// (23.2R2.4 vs 23.2R0, 20.4R3-S4.8 vs 20.4R0, MANIFEST pitfall 2); older
// captures (15.1F5, 17.3R3, 18.2R3) use the release in both.
func payloadRelease(version string) string {
	m := releasePattern.FindStringSubmatch(version)
	if m == nil {
		return version
	}
	if major, _ := strconv.Atoi(m[1]); major >= 19 {
		return m[1] + "." + m[2] + "R0"
	}
	base, _, _ := strings.Cut(version, "-")
	return base
}

// presentMembers returns the multi-routing-engine items to render with the
// REs of each; a member whose REs are all absent does not answer and is
// left out. For plain topologies it returns one unnamed group.
func (r *Router) presentMembers() (names []string, groups [][]*reState) {
	ms := members(r.topo)
	if ms == nil {
		var g []*reState
		for _, st := range r.res {
			if st.Present() {
				g = append(g, st)
			}
		}
		return []string{""}, [][]*reState{g}
	}
	for _, m := range ms {
		var g []*reState
		for _, st := range r.res {
			if st.Member == m && st.Present() {
				g = append(g, st)
			}
		}
		if len(g) > 0 {
			names = append(names, m)
			groups = append(groups, g)
		}
	}
	return names, groups
}

// eachMember renders body once for a plain reply, or once per answering
// member inside multi-routing-engine-results.
func (r *Router) eachMember(w *replyWriter, body func(member string, res []*reState)) {
	names, groups := r.presentMembers()
	if members(r.topo) == nil {
		body("", groups[0])
		return
	}
	w.open("multi-routing-engine-results", "")
	for i, m := range names {
		w.open("multi-routing-engine-item", "")
		w.text("re-name", m)
		if i > 0 && r.backupAborted != "" {
			renderAborted(w, r.backupAborted)
		} else {
			body(m, groups[i])
		}
		w.close("multi-routing-engine-item")
	}
	w.close("multi-routing-engine-results")
}

func (r *Router) renderRouteEngines(w *replyWriter, now time.Time) {
	r.eachMember(w, func(_ string, res []*reState) {
		w.open("route-engine-information", w.ns("junos-chassis"))
		for _, st := range res {
			r.renderRouteEngine(w, st, now)
		}
		w.close("route-engine-information")
	})
}

func (r *Router) renderRouteEngine(w *replyWriter, st *reState, now time.Time) {
	w.open("route-engine", "")
	if st.Slot >= 0 {
		w.text("slot", strconv.Itoa(st.Slot))
	}
	if st.MastershipState != "" {
		w.text("mastership-state", st.MastershipState)
	}
	if st.priority != "" {
		w.text("mastership-priority", st.priority)
	}
	if st.Status != "" {
		w.text("status", st.Status)
	}
	w.textAttr("temperature", "junos:celsius", strconv.Itoa(st.tempC), celsiusText(st.tempC))
	w.textAttr("cpu-temperature", "junos:celsius", strconv.Itoa(st.cpuTempC), celsiusText(st.cpuTempC))
	master := st.IsMaster() || st.MastershipState == ""
	if r.topo == TopologySRXCluster {
		// SRX reports system memory instead of DRAM (MANIFEST pitfall 7).
		w.text("memory-system-total", strconv.Itoa(st.dramMB))
		w.text("memory-system-total-used", strconv.Itoa(st.dramMB*35/100))
		w.text("memory-system-total-util", "35")
	} else {
		w.text("memory-dram-size", fmt.Sprintf("%d MB", st.dramMB))
		w.text("memory-installed-size", fmt.Sprintf("(%d MB installed)", (st.dramMB+1023)/1024*1024))
	}
	w.text("memory-buffer-utilization", "7")
	idle := "100"
	if master {
		idle = "98"
	}
	w.text("cpu-user", "0")
	w.text("cpu-background", "0")
	w.text("cpu-system", strconv.Itoa(boolInt(master)))
	w.text("cpu-interrupt", "0")
	w.text("cpu-idle", idle)
	w.text("model", st.model)
	if st.serial != "" {
		w.text("serial-number", st.serial)
	}
	// The boot time on the router's clock now: up-time counts on through
	// a step of the clock, the boot time moves with it.
	up := upSeconds(now, st.BootTime)
	shownBoot := r.dev.at(now).Add(-time.Duration(up) * time.Second)
	w.seconds("start-time", shownBoot.Unix(), r.timeText(shownBoot))
	w.seconds("up-time", up, uptimeText(up))
	w.text("last-reboot-reason", st.LastRebootReason)
	w.text("load-average-one", "0.29")
	w.text("load-average-five", "0.23")
	w.text("load-average-fifteen", "0.19")
	w.close("route-engine")
}

func (r *Router) renderAlarms(w *replyWriter, src devices.AlarmSource) {
	r.eachMember(w, func(member string, _ []*reState) {
		var list []devices.Alarm
		for _, a := range r.alarms {
			if a.Source == src && a.Member == member {
				list = append(list, a)
			}
		}
		w.open("alarm-information", w.ns("junos-alarm"))
		w.open("alarm-summary", "")
		if len(list) == 0 {
			w.empty("no-active-alarms")
		} else {
			w.text("active-alarm-count", strconv.Itoa(len(list)))
		}
		w.close("alarm-summary")
		for _, a := range list {
			w.open("alarm-detail", "")
			at := r.dev.at(a.Time) // stamped by the router's clock when raised
			w.seconds("alarm-time", at.Unix(), r.timeText(at))
			w.text("alarm-class", a.Class)
			w.text("alarm-description", a.Description)
			w.text("alarm-short-description", a.ShortDescription)
			w.text("alarm-type", a.Type)
			w.close("alarm-detail")
		}
		w.close("alarm-information")
	})
}

func (r *Router) renderSoftware(w *replyWriter) {
	model := strings.ToLower(r.model)
	r.eachMember(w, func(_ string, _ []*reState) {
		// software-information carries no xmlns in the real captures.
		w.open("software-information", "")
		w.text("host-name", r.hostname)
		w.text("product-model", model)
		w.text("product-name", model)
		w.text("junos-version", r.version)
		for _, p := range [][2]string{
			{"junos", "JUNOS Base OS boot"},
			{"jkernel", "JUNOS Kernel Software Suite"},
			{"jroute", "JUNOS Routing Software Suite"},
		} {
			w.open("package-information", "")
			w.text("name", p[0])
			w.text("comment", p[1]+" ["+r.version+"]")
			w.close("package-information")
		}
		w.close("software-information")
	})
}

// renderUptime answers for the RE the session lands on: the master, or
// each member's master on multi-member routers.
func (r *Router) renderUptime(w *replyWriter, now time.Time) {
	r.eachMember(w, func(_ string, res []*reState) {
		if len(res) == 0 {
			// Every RE of a plain router is absent; a real one would not
			// answer at all, but the simulator must not fail.
			res = r.res[:1]
		}
		st := res[0]
		for _, o := range res {
			if o.IsMaster() {
				st = o
				break
			}
		}
		boot := st.BootTime
		protocols := boot.Add(67 * time.Second)
		if protocols.After(now) {
			protocols = now
		}
		// The agent dates log lines by this clock: current-time is the
		// injected clock's now, never the host's.
		last := r.commits[0]
		w.open("system-uptime-information", w.ns("junos"))
		devNow := r.dev.at(now)
		w.open("current-time", "")
		w.seconds("date-time", devNow.Unix(), r.timeText(devNow))
		w.close("current-time")
		w.text("time-source", " NTP CLOCK ")
		for _, p := range []struct {
			name string
			at   time.Time
		}{{"system-booted-time", boot}, {"protocols-started-time", protocols}, {"last-configured-time", last.at}} {
			w.open(p.name, "")
			l := upSeconds(now, p.at)
			// Boot and protocol start move with a step of the clock (the
			// kernel keeps time since boot, not the boot's wall time); a
			// commit keeps the time the clock said then.
			shown := devNow.Add(-time.Duration(l) * time.Second)
			if p.name == "last-configured-time" {
				shown = r.dev.at(p.at)
			}
			w.seconds("date-time", shown.Unix(), r.timeText(shown))
			w.seconds("time-length", l, timeLengthText(l))
			if p.name == "last-configured-time" {
				w.text("user", last.user)
			}
			w.close(p.name)
		}
		w.open("uptime-information", "")
		w.seconds("date-time", devNow.Unix(), devNow.In(r.zone()).Format("3:04PM"))
		up := upSeconds(now, boot)
		w.seconds("up-time", up, shortUptimeText(up))
		w.textAttr("active-user-count", "junos:format", "1 users", "1")
		w.text("load-average-1", "0.29")
		w.text("load-average-5", "0.23")
		w.text("load-average-15", "0.19")
		w.empty("user-table")
		w.close("uptime-information")
		w.close("system-uptime-information")
	})
}

// renderUnknownRPC is Junos' answer to an RPC it does not know.
func renderUnknownRPC(w *replyWriter, op string) {
	renderRPCError(w, "protocol", "operation-failed", "syntax error, expecting <rpc> or <command>", op)
}

// timeText is the device's local rendering of t, an instant on its
// clock, in its zone now, with the abbreviation as in "2016-12-21
// 08:47:57 PST".
func (r *Router) timeText(t time.Time) string {
	return t.In(r.zone()).Format("2006-01-02 15:04:05 MST")
}

// zone is the router's time zone at the moment being applied.
func (r *Router) zone() *time.Location { return r.dev.zone(r.cursor) }

func upSeconds(now, since time.Time) int64 {
	return max(0, int64(now.Sub(since)/time.Second))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// celsiusText is "32 degrees C / 89 degrees F"; Junos truncates the
// Fahrenheit value (36 C is shown as 96 F).
func celsiusText(c int) string {
	return fmt.Sprintf("%d degrees C / %d degrees F", c, c*9/5+32)
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// uptimeText renders an RE up-time the way show chassis routing-engine
// does: "9 days, 22 hours, 27 minutes, 12 seconds", leaving out zero
// days, hours and minutes ("267 days, 48 minutes, 40 seconds").
func uptimeText(secs int64) string {
	d, h, m, s := secs/86400, secs/3600%24, secs/60%60, secs%60
	var parts []string
	if d > 0 {
		parts = append(parts, plural(d, "day"))
	}
	if h > 0 {
		parts = append(parts, plural(h, "hour"))
	}
	if m > 0 {
		parts = append(parts, plural(m, "minute"))
	}
	parts = append(parts, plural(s, "second"))
	return strings.Join(parts, ", ")
}

// timeLengthText renders system-uptime time-length: "4w5d 14:59",
// "1d 01:54", and under a day "03:57:14".
func timeLengthText(secs int64) string {
	d, h, m, s := secs/86400, secs/3600%24, secs/60%60, secs%60
	switch {
	case d >= 7:
		return fmt.Sprintf("%dw%dd %02d:%02d", d/7, d%7, h, m)
	case d > 0:
		return fmt.Sprintf("%dd %02d:%02d", d, h, m)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// shortUptimeText renders uptime-information up-time as BSD uptime does:
// "33 days, 14:59", "3:57", "5 mins".
func shortUptimeText(secs int64) string {
	d, h, m := secs/86400, secs/3600%24, secs/60%60
	switch {
	case d > 0:
		return fmt.Sprintf("%s, %d:%02d", plural(d, "day"), h, m)
	case h > 0:
		return fmt.Sprintf("%d:%02d", h, m)
	}
	return plural(m, "min")
}

// attr writes ` name="value"` inside a start tag being written.
func (w *replyWriter) attr(name, value string) {
	w.b.WriteByte(' ')
	w.b.WriteString(name)
	w.b.WriteString(`="`)
	w.escape(value)
	w.b.WriteByte('"')
}

// fileText escapes a file's text as character data. Unlike xml.EscapeText
// it keeps newlines as they are: a real <file-content> carries the file's
// lines literally.
var fileText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// requestedFile is the text of the first <filename> in an RPC body.
func requestedFile(body []byte) string {
	var req struct {
		Filename string `xml:"filename"`
	}
	// The body is the inner XML of <rpc>: one element, get-log or file-show.
	if err := xml.Unmarshal(body, &req); err != nil {
		return ""
	}
	return strings.TrimSpace(req.Filename)
}

// renderLogFile answers get-log ("show log", which takes "messages") and
// file-show (which wants "/var/log/messages") with the file's whole text,
// shaped like the real file-show replies (file-show.*.pyez.xml):
// <file-content filename=… junos:seconds=… filesize=… encoding="text">.
// junos:seconds is the file's modification time, filesize its bytes. The
// text starts on the line after the tag; the agent filters and tails
// it itself (MANIFEST pitfall 14).
func (r *Router) renderLogFile(w *replyWriter, op string, body []byte) {
	name := requestedFile(body)
	if name == "" {
		renderRPCError(w, "protocol", "missing-element", "syntax error, expecting <filename>", "filename")
		return
	}
	base, f := r.resolveLog(name, op == "file-show")
	if f == nil {
		renderRPCError(w, "application", "operation-failed", "could not resolve file: "+name, "")
		return
	}
	if isRotatedName(base) && !r.archiveReadable {
		// no-world-readable: the archive is root's and the maintenance
		// class's. No public capture shows Junos's words for it; these
		// are the simulator's, an access-denied rpc-error as RFC 6241
		// names the case, or the missing-file answer (archive_refusal).
		if r.archiveUnresolved {
			renderRPCError(w, "application", "operation-failed", "could not resolve file: "+name, "")
			return
		}
		renderRPCError(w, "application", "access-denied", "could not read /var/log/"+base+": Permission denied", "")
		return
	}
	text := f.content()
	w.b.WriteString("<file-content")
	w.attr("filename", "/var/log/"+base)
	w.attr("junos:seconds", strconv.FormatInt(r.dev.at(f.modTime).Unix(), 10))
	w.attr("filesize", strconv.Itoa(len(text)))
	w.attr("encoding", "text")
	w.b.WriteString(">\n")
	_, _ = fileText.WriteString(&w.b, text) // bytes.Buffer writes never fail
	w.b.WriteString("</file-content>\n")
}

// renderFileList answers "file list detail PATH" for one log file, shaped
// like the real reply (file-list.single-file-detail.pyez.xml), or, for a
// file the router does not have, with the "No such file or directory"
// output of get-system-core-dumps.none.pyez.xml. It reads the file's size
// and time without rendering its text: asking costs the router little,
// which is the point of asking.
func (r *Router) renderFileList(w *replyWriter, body []byte) {
	var req struct {
		Path string `xml:"path"`
	}
	if err := xml.Unmarshal(body, &req); err != nil || strings.TrimSpace(req.Path) == "" {
		renderRPCError(w, "protocol", "missing-element", "syntax error, expecting <path>", "path")
		return
	}
	name := strings.TrimSpace(req.Path)
	// A pattern ("/var/log/m*") lists every file it matches, as the CLI's
	// "file list /var/log/m* detail" does.
	var names []string
	if dir, pat, ok := strings.Cut(name, "/var/log/"); ok && dir == "" {
		for n := range r.logs {
			if m, err := path.Match(pat, n); err == nil && m {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	w.b.WriteString("<directory-list")
	w.attr("root-path", name)
	w.attr("junos:seconds", strconv.FormatInt(r.dev.at(r.cursor).Unix(), 10))
	w.attr("junos:style", "verbose")
	w.b.WriteString(">\n")
	if len(names) == 0 {
		w.text("output", name+": No such file or directory")
		w.b.WriteString("</directory-list>\n")
		return
	}
	w.b.WriteString("<directory name=\"\">\n")
	for _, base := range names {
		f := r.logs[base]
		w.open("file-information", "")
		w.text("file-name", "/var/log/"+base)
		switch {
		case !isRotatedName(base):
			w.b.WriteString("<file-permissions junos:format=\"-rw-rw----\">660</file-permissions>\n")
		case r.archiveReadable:
			w.b.WriteString("<file-permissions junos:format=\"-rw-r--r--\">644</file-permissions>\n")
		default:
			w.b.WriteString("<file-permissions junos:format=\"-rw-r-----\">640</file-permissions>\n")
		}
		w.text("file-owner", "root")
		w.text("file-group", "wheel")
		w.text("file-links", "1")
		w.text("file-size", strconv.Itoa(f.diskSize()))
		mod := r.dev.at(f.modTime)
		w.b.WriteString("<file-date junos:format=\"" + mod.In(r.zone()).Format("Jan _2 15:04") + "\">" +
			strconv.FormatInt(mod.Unix(), 10) + "</file-date>\n")
		w.close("file-information")
	}
	w.text("total-files", strconv.Itoa(len(names)))
	w.b.WriteString("</directory>\n</directory-list>\n")
}

// renderRPCError writes a Junos rpc-error; badElement may be empty.
func renderRPCError(w *replyWriter, typ, tag, message, badElement string) {
	w.open("rpc-error", "")
	w.text("error-type", typ)
	w.text("error-tag", tag)
	w.text("error-severity", "error")
	w.text("error-message", message)
	if badElement != "" {
		w.open("error-info", "")
		w.text("bad-element", badElement)
		w.close("error-info")
	}
	w.close("rpc-error")
}

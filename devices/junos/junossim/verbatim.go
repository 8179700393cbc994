package junossim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// VerbatimLine is a line quoted from a real log, taken apart so that the
// simulator can write it again at its own time under its own host name,
// keeping everything else as it was: the timestamp's shape (a space-padded
// or a plain day, ".mmm" fractions, a trailing year), the blanks after it,
// and the text.
type VerbatimLine struct {
	// Stamp is the sample's time, in a year of its own when the line has
	// none; only the differences between the lines of one event count.
	Stamp time.Time
	// Host is the sample's host field ("jtac-mx480-r2014-re0"), empty when
	// the line has none (fpc-fru.log's "Mar 14 00:21:12
	// CHASSISD_FRU_OFFLINE_NOTICE: …", and every mastership line).
	Host string
	// Text is everything after the host (or the blanks after the stamp).
	Text string

	dateless bool   // "22:37:56 SRX3K /kernel: …": a time and no date
	padDay   bool   // "Mar  3" rather than "Mar 3"
	fraction bool   // ".171"
	year     bool   // "… 02:59:24.466 2026"
	blanks   string // between the stamp and the host (or text)
}

// verbatimStamp matches a classic syslog timestamp with the optional
// parts Junos writes, after an optional <PRI>.
var verbatimStamp = regexp.MustCompile(`^(?:<\d{1,3}>)?(?:([A-Z][a-z]{2}) ( ?)(\d{1,2}) )?(\d{2}):(\d{2}):(\d{2})(\.\d{3})?(?: (\d{4}))?( +)(\S.*)$`)

var monthNames = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// ParseVerbatimLine takes apart a line of a log file (messages or
// mastership) quoted from a sample. A syslog <PRI> prefix, which is on the
// wire but not in files, is dropped.
func ParseVerbatimLine(line, file string) (VerbatimLine, error) {
	m := verbatimStamp.FindStringSubmatch(line)
	if m == nil {
		return VerbatimLine{}, fmt.Errorf("line %q: want a syslog timestamp (\"Mar  3 18:07:36\", \".171\" and a year optional), blanks, then the rest", line)
	}
	v := VerbatimLine{dateless: m[1] == "", padDay: m[2] == " ", fraction: m[7] != "", year: m[8] != "", blanks: m[9]}
	year, month, day := 2000, time.January, 1
	if !v.dateless {
		mo, ok := monthNames[m[1]]
		if !ok {
			return VerbatimLine{}, fmt.Errorf("line %q: unknown month %q", line, m[1])
		}
		month = mo
		day, _ = strconv.Atoi(m[3])
	}
	if v.year {
		year, _ = strconv.Atoi(m[8])
	}
	hh, _ := strconv.Atoi(m[4])
	mm, _ := strconv.Atoi(m[5])
	ss, _ := strconv.Atoi(m[6])
	ms := 0
	if v.fraction {
		ms, _ = strconv.Atoi(m[7][1:])
	}
	if hh > 23 || mm > 59 || ss > 60 || day < 1 || day > 31 {
		return VerbatimLine{}, fmt.Errorf("line %q: no such time", line)
	}
	v.Stamp = time.Date(year, month, day, hh, mm, ss, ms*int(time.Millisecond), time.UTC)
	rest := m[10]
	if file == LogMastership {
		v.Text = rest
		return v, nil
	}
	// A first field ending in a colon is a tag or a process, not a host.
	first, after, _ := strings.Cut(rest, " ")
	if strings.HasSuffix(first, ":") {
		v.Text = rest
		return v, nil
	}
	if after == "" {
		return VerbatimLine{}, fmt.Errorf("line %q: a host and no text", line)
	}
	v.Host, v.Text = first, after
	return v, nil
}

// Render writes the line again at t (in loc) under host: the stamp in the
// sample's shape (a date added to a line that had none, since every line
// of a file has one), the sample's blanks, host, the sample's text. A
// mastership line, and a line the sample has without a host, get none.
func (v VerbatimLine) Render(t time.Time, loc *time.Location, host, file string) string {
	t = t.In(loc)
	layout := "Jan 2 15:04:05"
	if v.padDay || v.dateless {
		layout = stampLayout
	}
	if v.fraction {
		layout += ".000"
	}
	if v.year {
		layout += " 2006"
	}
	s := t.Format(layout) + v.blanks
	if file == LogMastership || v.Host == "" {
		// A line the sample quotes without a host (fpc-fru.log) stays
		// without one: the agent must read it as it is.
		return s + v.Text
	}
	return s + host + " " + v.Text
}

// verbatimLocked writes the lines of a log event with Lines: the first at
// at, each later one as long after it as the sample says.
func (r *Router) verbatimLocked(at time.Time, ev Event) error {
	file := ev.File
	if file == "" {
		file = LogMessages
	}
	host := r.hostOf(r.loggingRE())
	if ev.RE != "" {
		st, err := r.reLocked(ev.RE)
		if err != nil {
			return err
		}
		host = r.hostOf(st)
	}
	// The first line keeps the fraction of a second it had, so that the
	// ".mmm" of the sample survive the move.
	var first time.Time
	for i, l := range ev.Lines {
		v, err := ParseVerbatimLine(l, file)
		if err != nil {
			return err
		}
		if i == 0 {
			first = v.Stamp.Truncate(time.Second)
		}
		t := at.Add(v.Stamp.Sub(first))
		r.writeLocked(t, file, v.Render(r.dev.at(t), r.dev.zone(t), host, file))
	}
	return nil
}

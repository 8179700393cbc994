package syslog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// cursorClock dates the test lines: January 12, read a day later.
func cursorClock() DeviceClock {
	return DeviceClock{Now: time.Date(2026, 1, 13, 0, 0, 0, 0, time.UTC)}
}

func parseMastership(s string) devices.LogLine { return ParseLine("mastership", s, cursorClock()) }

// commits returns numbered syslog lines: commits(0, 3) is lines 0, 1, 2, one
// second apart from 21:00:00.
func commits(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("Jan 12 21:%02d:%02d re0 mgd[1]: UI_COMMIT: commit %d", i/60, i%60, i))
	}
	return out
}

// logFile joins lines as a log file, newline-terminated.
func logFile(parts ...[]string) string {
	var b strings.Builder
	for _, p := range parts {
		for _, l := range p {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func logLines(ls ...string) []string { return ls }

// The /var/log/mastership sample: lines 3 and 4 are identical.
const (
	mClear = "Jan 12 21:50:05 clear-log[865]: logfile cleared"
	mRecv  = "Jan 12 21:50:18 failed to receive keepalives from other RE for the last 60 sec"
	mSend  = "Jan 12 21:50:23 failed to send RE info/keepalive: errno=22, total=6 in the last 20 sec"
	mEvent = "Jan 12 21:50:34 event = E_CMD_R, state = master, param = 0x0"
)

// cursorAfter returns the cursor a read of prev leaves (prev's first
// read, so at most DefaultFirstTail lines of it counted).
func cursorAfter(t *testing.T, prev string) devices.LogCursor {
	t.Helper()
	_, cur, _ := TakeNewLines(prev, devices.LogCursor{Device: "r1", File: "mastership"}, TakeOptions{Parse: parseMastership})
	return cur
}

func TestTakeNewLines(t *testing.T) {
	base := logFile(commits(0, 10))
	tests := []struct {
		name    string
		cur     func(t *testing.T) devices.LogCursor
		content string
		opt     TakeOptions
		noParse bool // leave opt.Parse nil (it defaults to parseMastership)
		want    []string
		info    TakeInfo
	}{
		{name: "first read takes the tail", cur: func(*testing.T) devices.LogCursor { return devices.LogCursor{} },
			content: base, opt: TakeOptions{FirstTail: 3}, want: commits(7, 10), info: TakeInfo{First: true}},
		{name: "first read of a short file", cur: func(*testing.T) devices.LogCursor { return devices.LogCursor{} },
			content: logFile(commits(0, 2)), want: commits(0, 2), info: TakeInfo{First: true}},
		{name: "first read, default tail of 500", cur: func(*testing.T) devices.LogCursor { return devices.LogCursor{} },
			content: logFile(commits(0, 600)), want: commits(100, 600), info: TakeInfo{First: true}},
		{name: "appended lines", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(commits(0, 15)), want: commits(10, 15)},
		{name: "no change", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: base, want: nil},
		{name: "empty content", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: "", want: nil},
		{name: "blank content", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: "\n   \n\t\n", want: nil},
		{name: "front of the file cut: the place is found further up", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(commits(3, 14)), want: commits(10, 14)},
		// newsyslog moved messages to messages.0.gz: the new file has none
		// of the last four lines read.
		{name: "rotation", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(logLines("Jan 12 21:00:30 re0 newsyslog[5]: logfile turned over"), commits(10, 12)),
			want:    append(logLines("Jan 12 21:00:30 re0 newsyslog[5]: logfile turned over"), commits(10, 12)...), info: TakeInfo{Rotated: true}},
		// Some old lines survive, but not the four the cursor ends with:
		// lines up to the last time read are old.
		{name: "rotation keeping some old lines", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(commits(7, 8), commits(9, 13)), want: commits(10, 13), info: TakeInfo{Rotated: true}},
		{name: "rotation, every line older", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(commits(2, 4)), want: nil, info: TakeInfo{Rotated: true}},
		{name: "clear-log", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(logLines("Jan 12 21:00:20 clear-log[865]: logfile cleared"), commits(21, 23)),
			want:    append(logLines("Jan 12 21:00:20 clear-log[865]: logfile cleared"), commits(21, 23)...), info: TakeInfo{Rotated: true}},
		// clear-log in the same second as the last line read: the line is
		// not one of those read, so it is new.
		{name: "clear-log in the second of the last line read", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(logLines("Jan 12 21:00:09 clear-log[865]: logfile cleared")),
			want:    logLines("Jan 12 21:00:09 clear-log[865]: logfile cleared"), info: TakeInfo{Rotated: true}},
		{name: "rotation without a parser takes all", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(commits(2, 4)), noParse: true, want: commits(2, 4), info: TakeInfo{Rotated: true}},
		{name: "rotation to undated lines takes all", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: "garbage one\ngarbage two\n", want: logLines("garbage one", "garbage two"), info: TakeInfo{Rotated: true}},
		{name: "undated lines follow the first new line", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(logLines("undated before"), commits(11, 12), logLines("undated after")), want: append(commits(11, 12), "undated after"), info: TakeInfo{Rotated: true}},
		// Without fingerprints the line at exactly LastTime cannot be
		// told from a new one in the same second: it is taken again
		// rather than risk losing a new one.
		{name: "a tail in another format counts as lost", cur: func(t *testing.T) devices.LogCursor {
			c := cursorAfter(t, base)
			c.Tail = []string{"sha256:abcd"}
			return c
		}, content: logFile(commits(0, 12)), want: commits(9, 12), info: TakeInfo{Rotated: true}},
		// The mastership sample repeats a line; the repeats after the
		// cursor are new, each taken once.
		{name: "repeated identical lines", cur: func(t *testing.T) devices.LogCursor {
			return cursorAfter(t, logFile(logLines(mClear, mRecv, mSend, mSend)))
		},
			content: logFile(logLines(mClear, mRecv, mSend, mSend, mSend, mSend, mEvent)), want: logLines(mSend, mSend, mEvent)},
		// New lines that repeat the last four read exactly: the last
		// occurrence is among the new lines, the line count is not.
		{name: "new lines repeating the tail", cur: func(t *testing.T) devices.LogCursor {
			return cursorAfter(t, logFile(logLines(mClear, mRecv, mSend, mRecv, mSend)))
		},
			content: logFile(logLines(mClear, mRecv, mSend, mRecv, mSend, mRecv, mSend, mRecv, mSend)), want: logLines(mRecv, mSend, mRecv, mSend)},
		{name: "cursor without a line count: last occurrence", cur: func(t *testing.T) devices.LogCursor {
			c := cursorAfter(t, base)
			c.Tail = c.Tail[:len(c.Tail)-1]
			return c
		}, content: logFile(commits(0, 12)), want: commits(10, 12)},
		{name: "cursor with fewer than four lines", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, logFile(commits(0, 2))) },
			content: logFile(commits(0, 5)), want: commits(2, 5)},
		{name: "cursor with one line, the line repeated", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, logFile(commits(0, 1))) },
			content: logFile(commits(0, 1), commits(0, 1), commits(5, 6)), want: append(commits(0, 1), commits(5, 6)...)},
		{name: "MaxBytes keeps the newest lines", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(commits(0, 20)), opt: TakeOptions{MaxBytes: totalLen(commits(18, 20)) + 1}, want: commits(18, 20), info: TakeInfo{Skipped: 8}},
		{name: "MaxBytes smaller than one line", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: logFile(commits(0, 13)), opt: TakeOptions{MaxBytes: 10}, want: commits(12, 13), info: TakeInfo{Skipped: 2}},
		{name: "MaxBytes on the first read", cur: func(*testing.T) devices.LogCursor { return devices.LogCursor{} },
			content: base, opt: TakeOptions{FirstTail: 5, MaxBytes: totalLen(commits(7, 10))}, want: commits(7, 10), info: TakeInfo{First: true, Skipped: 2}},
		{name: "blank lines and CRLF", cur: func(t *testing.T) devices.LogCursor { return cursorAfter(t, base) },
			content: base + "\r\n\n" + commits(10, 11)[0] + "\r\n  \n" + commits(11, 12)[0], want: commits(10, 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			if opt.Parse == nil && !tt.noParse {
				opt.Parse = parseMastership
			}
			cur := tt.cur(t)
			got, next, info := TakeNewLines(tt.content, cur, opt)
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines:\n got %q\nwant %q", got, tt.want)
			}
			// LastRead is checked by TestTakeNewLinesLastRead.
			if info.LastRead = ""; info != tt.info {
				t.Errorf("info %+v, want %+v", info, tt.info)
			}
			if next.Lines != cur.Lines+int64(len(got)) {
				t.Errorf("next.Lines %d, want %d", next.Lines, cur.Lines+int64(len(got)))
			}
			if next.Device != cur.Device || next.File != cur.File {
				t.Errorf("next names %q/%q, want %q/%q", next.Device, next.File, cur.Device, cur.File)
			}
			if len(next.Tail) > tailLines+1 {
				t.Errorf("tail of %d entries", len(next.Tail))
			}
			// LastTime: the newest dated line taken, else unchanged.
			wantLast := cur.LastTime
			if opt.Parse != nil {
				for _, l := range slices.Backward(got) {
					if tm := opt.Parse(l).Time; !tm.IsZero() {
						wantLast = tm
						break
					}
				}
			}
			if !next.LastTime.Equal(wantLast) {
				t.Errorf("next.LastTime %v, want %v", next.LastTime, wantLast)
			}
			again, _, info2 := TakeNewLines(tt.content, next, opt)
			if len(again) != 0 || info2.Rotated {
				t.Errorf("second take of the same content: %q, %+v", again, info2)
			}
		})
	}
}

// TestTakeNewLinesPolls follows one file across polls: appends, a
// clear-log, more appends.
func TestTakeNewLinesPolls(t *testing.T) {
	opt := TakeOptions{Parse: parseMastership}
	var cur devices.LogCursor
	var all []string
	polls := []string{
		logFile(commits(0, 3)),
		logFile(commits(0, 3)),
		logFile(commits(0, 6)),
		logFile(logLines("Jan 12 21:00:07 clear-log[865]: logfile cleared")),
		logFile(logLines("Jan 12 21:00:07 clear-log[865]: logfile cleared"), commits(8, 9)),
		logFile(logLines("Jan 12 21:00:07 clear-log[865]: logfile cleared"), commits(8, 9), commits(8, 9)),
	}
	for _, content := range polls {
		var got []string
		got, cur, _ = TakeNewLines(content, cur, opt)
		all = append(all, got...)
	}
	want := append(append(commits(0, 6), "Jan 12 21:00:07 clear-log[865]: logfile cleared"), commits(8, 9)[0], commits(8, 9)[0])
	if !slices.Equal(all, want) {
		t.Errorf("taken:\n got %q\nwant %q", all, want)
	}
	if cur.Lines != int64(len(want)) {
		t.Errorf("Lines %d, want %d", cur.Lines, len(want))
	}
}

func FuzzTakeNewLines(f *testing.F) {
	f.Add(logFile(commits(0, 5)), logFile(commits(5, 8)), uint16(0), uint8(0))
	f.Add(logFile(logLines(mClear, mRecv, mSend, mSend)), logFile(logLines(mSend, mSend, mEvent)), uint16(100), uint8(2))
	f.Add("a\nb\na\nb\n", "a\nb\na\nb", uint16(3), uint8(1))
	f.Add("", "x", uint16(1), uint8(0))
	f.Add("x\r", "\n\n y \r\n", uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, prev, extra string, maxBytes uint16, firstTail uint8) {
		opt := TakeOptions{FirstTail: int(firstTail), MaxBytes: int(maxBytes), Parse: parseMastership}
		limit := opt.MaxBytes
		if limit <= 0 {
			limit = DefaultMaxBytes
		}
		check := func(what, content string, cur devices.LogCursor) ([]string, devices.LogCursor, TakeInfo) {
			got, next, info := TakeNewLines(content, cur, opt)
			size := 0
			for _, l := range got {
				size += len(l)
			}
			if size > limit && len(got) > 1 {
				t.Fatalf("%s: %d bytes in %d lines, cap %d", what, size, len(got), limit)
			}
			if next.Lines != cur.Lines+int64(len(got)) {
				t.Fatalf("%s: Lines %d, want %d", what, next.Lines, cur.Lines+int64(len(got)))
			}
			all := splitLogLines(content)
			if len(got) > len(all) || !slices.Equal(got, all[len(all)-len(got):]) {
				t.Fatalf("%s: lines %q are not the end of the file %q", what, got, all)
			}
			if again, _, _ := TakeNewLines(content, next, opt); len(again) != 0 {
				t.Fatalf("%s: taking again gave %q", what, again)
			}
			return got, next, info
		}
		_, cur, _ := check("first read", prev, devices.LogCursor{})

		// Appended: exactly the new lines (the newest that fit), never a
		// repeat, whatever the lines are.
		got, _, info := check("append", prev+"\n"+extra, cur)
		if len(splitLogLines(prev)) > 0 {
			added := splitLogLines(extra)
			if info.Rotated || info.First {
				t.Fatalf("append seen as %+v", info)
			}
			if len(got)+info.Skipped != len(added) || !slices.Equal(got, added[info.Skipped:]) {
				t.Fatalf("append of %q took %q (skipped %d)", added, got, info.Skipped)
			}
		}

		// Replaced (rotation, clear-log): only the invariants.
		check("replace", extra, cur)
	})
}

// BenchmarkTakeNewLines reads a 5 MB log in which the last 100 lines are
// new (the common poll), and the same file after a rotation (every line
// parsed to compare times).
func BenchmarkTakeNewLines(b *testing.B) {
	var sb strings.Builder
	n := 0
	for sb.Len() < 5<<20 {
		fmt.Fprintf(&sb, "Jan 12 %02d:%02d:%02d re0 chassisd[2190]: CHASSISD_SNMP_TRAP7: SNMP trap generated: FRU insertion (jnxFruContentsIndex %d)\n",
			n/3600%24, n/60%60, n%60, n)
		n++
	}
	content := sb.String()
	all := splitLogLines(content)
	_, cur, _ := TakeNewLines(logFile(all[:len(all)-100]), devices.LogCursor{}, TakeOptions{Parse: parseMastership})
	opt := TakeOptions{Parse: parseMastership}

	b.Run("append", func(b *testing.B) {
		b.SetBytes(int64(len(content)))
		b.ReportAllocs()
		for b.Loop() {
			if got, _, _ := TakeNewLines(content, cur, opt); len(got) != 100 {
				b.Fatalf("took %d lines", len(got))
			}
		}
	})
	b.Run("rotated", func(b *testing.B) {
		rotated := cur
		// Place lost and nothing newer: every line is parsed.
		rotated.Tail = []string{"0000000000000000", "@1"}
		rotated.LastTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		b.SetBytes(int64(len(content)))
		b.ReportAllocs()
		for b.Loop() {
			TakeNewLines(content, rotated, opt)
		}
	})
}

func ExampleTakeNewLines() {
	opt := TakeOptions{FirstTail: 2}
	var cur devices.LogCursor
	lines, cur, _ := TakeNewLines("a\nb\nc\n", cur, opt)
	fmt.Println(lines)
	lines, cur, _ = TakeNewLines("a\nb\nc\nd\n", cur, opt)
	fmt.Println(lines, cur.Lines)
	lines, _, info := TakeNewLines("e\n", cur, opt)
	fmt.Println(lines, info.Rotated)
	// Output:
	// [b c]
	// [d] 3
	// [e] true
}

// TestTakeNewLinesRotatedPastOldSize: a file turned over between two reads
// whose new generation already holds more lines than the old one did, and
// whose last lines even repeat the old tail's shape, is recognised as
// rotated by its first line (the cursor's Head): every line of the new
// file after the last one read is taken, none lost, none twice.
func TestTakeNewLinesRotatedPastOldSize(t *testing.T) {
	opt := TakeOptions{Parse: parseMastership, FirstTail: 1000}
	old := logFile([]string{"Jan 12 20:59:00 re0 newsyslog[1]: logfile turned over"}, commits(0, 10))
	first, cur, _ := TakeNewLines(old, devices.LogCursor{}, opt)
	if len(first) != 11 || cur.Head == "" {
		t.Fatalf("first read took %d lines, head %q", len(first), cur.Head)
	}
	// Lines 10..12 landed in the old file after the read (reading the
	// turned-over file is issue 15's); the new one got 13..40.
	fresh := logFile([]string{"Jan 12 21:00:13 re0 newsyslog[2]: logfile turned over"}, commits(13, 40))
	if len(fresh) <= len(old) {
		t.Fatal("test needs the new file larger than the old")
	}
	got, next, info := TakeNewLines(fresh, cur, opt)
	if !info.Rotated {
		t.Errorf("rotation not recognised: %+v", info)
	}
	want := append([]string{"Jan 12 21:00:13 re0 newsyslog[2]: logfile turned over"}, commits(13, 40)...)
	if !slices.Equal(got, want) {
		t.Errorf("took %d lines after the rotation, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	// The next read of the same file finds its place again.
	again, _, info := TakeNewLines(fresh+commits(40, 41)[0]+"\n", next, opt)
	if info.Rotated || !slices.Equal(again, commits(40, 41)) {
		t.Errorf("read after the rotation: %v %+v", again, info)
	}
}

// TestTakeAcrossRotation: the cursor's place is found in the turned-over
// file (messages.0.gz), so the lines written before the rotation and
// after the last read come from it, then the new file's; each line once.
func TestTakeAcrossRotation(t *testing.T) {
	opt := TakeOptions{Parse: parseMastership, FirstTail: 1000}
	turnover := func(sec int) string {
		return fmt.Sprintf("Jan 12 21:00:%02d re0 newsyslog[%d]: logfile turned over", sec, sec)
	}
	base := logFile(logLines(turnover(0)), commits(1, 10))
	_, cur, _ := TakeNewLines(base, devices.LogCursor{}, opt)
	// The same second as the last line read, twice: found by place, not by time.
	dup := commits(9, 10)
	pair := logLines(mSend, mRecv)
	_, pairCur, _ := TakeNewLines(logFile(logLines(turnover(0)), commits(1, 5), pair, pair), devices.LogCursor{}, opt)
	tests := []struct {
		name             string
		cur              devices.LogCursor
		archive, content string
		want             []string
		info             TakeInfo
	}{
		{name: "lines before and after the rotation",
			cur: cur, archive: logFile(logLines(turnover(0)), commits(1, 20)), content: logFile(logLines(turnover(20)), commits(21, 25)),
			want: append(append(commits(10, 20), turnover(20)), commits(21, 25)...),
			info: TakeInfo{Rotated: true, Found: true, FromArchive: 10}},
		{name: "nothing written between the read and the rotation",
			cur: cur, archive: base, content: logFile(logLines(turnover(20)), commits(21, 22)),
			want: append(logLines(turnover(20)), commits(21, 22)...),
			info: TakeInfo{Rotated: true, Found: true}},
		{name: "repeated last line after the read",
			cur: cur, archive: logFile(logLines(turnover(0)), commits(1, 10), dup, dup), content: logFile(logLines(turnover(20))),
			want: append(append([]string{}, dup[0], dup[0]), turnover(20)),
			info: TakeInfo{Rotated: true, Found: true, FromArchive: 2}},
		// An alternating pair within one second, repeated after the read:
		// the last four lines read occur again at the archive's end, and
		// only line N (the hint) tells the place.
		{name: "the lines after the read repeat the last four read",
			cur: pairCur, archive: logFile(logLines(turnover(0)), commits(1, 5), pair, pair, pair, pair), content: logFile(logLines(turnover(20))),
			want: append(append(append([]string{}, pair...), pair...), turnover(20)),
			info: TakeInfo{Rotated: true, Found: true, FromArchive: 4}},
		{name: "empty new file",
			cur: cur, archive: logFile(logLines(turnover(0)), commits(1, 12)), content: "",
			want: commits(10, 12), info: TakeInfo{Rotated: true, Found: true, FromArchive: 2}},
		{name: "archive older than the cursor (clear-log after an earlier rotation)",
			cur: cur, archive: logFile(commits(0, 5)), content: logFile(logLines("Jan 12 21:00:30 clear-log[865]: logfile cleared")),
			want: logLines("Jan 12 21:00:30 clear-log[865]: logfile cleared"), info: TakeInfo{Rotated: true}},
		{name: "turned over twice: the place is in messages.1.gz",
			cur: cur, archive: logFile(logLines(turnover(30)), commits(31, 33)), content: logFile(logLines(turnover(40))),
			want: append(append(logLines(turnover(30)), commits(31, 33)...), turnover(40)),
			info: TakeInfo{Rotated: true, Gap: true, FromArchive: 3}},
		{name: "first read: the new file's tail only",
			cur: devices.LogCursor{}, archive: base, content: logFile(commits(40, 42)),
			want: commits(40, 42), info: TakeInfo{First: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The poller says Shrunk when the new file is smaller than the
			// old was, as it usually is after a rotation: that must not
			// change where the place is found in the archive.
			shrunk := opt
			shrunk.Shrunk = true
			got, next, info := TakeAcrossRotation(tc.archive, tc.content, tc.cur, shrunk)
			if !slices.Equal(got, tc.want) {
				t.Errorf("took:\n got %q\nwant %q", got, tc.want)
			}
			// LastRead (the zone-change check's line) is the cursor's last
			// line wherever it was found: in the archive here.
			if tc.info.Found && info.LastRead == "" {
				t.Errorf("place found in the archive but no LastRead: %+v", info)
			}
			info.LastRead = ""
			if info != tc.info {
				t.Errorf("info %+v, want %+v", info, tc.info)
			}
			// The next cursor is the new file's: appending to it is found
			// by place.
			more := commits(50, 51)
			again, _, ainfo := TakeNewLines(tc.content+logFile(more), next, opt)
			if !slices.Equal(again, more) || ainfo.Rotated {
				t.Errorf("next read of the new file took %q (%+v), want %q", again, ainfo, more)
			}
		})
	}
}

// TestTakeNewLinesShrunk: a file replaced by an older, shorter copy of
// itself keeps its first line, so only the size says it changed; with
// Shrunk the cursor's line count is not trusted, nothing is taken twice,
// and the lines written after the replacement are taken.
func TestTakeNewLinesShrunk(t *testing.T) {
	opt := TakeOptions{Parse: parseMastership, FirstTail: 1000}
	_, cur, _ := TakeNewLines(logFile(commits(0, 10)), devices.LogCursor{}, opt)
	// The copy holds lines 0..5; one line was written after it replaced the file.
	replaced := logFile(commits(0, 6), commits(20, 21))
	got, _, info := TakeNewLines(replaced, cur, TakeOptions{Parse: parseMastership, Shrunk: true})
	if !info.Rotated || !slices.Equal(got, commits(20, 21)) {
		t.Errorf("shrunk file: took %q (%+v), want %q", got, info, commits(20, 21))
	}
}

// FuzzTakeAcrossRotation: whatever the files, the lines taken fit the
// byte cap, are lines of the two files in order, and the cursor returned
// finds its place again in the new file with something appended.
func FuzzTakeAcrossRotation(f *testing.F) {
	f.Add(logFile(commits(0, 5)), logFile(commits(0, 8)), logFile(commits(8, 9)), uint16(0))
	f.Add(logFile(logLines(mClear, mRecv, mSend, mSend)), logFile(logLines(mClear, mRecv, mSend, mSend, mSend, mEvent)), "", uint16(100))
	f.Add("a\nb\n", "x\r\n\n", "a\nb\n", uint16(1))
	f.Fuzz(func(t *testing.T, prev, archive, content string, maxBytes uint16) {
		opt := TakeOptions{MaxBytes: int(maxBytes), Parse: parseMastership, FirstTail: 1 << 20}
		_, cur, _ := TakeNewLines(prev, devices.LogCursor{}, opt)
		got, next, info := TakeAcrossRotation(archive, content, cur, opt)
		limit := opt.MaxBytes
		if limit <= 0 {
			limit = DefaultMaxBytes
		}
		size := 0
		for _, l := range got {
			size += len(l)
		}
		if size > limit && len(got) > 1 {
			t.Fatalf("took %d bytes in %d lines, cap %d", size, len(got), limit)
		}
		all := append(splitLogLines(archive), splitLogLines(content)...)
		if len(got) > len(all) || (len(got) > 0 && !slices.Equal(got, all[len(all)-len(got):])) {
			t.Fatalf("took %q, not the end of %q", got, all)
		}
		if info.FromArchive > len(got) {
			t.Fatalf("FromArchive %d of %d lines", info.FromArchive, len(got))
		}
		if len(cur.Tail) > 0 {
			again, _, _ := TakeNewLines(content+"\nJan 12 23:59:59 zz\n", next, opt)
			if len(again) == 0 || again[len(again)-1] != "Jan 12 23:59:59 zz" {
				t.Fatalf("the next read of the new file took %q", again)
			}
		}
	})
}

// TestTakeNewLinesLastRead: with the place found, LastRead is the newest
// line the previous read took (ParseNewLines dates it again to see a
// zone change); on a first read or a rotation there is none.
func TestTakeNewLinesLastRead(t *testing.T) {
	content := "Jan 12 21:00:00 a\nJan 12 21:00:01 b\n"
	_, cur, _ := TakeNewLines(content, devices.LogCursor{}, TakeOptions{})
	_, _, info := TakeNewLines(content+"Jan 12 21:00:02 c\n", cur, TakeOptions{})
	if info.LastRead != "Jan 12 21:00:01 b" {
		t.Errorf("LastRead %q, want the line b", info.LastRead)
	}
	if _, _, info := TakeNewLines(content, devices.LogCursor{}, TakeOptions{}); info.LastRead != "" {
		t.Errorf("first read: LastRead %q, want none", info.LastRead)
	}
	if _, _, info := TakeNewLines("Jan 12 22:00:00 cleared\n", cur, TakeOptions{}); !info.Rotated || info.LastRead != "" {
		t.Errorf("rotated: %+v, want Rotated and no LastRead", info)
	}
}

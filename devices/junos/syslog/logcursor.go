package syslog

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// Reading a log incrementally. Junos has no "lines since N" RPC: get-log
// and file-show return the whole file, every poll. TakeNewLines finds
// where the previous read stopped and returns only what follows.
//
// The cursor's Tail holds:
//   - the fingerprints of the last tailLines lines of the content read
//     (newest last), 16 hex digits of the 64-bit FNV-1a hash of the raw
//     line; four consecutive lines are unique in any real log;
//   - then "@N", the number of lines that content had. Between rotations
//     a log only grows, so the place is normally exactly line N, and
//     checking there first keeps repeated lines apart: if the lines just
//     appended repeat the last four read (the same alternating pair within
//     one second, say), the last occurrence of the fingerprints is among
//     the new lines, and searching for it alone would skip them.
//
// The cursor's Head is the fingerprint of the file's first line: when it
// differs, the file was turned over, whatever its size, and line N means
// nothing: the place is then only where the old tail is found again.
//
// The place is line N when the fingerprints match there; otherwise the
// last occurrence of the fingerprints (the front of the file was cut, or
// the cursor has no "@N"); otherwise the file was rotated or cleared.

const (
	// tailLines is how many fingerprints the cursor keeps.
	tailLines = 4
	// DefaultFirstTail is how many lines the first read of a file takes:
	// the agent starts watching a log, it does not import its history.
	DefaultFirstTail = 500
	// DefaultMaxBytes caps one poll's take, so a log flood cannot make one
	// poll store megabytes; the newest lines are kept.
	DefaultMaxBytes = 1 << 20
)

// TakeOptions tunes TakeNewLines. The zero value gives the defaults.
type TakeOptions struct {
	// FirstTail is how many of the last lines the first read takes;
	// zero or less means DefaultFirstTail.
	FirstTail int
	// MaxBytes caps the bytes (line bytes, no newlines) taken per call;
	// zero or less means DefaultMaxBytes. When more is new, the newest
	// lines that fit are taken and the rest counted in TakeInfo.Skipped.
	// A single newest line longer than the cap is still taken whole.
	MaxBytes int
	// Parse reads a line's time, for the cursor's LastTime and for
	// deciding which lines of a rotated file are new; typically ParseLine
	// bound to the file and the device clock. Nil means no times: LastTime
	// is not updated and a rotated file is taken whole.
	Parse func(string) devices.LogLine
	// Shrunk says the file is smaller than when the cursor was written
	// (the file listing says so): it was truncated or replaced, since a
	// log between rotations only grows. The place is then not taken to be
	// line N even when the first line is the same (a file replaced by an
	// older, shorter copy of itself), only where the old tail is found.
	Shrunk bool
	// Thorough makes a Taker show every line to Parse as it passes when
	// the place may be lost, instead of betting it is the cursor's line N
	// (see ErrReadAgain). TakeNewLines holds the whole file and needs it
	// not.
	Thorough bool
}

// TakeInfo says how TakeNewLines found its place.
type TakeInfo struct {
	// First is set when the cursor had no place (the file's first read).
	First bool
	// Rotated is set when the cursor's place is no longer in the file: it
	// was rotated or cleared (clear-log writes "logfile cleared" as the
	// first line of the emptied file).
	Rotated bool
	// Skipped counts new lines not taken because of MaxBytes.
	Skipped int
	// Across a rotation (TakeAcrossRotation): Found says the cursor's
	// place was found in the archive, FromArchive how many of the lines
	// taken are the archive's, and Gap that the place was in neither
	// file while the archive holds lines newer than the cursor: the file
	// turned over more than once, and lines may be missing.
	Found       bool
	FromArchive int
	Gap         bool
	// LastRead is the newest line the previous read took, when the place
	// was found after it: ParseNewLines compares how it dates now with
	// cur.LastTime to see the device's zone change (issue 19).
	LastRead string
}

// TakeNewLines returns the lines of content that follow cur, oldest
// first, and the cursor to pass next time. It is pure: same inputs, same
// outputs.
//
//   - First read (cur.Tail empty): the last FirstTail lines.
//   - The place found: the lines after it; none when nothing was added.
//   - The place lost (rotation, clear-log): the lines from the first one
//     dated after cur.LastTime on (lines at exactly LastTime count as new
//     unless they are among the last lines read); all lines when no line
//     has a time or LastTime is unknown.
//
// Empty and whitespace-only lines are not log lines: they are neither
// returned nor counted. Empty content returns no lines and cur unchanged,
// because an empty answer may be a transient failure and moving the
// cursor to it would make the next read take the whole file again.
// next.Lines is cur.Lines plus the lines returned; next.LastTime is the
// time of the newest returned line that has one (cur.LastTime if none).
// The returned strings are copies, so they do not keep content alive.
func TakeNewLines(content string, cur devices.LogCursor, opt TakeOptions) (lines []string, next devices.LogCursor, info TakeInfo) {
	t := newTaker(cur, opt, true)
	t.setAll(splitLogLines(content))
	lines, next, info, _ = t.Finish()
	return lines, next, info
}

// TakeAcrossRotation is TakeNewLines for a file that was turned over
// since cur was written: archive is the turned-over file as the device
// shows it (messages.0.gz, decompressed by "show log"), content the file
// that replaced it. The cursor's place is looked for in the archive; the
// archive's lines after it, then every line of the new file, are new.
// So a rotation between two polls loses none of the lines written before
// it and takes each line once.
//
// When the place is not in the archive either, the lines of both dated
// after cur.LastTime are taken, as TakeNewLines does for a lost place,
// and info.Gap says whether the archive holds such lines: then the file
// turned over more than once since cur (the place is in an older
// generation, messages.1.gz), and what was written in between is not
// read. An archive whose lines are all older than the cursor predates
// it (clear-log after an earlier rotation): no gap.
//
// next is the cursor of content alone, as if content had been read with
// TakeNewLines; next.Lines counts the lines of both. With an empty new
// file next has no fingerprints and a count of zero, so every line
// written to it later is new.
func TakeAcrossRotation(archive, content string, cur devices.LogCursor, opt TakeOptions) (lines []string, next devices.LogCursor, info TakeInfo) {
	if len(cur.Tail) == 0 {
		return TakeNewLines(content, cur, opt)
	}
	// The archive is the file the cursor was written for, grown: its
	// line N is where the place is looked for first, even when the new
	// file is smaller than the old one was (opt.Shrunk is about that).
	opt.Shrunk = false
	old := splitLogLines(archive)
	fresh := splitLogLines(content)
	all := append(old[:len(old):len(old)], fresh...)
	if len(all) == 0 {
		return nil, cur, TakeInfo{Rotated: true}
	}
	t := newTaker(cur, opt, true)
	t.from = len(old)
	t.setAll(all)
	lines, next, info, _ = t.Finish()
	info.Rotated = true
	return lines, next, info
}

func totalLen(lines []string) int {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	return n
}

// splitLogLines returns the non-blank lines of content, without their
// line endings, as substrings of content.
func splitLogLines(content string) []string {
	lines := make([]string, 0, strings.Count(content, "\n")+1)
	for len(content) > 0 {
		line := content
		if i := strings.IndexByte(content, '\n'); i >= 0 {
			line, content = content[:i], content[i+1:]
		} else {
			content = ""
		}
		line = strings.TrimSuffix(line, "\r")
		if !isBlankLine(line) {
			lines = append(lines, line)
		}
	}
	return lines
}

func isBlankLine[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f' {
			return false
		}
	}
	return true
}

// fingerprint is the 64-bit FNV-1a hash of line, written out by hand so
// that hashing a 5 MB file allocates nothing.
func fingerprint[T string | []byte](line T) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(line); i++ {
		h ^= uint64(line[i])
		h *= prime
	}
	return h
}

// tailOf returns the Tail for a cursor that has read lines whose
// fingerprints end in last (the newest tailLines of them at most).
func tailOf(last []uint64, lines int) []string {
	tail := make([]string, 0, len(last)+1)
	for _, h := range last {
		tail = append(tail, fmtFingerprint(h))
	}
	return append(tail, "@"+strconv.Itoa(lines))
}

func fmtFingerprint(h uint64) string {
	s := strconv.FormatUint(h, 16)
	return strings.Repeat("0", 16-len(s)) + s
}

// readTail parses a cursor's Tail. ok is false for a Tail this package did
// not write (another format, hand-edited): the caller then treats the
// place as lost, which at worst re-reads lines newer than LastTime.
func readTail(tail []string) (fps []uint64, hint int, ok bool) {
	hint = -1
	for i, s := range tail {
		if n, isHint := strings.CutPrefix(s, "@"); isHint {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 || i != len(tail)-1 {
				return nil, -1, false
			}
			hint = v
			continue
		}
		if len(s) != 16 {
			return nil, -1, false
		}
		h, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			return nil, -1, false
		}
		fps = append(fps, h)
	}
	return fps, hint, true
}

// findPlace returns the index of the first line after the cursor's place
// in a file of n lines whose fingerprints fp gives. sameHead says the
// file still starts with the line it started with (or the cursor does not
// know): only then is line N, the hint, tried first. A file whose first
// line changed was turned over or cleared, and only the old tail itself,
// found anywhere, says otherwise (the front of a file cut by a size cap).
func findPlace(fp func(int) uint64, n int, tail []string, sameHead bool) (int, bool) {
	fps, hint, ok := readTail(tail)
	if !ok {
		return 0, false
	}
	k := len(fps)
	if k == 0 {
		// Only a count: the content read had no lines.
		if sameHead && hint >= 0 && hint <= n {
			return hint, true
		}
		return 0, false
	}
	if sameHead && hint >= k && hint <= n && matchesAt(fp, fps, hint) {
		return hint, true
	}
	for end := n; end >= k; end-- {
		if fp(end-1) == fps[k-1] && matchesAt(fp, fps, end) {
			return end, true
		}
	}
	return 0, false
}

// matchesAt reports whether the fingerprints of the lines just before
// line end are fps.
func matchesAt(fp func(int) uint64, fps []uint64, end int) bool {
	k := len(fps)
	for j := range k {
		if fp(end-k+j) != fps[j] {
			return false
		}
	}
	return true
}

// newLineFinder finds, line by line, the first line of a rotated or
// cleared file that is new: dated after cur.LastTime, or dated exactly
// then but not among the last lines read (several lines share a second,
// and the place was lost between them). Undated lines go with the line
// before them. Without times to compare, the whole file is new.
type newLineFinder struct {
	parse    func(string) devices.LogLine
	last     time.Time
	fps      []uint64 // the cursor's tail
	off      bool     // nothing to compare: line 0 is the first new one
	dated    bool
	found    bool
	index    int // the first new line, once found
	examined int // lines looked at so far
}

func newNewLineFinder(cur devices.LogCursor, parse func(string) devices.LogLine) newLineFinder {
	f := newLineFinder{parse: parse, last: cur.LastTime, off: parse == nil || cur.LastTime.IsZero()}
	f.fps, _, _ = readTail(cur.Tail)
	return f
}

// done says whether more lines can change the answer.
func (f *newLineFinder) done() bool { return f.off || f.found }

// look examines the next line, in order.
func (f *newLineFinder) look(line string) {
	i := f.examined
	f.examined++
	if f.done() {
		return
	}
	t := f.parse(line).Time
	if t.IsZero() {
		return
	}
	f.dated = true
	if t.After(f.last) || (t.Equal(f.last) && !slices.Contains(f.fps, fingerprint(line))) {
		f.found, f.index = true, i
	}
}

// result is the index of the first new line of a file of n lines, all
// looked at.
func (f *newLineFinder) result(n int) int {
	switch {
	case f.off || !f.dated:
		return 0
	case f.found:
		return f.index
	default:
		return n
	}
}

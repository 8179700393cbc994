package syslog

import (
	"strconv"
	"strings"

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
	all := splitLogLines(content)
	if len(all) == 0 {
		return nil, cur, TakeInfo{First: len(cur.Tail) == 0}
	}
	return take(all, 0, cur, opt)
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
	lines, next, info = take(all, len(old), cur, opt)
	info.Rotated = true
	return lines, next, info
}

// take returns the lines of all after cur's place, and the cursor of
// all[from:]: the file being read, after from lines of the file it
// replaced (from is zero but across a rotation).
func take(all []string, from int, cur devices.LogCursor, opt TakeOptions) (lines []string, next devices.LogCursor, info TakeInfo) {
	firstTail, maxBytes := opt.FirstTail, opt.MaxBytes
	if firstTail <= 0 {
		firstTail = DefaultFirstTail
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	info.First = len(cur.Tail) == 0

	var start int
	sameHead := !opt.Shrunk && (cur.Head == "" || cur.Head == fmtFingerprint(fingerprint(all[0])))
	if info.First {
		start = max(0, len(all)-firstTail)
	} else if p, ok := findPlace(all, cur.Tail, sameHead); ok {
		start = p
		info.Found = from > 0 && p <= from
		if p > 0 {
			info.LastRead = strings.Clone(all[p-1]) // not a view of the reply
		}
	} else {
		info.Rotated = true
		start = firstAfter(all, cur, opt.Parse)
		info.Gap = from > 0 && start < from
	}
	fresh := all[start:]
	keep := len(fresh) // how many of the newest fit in maxBytes
	for n, size := 0, 0; n < len(fresh); n++ {
		size += len(fresh[len(fresh)-1-n])
		if size > maxBytes {
			keep = max(n, 1)
			break
		}
	}
	info.Skipped = len(fresh) - keep
	fresh = fresh[len(fresh)-keep:]
	info.FromArchive = max(0, from-start-info.Skipped)

	// Copy the lines into one block, so that they neither keep the whole
	// reply alive nor cost an allocation each.
	var b strings.Builder
	b.Grow(totalLen(fresh))
	for _, l := range fresh {
		b.WriteString(l)
	}
	block := b.String()
	lines = make([]string, len(fresh))
	for i, l := range fresh {
		lines[i], block = block[:len(l)], block[len(l):]
	}
	next = cur
	next.Tail = tailOf(all[from:])
	next.Head = ""
	if from < len(all) {
		next.Head = fmtFingerprint(fingerprint(all[from]))
	}
	next.Lines = cur.Lines + int64(len(lines))
	if opt.Parse != nil {
		for i := len(lines) - 1; i >= 0; i-- {
			if t := opt.Parse(lines[i]).Time; !t.IsZero() {
				next.LastTime = t
				break
			}
		}
	}
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

func isBlankLine(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f' {
			return false
		}
	}
	return true
}

// fingerprint is the 64-bit FNV-1a hash of line, written out by hand so
// that hashing a 5 MB file allocates nothing.
func fingerprint(line string) uint64 {
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

// tailOf returns the Tail for a cursor that has read all of lines.
func tailOf(lines []string) []string {
	k := min(tailLines, len(lines))
	tail := make([]string, 0, k+1)
	for _, l := range lines[len(lines)-k:] {
		tail = append(tail, fmtFingerprint(fingerprint(l)))
	}
	return append(tail, "@"+strconv.Itoa(len(lines)))
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

// findPlace returns the index of the first line after the cursor's place.
// sameHead says the file still starts with the line it started with (or
// the cursor does not know): only then is line N, the hint, tried first.
// A file whose first line changed was turned over or cleared, and only
// the old tail itself, found anywhere, says otherwise (the front of a
// file cut by a size cap).
func findPlace(lines []string, tail []string, sameHead bool) (int, bool) {
	fps, hint, ok := readTail(tail)
	if !ok {
		return 0, false
	}
	k := len(fps)
	if k == 0 {
		// Only a count: the content read had no lines.
		if sameHead && hint >= 0 && hint <= len(lines) {
			return hint, true
		}
		return 0, false
	}
	matchesAt := func(end int) bool {
		for j := range k {
			if fingerprint(lines[end-k+j]) != fps[j] {
				return false
			}
		}
		return true
	}
	if sameHead && hint >= k && hint <= len(lines) && matchesAt(hint) {
		return hint, true
	}
	for end := len(lines); end >= k; end-- {
		if fingerprint(lines[end-1]) == fps[k-1] && matchesAt(end) {
			return end, true
		}
	}
	return 0, false
}

// firstAfter returns the index of the first line of a rotated or cleared
// file that is new: dated after cur.LastTime, or dated exactly then but
// not among the last lines read (several lines share a second, and the
// place was lost between them). Undated lines go with the line before
// them. Without times to compare, the whole file is new.
func firstAfter(lines []string, cur devices.LogCursor, parse func(string) devices.LogLine) int {
	if parse == nil || cur.LastTime.IsZero() {
		return 0
	}
	fps, _, _ := readTail(cur.Tail)
	wasRead := func(line string) bool {
		h := fingerprint(line)
		for _, f := range fps {
			if f == h {
				return true
			}
		}
		return false
	}
	dated := false
	for i, l := range lines {
		t := parse(l).Time
		if t.IsZero() {
			continue
		}
		dated = true
		if t.After(cur.LastTime) || (t.Equal(cur.LastTime) && !wasRead(l)) {
			return i
		}
	}
	if !dated {
		return 0
	}
	return len(lines)
}

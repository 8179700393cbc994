package syslog

import (
	"errors"
	"slices"
	"strings"

	"github.com/mastership/mastership/devices"
)

// ErrReadAgain is what Taker.Finish returns in the one case a single pass
// cannot answer exactly: the cursor said the place was line N, the file
// still starts as it did, so the lines before N were let go unparsed; but
// the place is nowhere in the file, and which of those lines are new
// (TakeNewLines' rule for a rotated file) can no longer be told. Read the
// file again with TakeOptions.Thorough. It needs a file that kept its
// first line, lost its place and is longer than MaxBytes: a file
// truncated or replaced in place, not a rotation.
var ErrReadAgain = errors.New("syslog: the log's place was lost after its lines had passed; read it again thoroughly")

// Taker is TakeNewLines for a log that arrives line by line, as a reply
// streams: it keeps the fingerprint of every line (8 bytes a line) and the
// text of only the newest lines that MaxBytes lets a poll take, so reading
// a file costs about MaxBytes of memory whatever its size. Fed the lines
// of content, Finish returns what TakeNewLines(content, …) returns. It is
// pure, as TakeNewLines is.
type Taker struct {
	cur       devices.LogCursor
	firstTail int
	maxBytes  int
	parse     func(string) devices.LogLine
	keepAll   bool // TakeNewLines: every line given at once (setAll), nothing parsed early
	thorough  bool
	shrunk    bool // TakeOptions.Shrunk: the first line being the same proves nothing
	// from is, across a rotation (TakeAcrossRotation), how many of the
	// lines are the turned-over file's: the cursor returned is that of
	// the lines after them, the new file's. Zero otherwise.
	from int
	// lastRead is the line the bet matched at (the cursor's last line),
	// copied as it passed, for TakeInfo.LastRead: it may be let go
	// before Finish.
	lastRead string

	n int // lines so far
	// Every line's fingerprint, in blocks of fpBlock so that a long file
	// costs 8 bytes a line and no copying as it grows; with keepAll they
	// are computed when asked (fp).
	fps [][]uint64

	// The newest lines, as text: all of them with keepAll, else the most
	// recent that fit in maxBytes (at least one), concatenated in buf.
	all   []string
	buf   []byte
	ends  []int // ends[i-base]: where line i ends in buf
	base  int   // the line ends[0] is about
	lo    int   // the oldest line kept
	loOff int   // where it starts in buf
	bytes int   // the kept lines' size

	// The place.
	sameHead bool
	hint     int
	bet      bool // betting the place is line hint: lines before it are let go unparsed
	placed   bool // the bet won: the hint matched
	unparsed int  // lines let go without the finder seeing them
	finder   newLineFinder
}

// fpBlock is how many fingerprints a block holds (32 KiB).
const fpBlock = 4096

// NewTaker returns a Taker continuing from cur, with TakeNewLines' options.
func NewTaker(cur devices.LogCursor, opt TakeOptions) *Taker { return newTaker(cur, opt, false) }

func newTaker(cur devices.LogCursor, opt TakeOptions, keepAll bool) *Taker {
	t := &Taker{cur: cur, firstTail: opt.FirstTail, maxBytes: opt.MaxBytes, parse: opt.Parse, keepAll: keepAll,
		thorough: opt.Thorough, shrunk: opt.Shrunk}
	if t.firstTail <= 0 {
		t.firstTail = DefaultFirstTail
	}
	if t.maxBytes <= 0 {
		t.maxBytes = DefaultMaxBytes
	}
	t.finder = newNewLineFinder(cur, opt.Parse)
	return t
}

// Add takes the next line of the file, without its line ending ("\r"
// included, as TakeNewLines strips it). The taker copies what it keeps.
// Blank lines are not log lines, and are skipped.
func (t *Taker) Add(line []byte) {
	if isBlankLine(line) {
		return
	}
	t.start(fingerprint(line))
	if t.placed && t.n == t.hint {
		t.lastRead = string(line)
	}
	if len(t.buf)+len(line) > cap(t.buf) || len(t.ends) == cap(t.ends) {
		t.compact() // before growing: the lines let go make room
		if need := len(t.buf) + len(line); need > cap(t.buf) {
			// Doubling: append's gentler growth for big slices would
			// allocate the window several times over.
			t.buf = slices.Grow(t.buf, max(2*cap(t.buf), need, 4096)-len(t.buf))
		}
	}
	t.buf = append(t.buf, line...)
	t.ends = append(t.ends, len(t.buf))
	t.bytes += len(line)
	for t.n-t.lo > 1 && t.bytes > t.maxBytes {
		t.drop()
	}
}

// setAll gives a TakeNewLines taker the whole file at once, as it is.
func (t *Taker) setAll(lines []string) {
	t.all, t.n = lines, len(lines)
	if t.n > 0 {
		t.sameHead = !t.shrunk && (t.cur.Head == "" || t.cur.Head == fmtFingerprint(fingerprint(lines[0])))
	}
}

// fp is line i's fingerprint.
func (t *Taker) fp(i int) uint64 {
	if t.keepAll {
		return fingerprint(t.all[i])
	}
	return t.fps[i/fpBlock][i%fpBlock]
}

// start records a new line's fingerprint and, at the first line and at
// line hint, what it says about the place.
func (t *Taker) start(fp uint64) {
	if t.n%fpBlock == 0 {
		// The first block grows as the file does: most logs are short.
		t.fps = append(t.fps, make([]uint64, 0, min(fpBlock, 64<<min(len(t.fps)*6, 6))))
	}
	t.fps[len(t.fps)-1] = append(t.fps[len(t.fps)-1], fp)
	t.n++
	n := t.n
	if n == 1 {
		t.sameHead = !t.shrunk && (t.cur.Head == "" || t.cur.Head == fmtFingerprint(fp))
		tail, hint, ok := readTail(t.cur.Tail)
		t.hint = hint
		// Only a place that can be checked at line hint is bet on; the
		// first read needs no place at all.
		t.bet = !t.keepAll && !t.thorough && len(t.cur.Tail) > 0 && ok && t.sameHead && len(tail) > 0 && hint >= len(tail)
	}
	if t.bet && n == t.hint {
		tail, _, _ := readTail(t.cur.Tail)
		t.placed = matchesAt(t.fp, tail, n)
		t.bet = false
	}
}

// drop lets the oldest kept line go, showing it to the finder first when
// the place may turn out lost.
func (t *Taker) drop() {
	end := t.ends[t.lo-t.base]
	line := t.buf[t.loOff:end]
	switch {
	case t.placed || t.finder.done() || len(t.cur.Tail) == 0:
	case t.bet || t.unparsed > 0:
		t.unparsed++
	default:
		t.finder.look(string(line))
	}
	t.bytes -= len(line)
	t.loOff = end
	t.lo++
}

// compact moves the kept lines to the front of the buffers.
func (t *Taker) compact() {
	if t.lo == t.base {
		return
	}
	t.buf = t.buf[:copy(t.buf, t.buf[t.loOff:])]
	kept := t.ends[t.lo-t.base:]
	for i := range kept {
		kept[i] -= t.loOff
	}
	t.ends = t.ends[:copy(t.ends, kept)]
	t.base, t.loOff = t.lo, 0
}

// lineLen is the length of kept line i.
func (t *Taker) lineLen(i int) int {
	if t.keepAll {
		return len(t.all[i])
	}
	return t.lineEnd(i) - t.lineStart(i)
}

func (t *Taker) lineEnd(i int) int { return t.ends[i-t.base] }

func (t *Taker) lineStart(i int) int {
	if i > t.lo {
		return t.lineEnd(i - 1)
	}
	return t.loOff
}

// appendLine appends kept line i to dst.
func (t *Taker) appendLine(dst []byte, i int) []byte {
	if t.keepAll {
		return append(dst, t.all[i]...)
	}
	return append(dst, t.buf[t.lineStart(i):t.lineEnd(i)]...)
}

// lineString returns kept line i as a string.
func (t *Taker) lineString(i int) string {
	if t.keepAll {
		return t.all[i]
	}
	return string(t.buf[t.lineStart(i):t.lineEnd(i)])
}

// Finish returns the lines that follow the cursor, oldest first, the
// cursor to pass next time and how the place was found, as TakeNewLines
// does; or ErrReadAgain (see there).
func (t *Taker) Finish() (lines []string, next devices.LogCursor, info TakeInfo, err error) {
	cur := t.cur
	info.First = len(cur.Tail) == 0
	n := t.n
	if n == 0 {
		return nil, cur, info, nil
	}
	var start int
	found := false
	switch {
	case info.First:
		start = max(0, n-t.firstTail)
	case t.placed:
		start, found = t.hint, true
	default:
		p, ok := findPlace(t.fp, n, cur.Tail, t.sameHead)
		if ok {
			start, found = p, true
			break
		}
		info.Rotated = true
		if t.unparsed > 0 {
			return nil, cur, info, ErrReadAgain
		}
		for i := t.finder.examined; i < n && !t.finder.done(); i++ {
			t.finder.look(t.lineString(i))
		}
		start = t.finder.result(n)
		info.Gap = t.from > 0 && start < t.from
	}
	if found {
		info.Found = t.from > 0 && start <= t.from
		switch {
		case t.lastRead != "":
			info.LastRead = t.lastRead
		case start > 0 && (t.keepAll || start-1 >= t.lo):
			info.LastRead = strings.Clone(t.lineString(start - 1)) // not a view of the reply
		}
	}

	// The newest lines of what is new that fit in maxBytes. The kept lines
	// are the newest that fit in all the file, so they hold them.
	from := max(start, t.lo)
	keep := n - from
	for k, size := 0, 0; k < n-from; k++ {
		size += t.lineLen(n - 1 - k)
		if size > t.maxBytes {
			keep = max(k, 1)
			break
		}
	}
	info.Skipped = n - start - keep
	info.FromArchive = max(0, t.from-start-info.Skipped)

	// Copy the lines into one block, so that they neither keep the whole
	// reply alive nor cost an allocation each.
	size := 0
	for i := n - keep; i < n; i++ {
		size += t.lineLen(i)
	}
	block := make([]byte, 0, size)
	for i := n - keep; i < n; i++ {
		block = t.appendLine(block, i)
	}
	all := string(block)
	lines = make([]string, keep)
	for i := range lines {
		l := t.lineLen(n - keep + i)
		lines[i], all = all[:l], all[l:]
	}
	next = cur
	last := make([]uint64, 0, tailLines)
	for i := max(t.from, n-min(tailLines, n)); i < n; i++ {
		last = append(last, t.fp(i))
	}
	next.Tail = tailOf(last, n-t.from)
	next.Head = ""
	if t.from < n {
		next.Head = fmtFingerprint(t.fp(t.from))
	}
	next.Lines = cur.Lines + int64(len(lines))
	if t.parse != nil {
		for i := len(lines) - 1; i >= 0; i-- {
			if tm := t.parse(lines[i]).Time; !tm.IsZero() {
				next.LastTime = tm
				break
			}
		}
	}
	return lines, next, info, nil
}

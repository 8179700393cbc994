package junos

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/syslog"
)

// Reading a log reply as it streams. A reply to GetLogRPC or FileShowRPC
// is the whole file, every poll, and only the lines past the cursor are
// kept: LogTaker reads the reply a piece at a time (it is an io.Writer,
// for netconf.Session.RPCStream) and keeps
//
//   - the reply's markup, with the text of each <file-content> and
//     <output> element longer than a few KiB left out (the skeleton);
//   - for the one element the file can come from, the lines a
//     syslog.Taker keeps: the newest MaxBytes of them and a fingerprint
//     per line.
//
// The skeleton goes through DecodeLogContent's own section logic, which
// picks the element; so the answer is DecodeLogContent's followed by
// syslog.TakeNewLines', which TakeLogContent's tests and
// FuzzLogTakerAgrees hold it to. A text left out is validated as it
// passes, with the scanner's rules, and replaced in the skeleton by a
// placeholder that names it.

// errNotStreamable marks a reply that is well-formed for encoding/xml but
// that the streaming reader does not take: a DOCTYPE, CDATA inside a log's
// text, markup of more than maxSkeleton bytes. Junos sends none of them.
var errNotStreamable = errors.New("the reply cannot be read as it streams")

const (
	// holdBytes is how much of an element's text is held, verbatim, before
	// it is streamed: notices ("Aborted! …", an error's message) stay in
	// the skeleton as they are.
	holdBytes = 4 << 10
	// maxSkeleton bounds the markup and held text kept.
	maxSkeleton = 4 << 20
	// placeholderMark starts a placeholder: a private-use character, which
	// forces any text holding it (or a character reference, which may
	// make it) to be streamed, so that no text kept verbatim looks like one.
	placeholderMark = "\uF8FF"
)

// LogTaker reads a log reply as it arrives and keeps only the lines past
// a cursor. It is pure: Write and Finish do no I/O. Write never fails;
// what goes wrong is Finish's error.
type LogTaker struct {
	cur  devices.LogCursor
	opt  syslog.TakeOptions
	hold int

	skel  []byte // the reply, with streamed texts left out
	pend  []byte // markup not yet complete
	scan  markupScan
	stack []*streamElem // open elements; nil for those not followed
	elems []*streamElem // the followed ones, by ordinal
	// Open <file-content> and <output> elements: one inside another of
	// its kind is not a section of its own.
	openFC, openOut int
	keptFC, keptOut int   // ordinal of the element whose lines are kept, -1
	size            int64 // bytes of reply
	err             error
}

// NewLogTaker returns a LogTaker continuing from cur, with TakeNewLines'
// options.
func NewLogTaker(cur devices.LogCursor, opt syslog.TakeOptions) *LogTaker {
	return &LogTaker{cur: cur, opt: opt, hold: holdBytes, keptFC: -1, keptOut: -1}
}

// LogTake is what a log reply gave past the cursor.
type LogTake struct {
	Lines []string
	Next  devices.LogCursor
	Info  syslog.TakeInfo
	// Size is about the size of the file the reply carried (its text
	// after unindent), for the large-log note.
	Size int64
}

// TakeLogContent is DecodeLogContent followed by syslog.TakeNewLines, on
// a reply held whole, through a LogTaker.
func TakeLogContent(reply []byte, cur devices.LogCursor, opt syslog.TakeOptions) (LogTake, error) {
	t := NewLogTaker(cur, opt)
	_, _ = t.Write(reply)
	return t.Finish()
}

// streamElem is a <file-content> or <output> being read.
type streamElem struct {
	output   bool
	ord      int
	section  bool // not inside another element of its kind
	verbatim bool // never streamed: a file-content not in text encoding
	held     [][]byte
	heldLen  int
	open     bool // the last held piece continues
	sink     *textSink
}

// markupScan is where the search for the end of a piece of markup
// stopped, so that markup split across Writes is not searched again.
type markupScan struct {
	kind  byte // 't' tag, 'c' comment, 'p' processing instruction, 'd' CDATA; 0 unknown yet
	quote byte
	pos   int
}

// Write reads the next bytes of the reply.
func (t *LogTaker) Write(p []byte) (int, error) {
	n := len(p)
	t.size += int64(n)
	for len(p) > 0 && t.err == nil {
		if len(t.pend) > 0 {
			p = t.continueMarkup(p)
			continue
		}
		i := bytes.IndexByte(p, '<')
		if i < 0 {
			t.text(p, false)
			break
		}
		if i > 0 {
			t.text(p[:i], true)
		}
		t.scan = markupScan{}
		t.pend = append(t.pend, '<')
		p = p[i+1:]
	}
	return n, nil
}

func (t *LogTaker) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// continueMarkup adds bytes of p to the markup being read and returns
// what follows it. Every kind of markup ends in '>', so p is added up to
// each '>' in turn: a byte is copied once.
func (t *LogTaker) continueMarkup(p []byte) []byte {
	for len(p) > 0 {
		j := bytes.IndexByte(p, '>')
		take := p
		if j >= 0 {
			take = p[:j+1]
		}
		t.pend = append(t.pend, take...)
		p = p[len(take):]
		if end, done := t.markupEnd(); done {
			// The end is the '>' just added.
			t.markup(t.pend[:end])
			t.pend = t.pend[:0]
			return p
		}
		if t.err != nil {
			return nil
		}
		if len(t.pend)+len(t.skel) > maxSkeleton {
			t.fail(fmt.Errorf("%w: markup over %d bytes", errNotStreamable, maxSkeleton))
			return nil
		}
	}
	return nil
}

// markupEnd finds the end of the markup in pend, resuming the search.
func (t *LogTaker) markupEnd() (end int, done bool) {
	m, sc := t.pend, &t.scan
	if sc.kind == 0 {
		switch {
		case len(m) < 2:
			return 0, false
		case m[1] == '?':
			sc.kind, sc.pos = 'p', 2
		case m[1] != '!':
			sc.kind, sc.pos = 't', 1
		case len(m) < 4:
			return 0, false
		case string(m[:4]) == "<!--":
			sc.kind, sc.pos = 'c', 4
		case len(m) < 9:
			if !strings.HasPrefix("<![CDATA[", string(m)) {
				t.fail(fmt.Errorf("%w: a DOCTYPE or other declaration", errNotStreamable))
			}
			return 0, false
		case string(m[:9]) == "<![CDATA[":
			sc.kind, sc.pos = 'd', 9
		default:
			t.fail(fmt.Errorf("%w: a DOCTYPE or other declaration", errNotStreamable))
			return 0, false
		}
	}
	var close string
	switch sc.kind {
	case 't':
		for i := sc.pos; i < len(m); i++ {
			switch c := m[i]; {
			case sc.quote != 0:
				if c == sc.quote {
					sc.quote = 0
				}
			case c == '"' || c == '\'':
				sc.quote = c
			case c == '>':
				return i + 1, true
			}
		}
		sc.pos = len(m)
		return 0, false
	case 'c':
		close = "-->"
	case 'p':
		close = "?>"
	default:
		close = "]]>"
	}
	if i := bytes.Index(m[sc.pos:], []byte(close)); i >= 0 {
		return sc.pos + i + len(close), true
	}
	sc.pos = max(sc.pos, len(m)-len(close)+1)
	return 0, false
}

// emit adds b to the skeleton.
func (t *LogTaker) emit(b []byte) {
	if len(t.skel)+len(b) > maxSkeleton {
		t.fail(fmt.Errorf("%w: markup over %d bytes", errNotStreamable, maxSkeleton))
		return
	}
	t.skel = append(t.skel, b...)
}

func (t *LogTaker) top() *streamElem {
	if len(t.stack) == 0 {
		return nil
	}
	return t.stack[len(t.stack)-1]
}

// markup handles one complete piece of markup.
func (t *LogTaker) markup(m []byte) {
	if e := t.top(); e != nil {
		e.open = false // the text piece ends here
		if e.sink != nil {
			e.sink.endPiece()
		}
	}
	switch {
	case bytes.HasPrefix(m, []byte("<!--")), bytes.HasPrefix(m, []byte("<?")):
		t.emit(m)
	case bytes.HasPrefix(m, []byte("<![CDATA[")):
		if t.top() != nil {
			t.fail(fmt.Errorf("%w: CDATA in a log's text", errNotStreamable))
			return
		}
		t.emit(m)
	case bytes.HasPrefix(m, []byte("</")):
		if len(t.stack) > 0 {
			e := t.top()
			t.stack = t.stack[:len(t.stack)-1]
			if e != nil {
				t.closeElem(e)
			}
		}
		t.emit(m)
	default:
		t.emit(m)
		if bytes.HasSuffix(m, []byte("/>")) {
			return
		}
		name := m[1:]
		if k := bytes.IndexAny(name, " \t\r\n/>"); k >= 0 {
			name = name[:k]
		}
		var e *streamElem
		switch string(localName(name)) {
		case "file-content":
			e = &streamElem{ord: len(t.elems), section: t.openFC == 0, verbatim: !textEncoded(m)}
			t.openFC++
		case "output":
			e = &streamElem{output: true, ord: len(t.elems), section: t.openOut == 0}
			t.openOut++
		}
		if e != nil {
			t.elems = append(t.elems, e)
		}
		t.stack = append(t.stack, e)
	}
}

// textEncoded reports whether a <file-content> start tag says its text
// is the file (no encoding, or "text"); a tag the scanner does not read
// is kept verbatim, for DecodeLogContent's reference to judge.
func textEncoded(tag []byte) bool {
	s := newScanner(tag)
	if s.next() != tokStart {
		return false
	}
	enc := ""
	s.eachAttr(func(a attr) {
		if string(a.local) == "encoding" {
			enc = s.value(a)
		}
	})
	enc = strings.ToLower(strings.TrimSpace(enc))
	return enc == "" || enc == "text"
}

// text handles character data; ends says markup follows it.
func (t *LogTaker) text(b []byte, ends bool) {
	e := t.top()
	if e == nil {
		t.emit(b)
		return
	}
	if e.sink != nil {
		e.sink.write(b)
		return
	}
	if e.open {
		last := len(e.held) - 1
		e.held[last] = append(e.held[last], b...)
	} else {
		e.held = append(e.held, bytes.Clone(b))
	}
	e.open = !ends
	e.heldLen += len(b)
	switch {
	case e.verbatim:
		if len(t.skel)+e.heldLen > maxSkeleton {
			t.fail(fmt.Errorf("%w: base64 file content over %d bytes", errNotStreamable, maxSkeleton))
		}
	case e.heldLen > t.hold:
		t.stream(e)
	}
}

// stream starts reading e's text as it passes.
func (t *LogTaker) stream(e *streamElem) {
	full := e.section
	if full && !e.output && t.keptFC >= 0 || full && e.output && t.keptOut >= 0 {
		full = false // a section before it already gives the file
	}
	e.sink = newTextSink(t.cur, t.opt, !full, e.output)
	for i, p := range e.held {
		e.sink.write(p)
		if i < len(e.held)-1 || !e.open {
			e.sink.endPiece()
		}
	}
	e.held, e.heldLen = nil, 0
}

// closeElem ends e at its end tag: its text goes into the skeleton, held
// or as a placeholder.
func (t *LogTaker) closeElem(e *streamElem) {
	if e.output {
		t.openOut--
	} else {
		t.openFC--
	}
	if e.sink == nil && !e.verbatim && mayLookLikePlaceholder(e.held) {
		t.stream(e)
	}
	if e.sink == nil {
		for i, p := range e.held {
			if i > 0 {
				// Two pieces of text, kept apart as they were: joined,
				// "]]" and ">" would make "]]>".
				t.emit([]byte("<!---->"))
			}
			t.emit(p)
		}
		e.held = nil
		return
	}
	s := e.sink
	s.finish()
	if s.err != nil {
		t.fail(s.err)
		return
	}
	if !s.nonBlank {
		e.sink = nil
		return
	}
	t.emit([]byte(placeholderMark + strconv.Itoa(e.ord)))
	switch {
	case s.light:
		e.sink = nil
	case !e.output:
		t.keptFC = e.ord
	case s.logLike():
		t.keptOut = e.ord
	default:
		e.sink = nil // not a log: never the file
	}
}

// mayLookLikePlaceholder reports held text that could read as a
// placeholder: it has the mark or a character reference.
func mayLookLikePlaceholder(held [][]byte) bool {
	for _, p := range held {
		if bytes.Contains(p, []byte(placeholderMark)) || bytes.Contains(p, []byte("&#")) {
			return true
		}
	}
	return false
}

// Finish returns the lines past the cursor, as DecodeLogContent and
// syslog.TakeNewLines would on the whole reply; the errors are
// DecodeLogContent's, syslog.ErrReadAgain, or one saying the reply
// could not be read as it streamed.
func (t *LogTaker) Finish() (LogTake, error) {
	if t.err != nil {
		return LogTake{}, fmt.Errorf("decode %s: %w", logElement, t.err)
	}
	if len(t.pend) > 0 || len(t.stack) > 0 {
		// Unbalanced: the skeleton's decode says how.
		t.skel = append(t.skel, t.pend...)
	}
	sections, outputs, err := logSections(t.skel)
	var from *textSink
	switch _, noData := errors.AsType[*NoDataError](err); {
	case err == nil:
		s := sections[0]
		k, ok := placeholder(s.data.Text)
		if !ok || !textEncodingName(s.data.Encoding) {
			text, err := logContent(sections, nil, nil)
			if err != nil {
				return LogTake{}, err
			}
			return t.takeText(text), nil
		}
		if from = t.sinkOf(k); from == nil {
			return LogTake{}, fmt.Errorf("decode %s: the streamed text %d was not kept", logElement, k)
		}
	case noData:
		for _, o := range outputs {
			if k, ok := placeholder(o.data.Text); ok {
				if s := t.sinkOf(k); s != nil && s.logLike() {
					from = s
					break
				}
				continue
			}
			if text := unindent(o.data.Text); looksLikeLog(text) {
				return t.takeText(text), nil
			}
		}
		if from == nil {
			return LogTake{}, err
		}
	default:
		return LogTake{}, err
	}
	lines, next, info, size, err := from.result()
	if err != nil {
		return LogTake{}, err
	}
	return LogTake{Lines: lines, Next: next, Info: info, Size: size}, nil
}

func (t *LogTaker) takeText(text string) LogTake {
	lines, next, info := syslog.TakeNewLines(text, t.cur, t.opt)
	return LogTake{Lines: lines, Next: next, Info: info, Size: int64(len(text))}
}

func (t *LogTaker) sinkOf(k int) *textSink {
	if k < 0 || k >= len(t.elems) {
		return nil
	}
	return t.elems[k].sink
}

func textEncodingName(enc string) bool {
	enc = strings.ToLower(strings.TrimSpace(enc))
	return enc == "" || enc == "text"
}

// placeholder reads a placeholder's ordinal.
func placeholder(text string) (int, bool) {
	digits, ok := strings.CutPrefix(text, placeholderMark)
	if !ok || digits == "" {
		return 0, false
	}
	k, err := strconv.Atoi(digits)
	return k, err == nil && k >= 0 && strconv.Itoa(k) == digits
}

// textSink reads an element's text as it passes: it checks it as the
// scanner does, decodes it, splits it into lines, and does what unindent
// and TakeNewLines do with them, without the text. unindent removes the
// indentation common to every non-blank line, known only at the end, so
// when the first non-blank line is indented the lines go to two takers,
// one as they are and one without that indentation, and the end says
// which was right.
type textSink struct {
	light  bool // only check the text and whether it is blank
	output bool // an <output>: does it look like a log?
	cur    devices.LogCursor
	opt    syslog.TakeOptions

	raw      []byte // the current piece since its last newline
	dec      []byte // decoded, not yet a whole line
	nonBlank bool
	err      error

	haveCand bool
	cand     string   // the first non-blank line's indentation
	candB    []byte   // the same
	prefix   string   // the indentation common so far
	prefixB  []byte   // the same
	pre      [][]byte // lines before the first non-blank one that are not blank to TakeNewLines

	asIs, unindented *syslog.Taker
	asIsLog, indLog  bool // a line syslog.ParseLine reads was seen
	asIsSize, indSz  int64
}

func newTextSink(cur devices.LogCursor, opt syslog.TakeOptions, light, output bool) *textSink {
	s := &textSink{light: light, output: output, cur: cur, opt: opt}
	if !light {
		s.asIs = syslog.NewTaker(cur, opt)
	}
	return s
}

// write takes text bytes of the current piece.
func (s *textSink) write(b []byte) {
	for len(b) > 0 && s.err == nil {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			s.raw = append(s.raw, b...)
			if len(s.raw) > rawCut {
				s.cut()
			}
			return
		}
		if len(s.raw) > 0 {
			s.raw = append(s.raw, b[:i+1]...)
			s.decode(s.raw)
			s.raw = s.raw[:0]
		} else {
			s.decode(b[:i+1])
		}
		b = b[i+1:]
	}
}

// rawCut is how long a line's raw text grows before it is decoded up to
// a safe point: a text whose newlines are written as references (&#xA;)
// is all one raw line.
const rawCut = 64 << 10

// cut decodes the raw text up to the last point no reference, character,
// "]]>" or CR LF spans, and keeps the rest.
func (s *textSink) cut() {
	end := len(s.raw)
	if amp := bytes.LastIndexByte(s.raw, '&'); amp >= 0 && bytes.IndexByte(s.raw[amp:], ';') < 0 {
		end = amp
	}
	for end > 0 && (s.raw[end-1] == ']' || s.raw[end-1] == '\r' || s.raw[end-1] >= utf8.RuneSelf) {
		end--
	}
	if end == 0 {
		return
	}
	s.decode(s.raw[:end])
	s.raw = s.raw[:copy(s.raw, s.raw[end:])]
}

// endPiece ends a piece of text (markup follows).
func (s *textSink) endPiece() {
	if len(s.raw) > 0 && s.err == nil {
		s.decode(s.raw)
	}
	s.raw = s.raw[:0]
}

// decode checks and decodes raw text that ends a line or a piece: no
// reference, character or "]]>" spans such a cut.
func (s *textSink) decode(seg []byte) {
	end, plain, ok := scanText(seg, 0)
	if !ok || end != len(seg) {
		s.err = fmt.Errorf("malformed text in the log: %q", truncate(string(seg), 60))
		return
	}
	if plain {
		s.dec = append(s.dec, seg...)
	} else {
		s.dec = appendDecoded(s.dec, seg)
	}
	rest := s.dec
	for {
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			break
		}
		s.line(rest[:j])
		rest = rest[j+1:]
	}
	s.dec = s.dec[:copy(s.dec, rest)]
}

// finish reads the last line, which has no newline: unindent drops it
// when it is blank.
func (s *textSink) finish() {
	s.endPiece()
	if s.err == nil && len(bytes.TrimSpace(s.dec)) > 0 {
		s.line(s.dec)
	}
	s.dec = nil
	if !s.haveCand {
		for _, l := range s.pre {
			s.feed(l, true)
		}
		s.pre = nil
	}
}

// line handles one decoded line, without its newline.
func (s *textSink) line(l []byte) {
	blank := len(bytes.TrimSpace(l)) == 0
	if !blank {
		s.nonBlank = true
	}
	if s.light {
		return
	}
	if !blank {
		trimmed := bytes.TrimRight(l, "\r")
		ws := trimmed[:len(trimmed)-len(bytes.TrimLeft(trimmed, " \t"))]
		if !s.haveCand {
			s.haveCand, s.cand, s.prefix = true, string(ws), string(ws)
			s.candB, s.prefixB = bytes.Clone(ws), bytes.Clone(ws)
			if s.cand != "" {
				s.unindented = syslog.NewTaker(s.cur, s.opt)
			}
			for _, p := range s.pre {
				s.feed(p, false)
			}
			s.pre = nil
		} else if !bytes.HasPrefix(ws, s.prefixB) {
			s.prefix = commonPrefix(s.prefix, string(ws))
			s.prefixB = []byte(s.prefix)
		}
	}
	if !s.haveCand {
		if t := bytes.TrimRight(l, "\r"); len(bytes.Trim(t, " \t\v\f\r")) > 0 {
			s.pre = append(s.pre, bytes.Clone(l)) // blank to unindent, not to TakeNewLines
		}
		return
	}
	s.feed(l, false)
}

// feed gives a line to the takers; asIsOnly before any non-blank line.
func (s *textSink) feed(l []byte, asIsOnly bool) {
	s.asIs.Add(bytes.TrimSuffix(l, []byte("\r")))
	s.asIsSize += int64(len(l)) + 1
	if s.output && !s.asIsLog {
		s.asIsLog = parsesAsLog(l)
	}
	if asIsOnly || s.unindented == nil || s.prefix != s.cand {
		return
	}
	rest, ok := bytes.CutPrefix(l, s.candB)
	if !ok {
		return // blank: unindent empties it
	}
	s.unindented.Add(bytes.TrimSuffix(rest, []byte("\r")))
	s.indSz += int64(len(rest)) + 1
	if s.output && !s.indLog {
		s.indLog = parsesAsLog(rest)
	}
}

func parsesAsLog(l []byte) bool {
	return syslog.ParseLine("", string(bytes.TrimRight(l, "\r")), syslog.DeviceClock{}).Parsed
}

// asIsRight reports whether unindent leaves the lines as they are.
func (s *textSink) asIsRight() bool { return s.cand == "" || s.prefix == "" }

func (s *textSink) logLike() bool {
	if s.asIsRight() {
		return s.asIsLog
	}
	return s.prefix == s.cand && s.indLog
}

// result is the take of the text read.
func (s *textSink) result() ([]string, devices.LogCursor, syslog.TakeInfo, int64, error) {
	t, size := s.asIs, s.asIsSize
	if !s.asIsRight() {
		if s.prefix != s.cand {
			return nil, devices.LogCursor{}, syslog.TakeInfo{}, 0, fmt.Errorf("decode %s: %w: the text's indentation changes from line to line", logElement, errNotStreamable)
		}
		t, size = s.unindented, s.indSz
	}
	lines, next, info, err := t.Finish()
	return lines, next, info, size, err
}

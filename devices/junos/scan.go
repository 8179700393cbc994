package junos

import (
	"bytes"
	"unicode/utf8"
)

// This file is the decoders' fast path: one pass over the reply's bytes,
// without encoding/xml, which reads a few tens of MB per CPU second and
// allocates for every token. It is the same idea as netconf/replyscan.go.
//
// The scanner accepts only what it reads exactly as encoding/xml's
// Decoder (Strict, no Entity map) would: well-formed markup, ASCII names,
// the five predefined entities and character references, comments,
// plain XML declarations. Anything else (CDATA, DOCTYPE, other processing
// instructions, non-ASCII names, surrogate references, nesting deeper than
// maxScanDepth) and anything malformed makes it decline (tokBad), and the
// decoder then answers with its encoding/xml reference (decode...XML):
// the reference's value or error is the answer. So the scanner never
// reports an error of its own. The Fuzz...Agrees targets and
// TestFastPathAgreesOnMutations hold the two to the same results.

// tokKind is what scanner.next read.
type tokKind uint8

const (
	// tokBad: malformed, or not something the scanner handles with
	// certainty. The caller gives up and leaves the reply to encoding/xml.
	tokBad tokKind = iota
	tokEOF
	tokStart
	tokEnd
	tokText
)

// maxScanDepth bounds nesting. encoding/xml refuses to unmarshal past
// 10,000 levels; far below that, the scanner declines, so that the limit
// is the reference's business.
const maxScanDepth = 512

// span is raw[start:end].
type span struct{ start, end int }

// scanner reads a reply token by token. Its fields after next describe
// the token read: local and attrs for tokStart, endLocal for tokEnd, text
// and textPlain for tokText.
type scanner struct {
	raw        []byte
	i          int
	open       []span // qualified names of the open elements
	pendingEnd bool   // the last start tag was <name/>: its end comes next

	local     []byte // the start tag's local name
	attrs     span   // the start tag's attributes (validated), after its name
	endLocal  []byte // the local name of the element just closed
	text      span
	textPlain bool // text holds no reference and no CR: it is its own value

	buf []byte // scratch for decoding references and CRs
}

func newScanner(raw []byte) *scanner {
	return &scanner{raw: raw, open: make([]span, 0, 16)}
}

// next reads the next token. Comments and XML declarations are skipped:
// no decoder keeps them, and encoding/xml's character data either side
// of one is joined by the struct it goes into, as here.
func (s *scanner) next() tokKind {
	if s.pendingEnd {
		s.pendingEnd = false
		return s.pop()
	}
	raw, n := s.raw, len(s.raw)
	for s.i < n {
		i := s.i
		if raw[i] != '<' {
			end, plain, ok := scanText(raw, i)
			if !ok {
				return tokBad
			}
			s.i, s.text, s.textPlain = end, span{i, end}, plain
			return tokText
		}
		if i+1 >= n {
			return tokBad
		}
		switch raw[i+1] {
		case '/':
			if len(s.open) == 0 {
				return tokBad
			}
			end, ok := scanEndTag(raw, i, s.open[len(s.open)-1])
			if !ok {
				return tokBad
			}
			s.i = end
			return s.pop()
		case '!':
			end, ok := scanComment(raw, i)
			if !ok {
				return tokBad
			}
			s.i = end
		case '?':
			d := xmlDeclLen(raw[i:])
			if d == 0 {
				return tokBad
			}
			s.i += d
		default:
			return s.startTag(i)
		}
	}
	if len(s.open) != 0 {
		return tokBad // unexpected EOF
	}
	return tokEOF
}

func (s *scanner) pop() tokKind {
	top := s.open[len(s.open)-1]
	s.open = s.open[:len(s.open)-1]
	s.endLocal = localName(s.raw[top.start:top.end])
	return tokEnd
}

// startTag scans the start tag at raw[i] ('<'), as encoding/xml's
// rawToken does: a name, then attributes (name, optional spaces, '=',
// optional spaces, a quoted value) with optional spaces between, then
// '>' or "/>".
func (s *scanner) startTag(i int) tokKind {
	raw := s.raw
	nameEnd, local, ok := scanName(raw, i+1)
	if !ok || len(s.open) >= maxScanDepth {
		return tokBad
	}
	j := nameEnd
	for {
		j = skipXMLSpace(raw, j)
		if j >= len(raw) {
			return tokBad
		}
		switch raw[j] {
		case '>':
			s.i = j + 1
		case '/':
			if j+1 >= len(raw) || raw[j+1] != '>' {
				return tokBad
			}
			s.i, s.pendingEnd = j+2, true
		default:
			a, ok := scanAttr(raw, j)
			if !ok {
				return tokBad
			}
			j = a.next
			continue
		}
		s.open = append(s.open, span{i + 1, nameEnd})
		s.local, s.attrs = local, span{nameEnd, j}
		return tokStart
	}
}

// attr is one attribute of a start tag.
type attr struct {
	local []byte
	value span // between the quotes
	plain bool // the value holds no reference and no CR
	next  int  // just past the closing quote
}

// scanAttr scans the attribute at raw[j]: name, optional spaces, '=',
// optional spaces, a quoted value.
func scanAttr(raw []byte, j int) (a attr, ok bool) {
	nameEnd, local, ok := scanName(raw, j)
	if !ok {
		return a, false
	}
	k := skipXMLSpace(raw, nameEnd)
	if k >= len(raw) || raw[k] != '=' {
		return a, false
	}
	k = skipXMLSpace(raw, k+1)
	if k >= len(raw) || (raw[k] != '"' && raw[k] != '\'') {
		return a, false
	}
	valEnd, plain, ok := scanAttrValue(raw, k+1, raw[k])
	if !ok {
		return a, false
	}
	return attr{local: local, value: span{k + 1, valEnd}, plain: plain, next: valEnd + 1}, true
}

// eachAttr calls f for each attribute of the start tag just read, in
// order. They were validated by startTag.
func (s *scanner) eachAttr(f func(a attr)) {
	for j := s.attrs.start; ; {
		j = skipXMLSpace(s.raw, j)
		if j >= s.attrs.end {
			return
		}
		a, ok := scanAttr(s.raw, j)
		if !ok {
			return // cannot happen: startTag checked it
		}
		f(a)
		j = a.next
	}
}

// value returns an attribute's value as encoding/xml gives it.
func (s *scanner) value(a attr) string {
	return s.decoded(a.value, a.plain)
}

// decoded returns raw[sp] with its references and CRs decoded.
func (s *scanner) decoded(sp span, plain bool) string {
	if plain {
		return string(s.raw[sp.start:sp.end])
	}
	s.buf = appendDecoded(s.buf[:0], s.raw[sp.start:sp.end])
	return string(s.buf)
}

// skip reads the rest of the element whose start tag was just read.
func (s *scanner) skip() bool {
	depth := len(s.open) - 1
	for {
		switch s.next() {
		case tokEnd:
			if len(s.open) == depth {
				return true
			}
		case tokBad, tokEOF:
			return false
		}
	}
}

// children reads the rest of the element whose start tag was just read,
// as encoding/xml unmarshals it into a struct: child is called on each
// child element's start tag and must read that element to its end; the
// element's own character data goes to text, when not nil.
func (s *scanner) children(text *textAcc, child func(local []byte) bool) bool {
	for {
		switch s.next() {
		case tokStart:
			if !child(s.local) {
				return false
			}
		case tokEnd:
			return true
		case tokText:
			if text != nil {
				text.add(s)
			}
		default:
			return false
		}
	}
}

// skipChild is a children callback for a struct with no child fields.
func (s *scanner) skipChild([]byte) bool { return s.skip() }

// str reads the rest of the element whose start tag was just read into
// *dst, as encoding/xml unmarshals an element into a string: its own
// character data, children skipped, replacing what *dst held.
func (s *scanner) str(dst *string) bool {
	var t textAcc
	if !s.children(&t, s.skipChild) {
		return false
	}
	*dst = t.string(s)
	return true
}

// textAcc gathers an element's character data, which comments and child
// elements may split. The common case, one piece without references,
// costs one string.
type textAcc struct {
	first span
	plain bool
	n     int
	buf   []byte // the pieces decoded, once there are two
}

func (t *textAcc) add(s *scanner) {
	t.n++
	switch t.n {
	case 1:
		t.first, t.plain = s.text, s.textPlain
		return
	case 2:
		t.buf = appendDecoded(nil, s.raw[t.first.start:t.first.end])
	}
	t.buf = appendDecoded(t.buf, s.raw[s.text.start:s.text.end])
}

func (t *textAcc) string(s *scanner) string {
	switch t.n {
	case 0:
		return ""
	case 1:
		return s.decoded(t.first, t.plain)
	}
	return string(t.buf)
}

// appendDecoded appends text (validated character data or an attribute
// value) to dst as encoding/xml decodes it: references replaced, and
// "\r\n" and a lone "\r" read as "\n".
func appendDecoded(dst, text []byte) []byte {
	for len(text) > 0 {
		k := bytes.IndexAny(text, "&\r")
		if k < 0 {
			return append(dst, text...)
		}
		dst = append(dst, text[:k]...)
		text = text[k:]
		if text[0] == '\r' {
			dst = append(dst, '\n')
			text = text[1:]
			if len(text) > 0 && text[0] == '\n' {
				text = text[1:]
			}
			continue
		}
		r, size := decodeReference(text)
		dst = utf8.AppendRune(dst, r)
		text = text[size:]
	}
	return dst
}

// decodeReference decodes the reference text starts with, which
// scanReference accepted.
func decodeReference(text []byte) (r rune, size int) {
	end := bytes.IndexByte(text, ';')
	if end < 0 {
		return utf8.RuneError, len(text) // cannot happen: validated
	}
	switch name := string(text[1:end]); name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	case "apos":
		return '\'', end + 1
	}
	digits, base := text[2:end], rune(10)
	if len(digits) > 0 && digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	for _, c := range digits {
		switch {
		case '0' <= c && c <= '9':
			r = r*base + rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r*base + rune(c-'a') + 10
		default:
			r = r*base + rune(c-'A') + 10
		}
	}
	return r, end + 1
}

// localName is the local part of a qualified name, as encoding/xml's
// nsname splits it: "a:" and ":a" have no prefix.
func localName(name []byte) []byte {
	if k := bytes.IndexByte(name, ':'); k > 0 && k < len(name)-1 {
		return name[k+1:]
	}
	return name
}

// scanEndTag scans the end tag at raw[i] ("</"), which must close the
// element whose name is open: the same name, ended there, optional
// spaces and '>'. It returns the index past it.
func scanEndTag(raw []byte, i int, open span) (end int, ok bool) {
	end = i + 2 + open.end - open.start
	if end > len(raw) || !bytes.Equal(raw[i+2:end], raw[open.start:open.end]) ||
		end < len(raw) && nameClass[raw[end]] != '0' {
		return 0, false
	}
	end = skipXMLSpace(raw, end)
	if end >= len(raw) || raw[end] != '>' {
		return 0, false
	}
	return end + 1, true
}

// scanComment scans the comment at raw[i] ("<!") and returns the index
// past it. CDATA and DOCTYPE are declined. encoding/xml ends a comment at
// the first "--", which must be followed by '>', and does not look at the
// characters.
func scanComment(raw []byte, i int) (end int, ok bool) {
	if !bytes.HasPrefix(raw[i:], []byte("<!--")) {
		return 0, false
	}
	k := bytes.Index(raw[i+4:], []byte("--"))
	if k < 0 {
		return 0, false
	}
	end = i + 4 + k + 2
	if end >= len(raw) || raw[end] != '>' {
		return 0, false
	}
	return end + 1, true
}

// scanName scans an XML name at raw[i:] as encoding/xml's nsname does and
// returns its end and its local part. ok is false for no name, an invalid
// one, one with more than one colon (encoding/xml rejects those), and one
// with a non-ASCII byte (declined: validating those takes Unicode tables).
func scanName(raw []byte, i int) (end int, local []byte, ok bool) {
	if i >= len(raw) || !isNameStart(raw[i]) {
		return 0, nil, false
	}
	j, colons := i, 0
scan:
	for ; j < len(raw); j++ {
		switch nameClass[raw[j]] {
		case '0':
			break scan
		case '2':
			colons++
		case '3':
			return 0, nil, false
		}
	}
	if colons > 1 {
		return 0, nil, false
	}
	return j, localName(raw[i:j]), true
}

func isNameStart(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == ':'
}

// scanText checks character data from raw[i] and returns the index of the
// '<' that ends it, or len(raw). plain is false if encoding/xml would
// change the text (a reference, a CR).
func scanText(raw []byte, i int) (end int, plain, ok bool) {
	n := len(raw)
	plain = true
	for i < n {
		// Most of a reply is plain text: skip it eight bytes at a time.
		for i+8 <= n && textPlain[raw[i]] == '1' && textPlain[raw[i+1]] == '1' &&
			textPlain[raw[i+2]] == '1' && textPlain[raw[i+3]] == '1' &&
			textPlain[raw[i+4]] == '1' && textPlain[raw[i+5]] == '1' &&
			textPlain[raw[i+6]] == '1' && textPlain[raw[i+7]] == '1' {
			i += 8
		}
		if i >= n {
			break
		}
		c := raw[i]
		switch {
		case textPlain[c] == '1':
			i++
		case c == '<':
			return i, plain, true
		case c == '&':
			plain = false
			if i, ok = scanReference(raw, i); !ok {
				return 0, false, false
			}
		case c == '\r':
			plain = false
			i++
		case c == ']':
			if i+2 < n && raw[i+1] == ']' && raw[i+2] == '>' {
				return 0, false, false // "]]>" is not allowed in text
			}
			i++
		case c >= utf8.RuneSelf:
			if i, ok = scanRune(raw, i); !ok {
				return 0, false, false
			}
		default:
			return 0, false, false // a control character
		}
	}
	return n, plain, true
}

// scanAttrValue checks an attribute value from raw[i] up to its closing
// quote and returns the quote's index. plain is false if encoding/xml
// would change the value (a reference, a CR).
func scanAttrValue(raw []byte, i int, quote byte) (end int, plain, ok bool) {
	plain = true
	for i < len(raw) {
		c := raw[i]
		switch {
		case attrPlain[c] == '1':
			i++
		case c == quote:
			return i, plain, true
		case c == '"' || c == '\'':
			i++
		case c == '\r':
			plain = false
			i++
		case c == '&':
			plain = false
			if i, ok = scanReference(raw, i); !ok {
				return 0, false, false
			}
		case c >= utf8.RuneSelf:
			if i, ok = scanRune(raw, i); !ok {
				return 0, false, false
			}
		default:
			return 0, false, false // '<' or a control character
		}
	}
	return 0, false, false
}

// scanRune checks the multi-byte character at raw[i]: valid UTF-8 and an
// XML character (encoding/xml: "invalid UTF-8", "illegal character").
func scanRune(raw []byte, i int) (next int, ok bool) {
	r, size := utf8.DecodeRune(raw[i:])
	if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
		return 0, false
	}
	return i + size, true
}

// scanReference checks the reference at raw[i] ('&'): one of the five
// predefined entities or a character reference to an XML character.
// Surrogates (which encoding/xml reads as U+FFFD) and "&#X" are declined.
func scanReference(raw []byte, i int) (next int, ok bool) {
	rest := raw[i+1:]
	for _, e := range [...]string{"lt;", "gt;", "amp;", "quot;", "apos;"} {
		if len(rest) >= len(e) && string(rest[:len(e)]) == e {
			return i + 1 + len(e), true
		}
	}
	if len(rest) == 0 || rest[0] != '#' {
		return 0, false
	}
	j := 1
	base := rune(10)
	if j < len(rest) && rest[j] == 'x' {
		base = 16
		j++
	}
	var v rune
	digits := 0
	for ; j < len(rest); j++ {
		d := rune(-1)
		switch c := rest[j]; {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = rune(c-'A') + 10
		}
		if d < 0 {
			break
		}
		if v = v*base + d; v > utf8.MaxRune {
			return 0, false
		}
		digits++
	}
	if digits == 0 || j >= len(rest) || rest[j] != ';' || !isXMLChar(v) {
		return 0, false
	}
	return i + 1 + j + 1, true
}

// isXMLChar is XML 1.0's Char production, as encoding/xml checks it.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipXMLSpace(raw []byte, i int) int {
	for i < len(raw) && isXMLSpace(raw[i]) {
		i++
	}
	return i
}

// xmlDeclLen returns the length of the XML declaration b starts with, 0
// if it is not one of the plain ones (encoding/xml checks the version and
// the encoding; any other processing instruction is declined).
func xmlDeclLen(b []byte) int {
	for _, d := range [...]string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<?xml version="1.0" encoding="utf-8"?>`,
		`<?xml version='1.0' encoding='UTF-8'?>`,
		`<?xml version="1.0"?>`,
	} {
		if bytes.HasPrefix(b, []byte(d)) {
			return len(d)
		}
	}
	return 0
}

// The byte tables are constants, not package variables: '1' marks the
// bytes that need no check in character data (textPlain: XML characters
// below 0x80 other than '<', '&', ']' and CR) and in attribute values
// (attrPlain: the same, with ']' allowed and the quotes ending the
// value). nameClass is '0' for an ASCII byte that ends a name, '1' for
// one inside it, '2' for the colon and '3' for non-ASCII bytes, which
// encoding/xml takes into a name. TestScanTables checks them.
const textPlain = "" +
	"0000000001100000000000000000000011111101111111111111111111110111" + // 0x00-0x3f
	"1111111111111111111111111111101111111111111111111111111111111111" + // 0x40-0x7f
	"0000000000000000000000000000000000000000000000000000000000000000" + // 0x80-0xbf
	"0000000000000000000000000000000000000000000000000000000000000000" // 0xc0-0xff
const attrPlain = "" +
	"0000000001100000000000000000000011011100111111111111111111110111" + // 0x00-0x3f
	"1111111111111111111111111111111111111111111111111111111111111111" + // 0x40-0x7f
	"0000000000000000000000000000000000000000000000000000000000000000" + // 0x80-0xbf
	"0000000000000000000000000000000000000000000000000000000000000000" // 0xc0-0xff
const nameClass = "" +
	"0000000000000000000000000000000000000000000001101111111111200000" + // 0x00-0x3f
	"0111111111111111111111111110000101111111111111111111111111100000" + // 0x40-0x7f
	"3333333333333333333333333333333333333333333333333333333333333333" + // 0x80-0xbf
	"3333333333333333333333333333333333333333333333333333333333333333" // 0xc0-0xff

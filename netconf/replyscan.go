package netconf

import (
	"bytes"
	"unicode/utf8"
)

// parseReplyFast is parseReply for the common reply, in one pass over the
// bytes without encoding/xml (which parses a few tens of MB/s, and
// allocates for every token; Junos log replies run to many MB). wantID is
// the request's message-id, reused as the reply's when they match.
//
// It returns nil, leaving parseReply to decide, unless raw is a reply
// parseReply would return as it does, without error or warnings. So it
// checks well-formedness as strictly as encoding/xml's Decoder.Token,
// which parseReply and the decoders of devices/junos use: a reply it
// accepts is one they parse, and one they reject (a malformed reply, bad
// UTF-8) goes to parseReply, which reports it as the *ProtocolError that
// fails the poll as a protocol failure, not as a decode error of one
// RPC. It is stricter than encoding/xml wherever being exact would take
// work (non-ASCII names, CDATA, DOCTYPE, most processing instructions,
// surrogate character references, entity-encoded message-ids): those
// replies are declined, not rejected. TestParseReplyFastAgrees and
// FuzzParseReplyFast hold it to parseReply's verdict.
//
// It also declines any reply with an element parseReply looks into:
// <rpc-error>, <error>, <warning> and <output>, under any prefix and at
// any depth.
func parseReplyFast(raw []byte, wantID string) *Reply {
	var (
		openArr   [32]span // open elements' names; on the stack unless deep
		open      = openArr[:0]
		dataStart = -1 // just after the root's start tag
		dataEnd   = -1 // at the root's end tag
		id        span
		haveID    bool
	)
	n := len(raw)
	for i := 0; i < n; {
		if raw[i] != '<' {
			if len(open) == 0 {
				// Outside the root: whitespace only (parseReply allows
				// Unicode spaces too; they are declined here).
				if !isXMLSpace(raw[i]) {
					return nil
				}
				i++
				continue
			}
			j, ok := scanText(raw, i)
			if !ok {
				return nil
			}
			i = j
			continue
		}
		if i+1 >= n {
			return nil
		}
		switch raw[i+1] {
		case '/':
			if len(open) == 0 {
				return nil
			}
			j, ok := scanEndTag(raw, i, open[len(open)-1])
			if !ok {
				return nil
			}
			open = open[:len(open)-1]
			if len(open) == 0 {
				dataEnd = i
			}
			i = j
		case '!':
			j, ok := scanComment(raw, i)
			if !ok {
				return nil
			}
			i = j
		case '?': // only a plain XML declaration, before the root
			decl := xmlDeclLen(raw[i:])
			if decl == 0 || dataStart >= 0 {
				return nil
			}
			i += decl
		default:
			if dataEnd >= 0 {
				return nil // a second root
			}
			t, ok := scanStartTag(raw, i)
			if !ok {
				return nil
			}
			root := len(open) == 0
			if root && string(t.local) != "rpc-reply" {
				return nil
			}
			switch string(t.local) {
			case "rpc-error", "error", "warning", "output":
				return nil
			}
			if root {
				if t.haveID && !t.idPlain {
					return nil // parseReply would decode it
				}
				id, haveID = t.id, t.haveID
				dataStart = t.end
				if t.empty {
					dataEnd = t.end
				}
			}
			if !t.empty {
				open = append(open, t.name)
			}
			i = t.end
		}
	}
	if dataEnd < 0 || len(open) != 0 {
		return nil
	}
	reply := &Reply{Raw: raw, Data: raw[dataStart:dataEnd]}
	if haveID {
		if v := raw[id.start:id.end]; string(v) == wantID {
			reply.MessageID = wantID
		} else {
			reply.MessageID = string(v)
		}
	}
	return reply
}

// operationFast is operation for the common body, without encoding/xml:
// ok is true if body is well-formed as operation's Token loop sees it
// (character data, elements, comments), and op is then the first
// element's local name. It is as strict as encoding/xml, or stricter, as
// parseReplyFast is; ok false leaves the verdict to encoding/xml.
func operationFast(body string) (op string, ok bool) {
	raw := []byte(body)
	var (
		openArr [16]span
		open    = openArr[:0]
		local   span
	)
	for i := 0; i < len(raw); {
		if raw[i] != '<' {
			j, ok := scanText(raw, i)
			if !ok {
				return "", false
			}
			i = j
			continue
		}
		if i+1 >= len(raw) {
			return "", false
		}
		switch raw[i+1] {
		case '/':
			if len(open) == 0 {
				return "", false
			}
			j, ok := scanEndTag(raw, i, open[len(open)-1])
			if !ok {
				return "", false
			}
			open = open[:len(open)-1]
			i = j
		case '!':
			j, ok := scanComment(raw, i)
			if !ok {
				return "", false
			}
			i = j
		case '?':
			return "", false
		default:
			t, ok := scanStartTag(raw, i)
			if !ok {
				return "", false
			}
			if local.end == 0 {
				start := t.name.end - len(t.local)
				local = span{start, t.name.end}
			}
			if !t.empty {
				open = append(open, t.name)
			}
			i = t.end
		}
	}
	if len(open) != 0 || local.end == 0 {
		return "", false
	}
	return body[local.start:local.end], true
}

// span is raw[start:end].
type span struct{ start, end int }

// startTag is a start tag scanned by scanStartTag.
type startTag struct {
	name  span   // the qualified name
	local []byte // its local part
	end   int    // just past the tag
	empty bool   // <name/>
	// id is the value of the last message-id attribute (under any
	// prefix, as parseReply takes it); idPlain is false if encoding/xml
	// would decode it (a reference, a CR).
	id      span
	haveID  bool
	idPlain bool
}

// scanStartTag scans the start tag at raw[i] ('<'), as encoding/xml's
// rawToken does: a name, then attributes (name, optional spaces, '=',
// optional spaces, a quoted value) with optional spaces between, then
// '>' or "/>".
func scanStartTag(raw []byte, i int) (t startTag, ok bool) {
	nameEnd, local, ok := scanName(raw, i+1)
	if !ok {
		return t, false
	}
	t.name, t.local = span{i + 1, nameEnd}, local
	n := len(raw)
	for j := nameEnd; ; {
		j = skipXMLSpace(raw, j)
		if j >= n {
			return t, false
		}
		switch raw[j] {
		case '>':
			t.end = j + 1
			return t, true
		case '/':
			if j+1 >= n || raw[j+1] != '>' {
				return t, false
			}
			t.end, t.empty = j+2, true
			return t, true
		}
		attrEnd, attrLocal, ok := scanName(raw, j)
		if !ok {
			return t, false
		}
		k := skipXMLSpace(raw, attrEnd)
		if k >= n || raw[k] != '=' {
			return t, false
		}
		k = skipXMLSpace(raw, k+1)
		if k >= n || (raw[k] != '"' && raw[k] != '\'') {
			return t, false
		}
		valEnd, plain, ok := scanAttrValue(raw, k+1, raw[k])
		if !ok {
			return t, false
		}
		if string(attrLocal) == "message-id" {
			t.id, t.haveID, t.idPlain = span{k + 1, valEnd}, true, plain
		}
		j = valEnd + 1
	}
}

// scanEndTag scans the end tag at raw[i] ("</"), which must close the
// element whose name is open: the same name (checked at the start tag),
// ended there, optional spaces and '>'. It returns the index past it.
func scanEndTag(raw []byte, i int, open span) (end int, ok bool) {
	end = i + 2 + open.end - open.start
	if end > len(raw) || !bytes.Equal(raw[i+2:end], raw[open.start:open.end]) || end < len(raw) && nameByte[raw[end]] != notName {
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
// returns its end and its local part (after the prefix). ok is false for
// no name, an invalid one (encoding/xml rejects those), one with more
// than one colon (rejected too), and one with a non-ASCII byte (declined:
// validating those takes Unicode tables).
func scanName(raw []byte, i int) (end int, local []byte, ok bool) {
	if i >= len(raw) || !isNameStart(raw[i]) {
		return 0, nil, false
	}
	j, colon, colons := i, -1, 0
scan:
	for ; j < len(raw); j++ {
		switch nameByte[raw[j]] {
		case notName:
			break scan
		case nameColon:
			colon, colons = j, colons+1
		case nameNonASCII:
			return 0, nil, false
		}
	}
	if colons > 1 {
		return 0, nil, false
	}
	local = raw[i:j]
	// "a:" and ":a" are names without a prefix, as in encoding/xml.
	if colons == 1 && colon > i && colon < j-1 {
		local = raw[colon+1 : j]
	}
	return j, local, true
}

func isNameStart(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == ':'
}

// nameByte classes bytes in names: encoding/xml reads a name up to the
// first ASCII byte that cannot be in one (notName), and takes every
// non-ASCII byte into it.
const (
	notName = iota
	nameASCII
	nameColon
	nameNonASCII
)

var nameByte = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c == ':':
			t[c] = nameColon
		case c >= utf8.RuneSelf:
			t[c] = nameNonASCII
		case isNameStart(byte(c)) || '0' <= c && c <= '9' || c == '-' || c == '.':
			t[c] = nameASCII
		}
	}
	return t
}()

// textPlain holds the bytes that need no check in character data: XML
// characters below 0x80 other than '<', '&' and ']' (for "]]>").
// attrPlain is the same for attribute values: ']' is allowed there, the
// quotes end the value and CR is decoded.
var textPlain, attrPlain = func() (text, attr [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		text[c], attr[c] = true, true
	}
	text['\t'], text['\n'], text['\r'] = true, true, true
	attr['\t'], attr['\n'] = true, true
	text['<'], text['&'], text[']'] = false, false, false
	attr['<'], attr['&'], attr['"'], attr['\''] = false, false, false, false
	return text, attr
}()

// scanText checks character data from raw[i] and returns the index of the
// '<' that ends it, or len(raw).
func scanText(raw []byte, i int) (end int, ok bool) {
	n := len(raw)
	for i < n {
		// Most of a reply is plain text: skip it eight bytes at a time.
		for i+8 <= n && textPlain[raw[i]] && textPlain[raw[i+1]] && textPlain[raw[i+2]] && textPlain[raw[i+3]] &&
			textPlain[raw[i+4]] && textPlain[raw[i+5]] && textPlain[raw[i+6]] && textPlain[raw[i+7]] {
			i += 8
		}
		if i >= n {
			break
		}
		c := raw[i]
		switch {
		case textPlain[c]:
			i++
		case c == '<':
			return i, true
		case c == '&':
			if i, ok = scanReference(raw, i); !ok {
				return 0, false
			}
		case c == ']':
			if i+2 < n && raw[i+1] == ']' && raw[i+2] == '>' {
				return 0, false // "]]>" is not allowed in text
			}
			i++
		case c >= utf8.RuneSelf:
			if i, ok = scanRune(raw, i); !ok {
				return 0, false
			}
		default:
			return 0, false // a control character
		}
	}
	return n, true
}

// scanAttrValue checks an attribute value from raw[i] up to its closing
// quote and returns the quote's index. plain is false if encoding/xml
// would change the value (a reference, a CR).
func scanAttrValue(raw []byte, i int, quote byte) (end int, plain, ok bool) {
	plain = true
	for i < len(raw) {
		c := raw[i]
		switch {
		case attrPlain[c]:
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

// xmlDecls are the XML declarations accepted before the root (netconfd
// sends the first); encoding/xml checks the version and the encoding.
var xmlDecls = [...]string{
	`<?xml version="1.0" encoding="UTF-8"?>`,
	`<?xml version="1.0" encoding="utf-8"?>`,
	`<?xml version='1.0' encoding='UTF-8'?>`,
	`<?xml version="1.0"?>`,
}

// xmlDeclLen returns the length of the XML declaration b starts with, 0
// if it is not one of xmlDecls.
func xmlDeclLen(b []byte) int {
	for _, d := range xmlDecls {
		if bytes.HasPrefix(b, []byte(d)) {
			return len(d)
		}
	}
	return 0
}

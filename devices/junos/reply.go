package junos

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// NoDataError reports a well-formed reply that holds none of the data
// asked for. Junos does not always say so with an <rpc-error>: a session
// that lands on the backup RE gets a bare <output>Aborted! This command can
// only be used on the master routing engine.</output>, an unsupported
// platform answers <xnm:error>, and an error can even be nested inside an
// otherwise empty data element. Decoders return this instead of an empty
// result so that "the device told us nothing" is never read as "the device
// has no Routing Engines" (which would look like every RE leaving the
// alive set).
//
// The one empty answer that is data is <no-active-alarms/>: DecodeAlarms
// returns an empty slice and no error for it.
type NoDataError struct {
	// Element is the data element that was expected, such as
	// "route-engine-information".
	Element string
	// Output is what the device said instead: the trimmed text of
	// <output> and the messages of <error>, <xnm:error> and <rpc-error>
	// elements, joined by "; " and prefixed with the multi-routing-engine
	// member that said them. Empty when the reply said nothing at all.
	Output string
}

// MemberError reports a multi-routing-engine reply in which some members
// answered with data and others only with an error or a notice — a Virtual
// Chassis member or cluster node the master could not reach answers
// <output>Aborted!…</output> or an <xnm:error>. The decoder returns the
// data it has together with this error, so the caller keeps what the
// reachable members said and can tell that the others' state is unknown:
// their REs are not in the data, and must not be read as gone.
type MemberError struct {
	Element string
	// Members are the members that answered without data, sorted.
	Members []string
	// Output is what they said, prefixed with the member, joined by "; ".
	Output string
}

func (e *MemberError) Error() string {
	return "decode " + e.Element + ": no data from " + strings.Join(e.Members, ", ") + ": " +
		truncate(e.Output, maxOutputInError)
}

// maxOutputInError bounds how much of NoDataError.Output goes into the
// error message: a device can answer with a whole CLI screen, and the
// message ends up in logs and reports. The field keeps all of it.
const maxOutputInError = 256

func (e *NoDataError) Error() string {
	msg := "decode " + e.Element + ": reply holds no " + e.Element
	if e.Output == "" {
		return msg
	}
	return msg + ": " + truncate(e.Output, maxOutputInError)
}

// truncate shortens s to at most n bytes without splitting a UTF-8
// sequence, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// payload is implemented by the structs the decoders unmarshal their data
// element into.
type payload interface {
	// hasData reports whether the element carried data, as opposed to
	// nothing or only a nested error.
	hasData() bool
	// errorText returns the messages of error elements nested in it.
	errorText() string
}

// section is one data element found in a reply, with the
// <multi-routing-engine-item><re-name> it was reported under ("" in a
// plain reply).
type section[T any] struct {
	member string
	data   T
}

// decodeReply finds every data element called name in reply and keeps the
// ones that carry data. A reply with none is a *NoDataError holding what
// the device said instead; malformed XML is an error naming the element.
//
// When some members of a multi-routing-engine reply gave data and others
// only an error, the sections with data come back with a *MemberError.
//
// This is the reference, on encoding/xml; decodeReplyFast is the same on
// the scanner.
func decodeReply[T payload](reply []byte, name string) ([]section[T], error) {
	found, notes, err := findSections[T](reply, name)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	return keepSections(found, notes, name)
}

// keepSections is decodeReply after the sections were found.
func keepSections[T payload](found []section[T], notes []note, name string) ([]section[T], error) {
	kept := found[:0]
	withData := make(map[string]bool)
	for _, s := range found {
		if s.data.hasData() {
			kept = append(kept, s)
			withData[s.member] = true
			continue
		}
		if msg := s.data.errorText(); msg != "" {
			notes = append(notes, note{s.member, msg})
		}
	}
	texts := make([]string, len(notes))
	for i, n := range notes {
		texts[i] = withMember(n.member, n.msg)
	}
	if len(kept) == 0 {
		return nil, &NoDataError{Element: name, Output: strings.Join(texts, "; ")}
	}
	var missing, said []string
	for i, n := range notes {
		if n.member == "" || withData[n.member] {
			continue // a notice beside data, not a member without data
		}
		if !slices.Contains(missing, n.member) {
			missing = append(missing, n.member)
		}
		said = append(said, texts[i])
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return kept, &MemberError{Element: name, Members: missing, Output: strings.Join(said, "; ")}
	}
	return kept, nil
}

// note is a message a reply held instead of data, with the member it came
// from ("" outside any multi-routing-engine item).
type note struct{ member, msg string }

// openItem is a <multi-routing-engine-item> being read: its re-name and
// the index of the first section found inside it.
type openItem struct {
	name  string
	first int
}

// findSections walks reply and decodes each element called name into a T,
// whatever surrounds it: <rpc-reply> or <nc:rpc-reply>, no envelope at
// all, <multi-routing-engine-results>, or a wrapper it does not know
// (it descends into any element that is not the payload). Alongside, it
// collects <output> notices and <error>, <xnm:error>, <rpc-error>
// messages, so that a reply without data can say why.
func findSections[T any](reply []byte, name string) ([]section[T], []note, error) {
	d := xml.NewDecoder(bytes.NewReader(reply))
	var (
		sections   []section[T]
		notes      []note
		items      []openItem
		sawElement bool
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			sawElement = true
			member := ""
			if len(items) > 0 {
				member = items[len(items)-1].name
			}
			switch t.Name.Local {
			case name:
				var data T
				if err := d.DecodeElement(&data, &t); err != nil {
					return nil, nil, err
				}
				sections = append(sections, section[T]{member: member, data: data})
			case "multi-routing-engine-item":
				items = append(items, openItem{first: len(sections)})
			case "re-name":
				var s string
				if err := d.DecodeElement(&s, &t); err != nil {
					return nil, nil, err
				}
				if len(items) > 0 {
					items[len(items)-1].name = strings.TrimSpace(s)
				}
			case "output", "error", "rpc-error":
				var e errorElement
				if err := d.DecodeElement(&e, &t); err != nil {
					return nil, nil, err
				}
				if msg := e.text(); msg != "" {
					notes = append(notes, note{member, msg})
				}
			}
		case xml.EndElement:
			if t.Name.Local == "multi-routing-engine-item" && len(items) > 0 {
				closeItem(sections, items[len(items)-1])
				items = items[:len(items)-1]
			}
		}
	}
	if !sawElement {
		// Empty input, plain text, a stray "]]>]]>": a transport or
		// framing problem, not a device that answered without data.
		return nil, nil, errors.New("reply holds no XML element")
	}
	return sections, notes, nil
}

// closeItem gives the item's re-name to the sections found inside it that
// have none yet: Junos sends re-name first, but nothing requires it.
func closeItem[T any](sections []section[T], it openItem) {
	for i := it.first; i < len(sections); i++ {
		if sections[i].member == "" {
			sections[i].member = it.name
		}
	}
}

// withMember prefixes msg with the multi-routing-engine member it is
// about, if any.
func withMember(member, msg string) string { return memberPrefix(member) + msg }

func memberPrefix(member string) string {
	if member == "" {
		return ""
	}
	return member + ": "
}

// errorElement reads any of the ways Junos says something went wrong:
// <output>text</output>, <error>text</error>,
// <xnm:error><message>…</message></xnm:error> and
// <rpc-error><error-message>…</error-message></rpc-error>.
type errorElement struct {
	Message    string `xml:"message"`
	RPCMessage string `xml:"error-message"`
	Text       string `xml:",chardata"`
}

func (e errorElement) text() string {
	for _, s := range []string{e.Message, e.RPCMessage, e.Text} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// inlineErrors is embedded in every payload struct: Junos can nest an
// <xnm:error> inside the data element instead of data.
type inlineErrors struct {
	Errors []errorElement `xml:"error"`
}

func (ie inlineErrors) errorText() string {
	var msgs []string
	for _, e := range ie.Errors {
		if msg := e.text(); msg != "" {
			msgs = append(msgs, msg)
		}
	}
	return strings.Join(msgs, "; ")
}

// junosValue is an element whose text is for people ("9 days, 22 hours,
// 27 minutes, 12 seconds", "32 degrees C / 89 degrees F", a local time
// with a zone abbreviation) and whose junos:seconds or junos:celsius
// attribute, when present, is the value to use. Attributes are matched by
// local name because napalm captures strip the junos: prefix and collector
// fragments leave it undeclared.
type junosValue struct {
	Seconds string `xml:"seconds,attr"`
	Celsius string `xml:"celsius,attr"`
	Text    string `xml:",chardata"`
}

// maxUnixSeconds is 9999-12-31T23:59:59Z: later times cannot be written
// as RFC 3339, which every report and the store use.
const maxUnixSeconds = 253402300799

// timestamp returns the junos:seconds attribute as a UTC time, nil when
// the attribute is absent or blank. The text is never parsed: it carries
// an ambiguous zone abbreviation (CST, IST) or only a clock time.
func (v junosValue) timestamp() (*time.Time, error) {
	s := strings.TrimSpace(v.Seconds)
	if s == "" {
		return nil, nil
	}
	n, err := parseCount(s, maxUnixSeconds)
	if err != nil {
		return nil, fmt.Errorf("seconds %q: %w", s, err)
	}
	t := time.Unix(n, 0).UTC()
	return &t, nil
}

// duration returns the junos:seconds attribute as a duration; ok is false
// when the attribute is absent or blank.
func (v junosValue) duration() (d time.Duration, ok bool, err error) {
	s := strings.TrimSpace(v.Seconds)
	if s == "" {
		return 0, false, nil
	}
	n, err := parseCount(s, math.MaxInt64/int64(time.Second))
	if err != nil {
		return 0, false, fmt.Errorf("seconds %q: %w", s, err)
	}
	return time.Duration(n) * time.Second, true, nil
}

// celsius returns the junos:celsius attribute, nil when absent or blank.
func (v junosValue) celsius() (*int, error) {
	s := strings.TrimSpace(v.Celsius)
	if s == "" {
		return nil, nil
	}
	// 32 bits is far beyond any sensor and keeps int conversion exact on
	// every platform.
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("celsius %q: not an integer", s)
	}
	c := int(n)
	return &c, nil
}

// parseCount parses a non-negative decimal integer no larger than limit.
func parseCount(s string, limit int64) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) || (err == nil && n > limit) {
		return 0, errors.New("out of range")
	}
	if err != nil || n < 0 {
		return 0, errors.New("not a non-negative integer")
	}
	return n, nil
}

// memberErrorOf splits decodeReply's error: a *MemberError comes back as
// the first result (the sections are good), any other error as the second.
func memberErrorOf(err error) (*MemberError, error) {
	var me *MemberError
	if errors.As(err, &me) {
		return me, nil
	}
	return nil, err
}

// orNil returns me as an error, nil when there is none (never a typed nil).
func (me *MemberError) orNil() error {
	if me == nil {
		return nil
	}
	return me
}

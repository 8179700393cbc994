package junos

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/mastership/mastership/devices/junos/syslog"
)

// GetLogRPC returns the request body for "show log FILE": <get-log> takes
// a file name under /var/log ("messages", "mastership"). The name is
// XML-escaped; it comes from the inventory, not from the device.
func GetLogRPC(file string) string {
	return "<get-log><filename>" + escapeText(file) + "</filename></get-log>"
}

// FileShowRPC returns the request body for "file show PATH". A bare log
// name such as "messages" means /var/log/messages, so one inventory entry
// works with either RPC; an absolute path is used as given.
func FileShowRPC(p string) string {
	return "<file-show><filename>" + escapeText(LogPath(p)) + "</filename></file-show>"
}

// LogPath returns the absolute path of a log file named as the inventory
// names it: "messages" → "/var/log/messages"; "/var/log/mastership" stays.
func LogPath(file string) string {
	if strings.HasPrefix(file, "/") {
		return file
	}
	return path.Join("/var/log", file)
}

func escapeText(s string) string {
	var b strings.Builder
	// Writing to a strings.Builder cannot fail.
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// fileContent is <file-content filename=… junos:seconds=… filesize=…
// encoding="text">TEXT</file-content>, the answer to both <get-log> and
// <file-show>.
type fileContent struct {
	Filename string `xml:"filename,attr"`
	Encoding string `xml:"encoding,attr"`
	Text     string `xml:",chardata"`
	inlineErrors
}

// hasData: an empty file is data (an empty string); only an element that
// holds nothing but a nested error is not.
func (f fileContent) hasData() bool {
	return len(f.Errors) == 0 || strings.TrimSpace(f.Text) != ""
}

// content returns the file the element carries.
func (f fileContent) content() (string, error) {
	switch enc := strings.ToLower(strings.TrimSpace(f.Encoding)); enc {
	case "", "text":
		return unindent(f.Text), nil
	case "base64":
		// Pretty-printers and Junos itself may break the base64 text into
		// lines; whitespace is never part of it.
		b64 := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, f.Text)
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
				return "", fmt.Errorf("base64: %w", err)
			}
		}
		return string(b), nil
	default:
		return "", fmt.Errorf("unknown encoding %q", f.Encoding)
	}
}

// outputText is an <output> element read whole, for get-log replies that
// carry the log as CLI output instead of <file-content>.
type outputText struct {
	Text string `xml:",chardata"`
}

// DecodeLogContent returns the file carried by a reply to GetLogRPC or
// FileShowRPC: the text of <file-content>, decoded when encoding="base64",
// with the indentation a pretty-printer adds removed (see unindent). In a
// multi-routing-engine reply it returns the first member's file: the
// agent reads one RE's log at a time, and joining two files would break
// line order and the cursor.
//
// Some releases answer get-log with the log as <output> text. An <output>
// is taken as the file only when one of its lines is a log line syslog.ParseLine
// reads (it starts with a syslog timestamp): the same element is how Junos says "Aborted! This command can
// only be used on the master routing engine", and that notice must not be
// stored as a log line. A reply with neither is a *NoDataError carrying
// what the device said; malformed XML or undecodable content is an error.
func DecodeLogContent(reply []byte) (string, error) {
	sections, outputs, err := logSections(reply)
	return logContent(sections, err, outputs)
}

// logSections finds what DecodeLogContent takes the file from: the
// file-content sections with data, and, only when there are none, the
// reply's <output> sections.
func logSections(reply []byte) ([]section[fileContent], []section[outputText], error) {
	found, notes, ok := scanSections[fileContent](reply, logElement)
	if !ok {
		return logSectionsXML(reply)
	}
	sections, err := keepSections(found, notes, logElement)
	var outputs []section[outputText]
	if _, noData := errors.AsType[*NoDataError](err); noData {
		// The scanner read this reply once; it reads it the same way
		// again, but the reference stays the answer should it not.
		if outputs, _, ok = scanSections[outputText](reply, "output"); !ok {
			return logSectionsXML(reply)
		}
	}
	return sections, outputs, err
}

// decodeLogContentXML is DecodeLogContent on encoding/xml alone: the
// reference its fast path is held to.
func decodeLogContentXML(reply []byte) (string, error) {
	sections, outputs, err := logSectionsXML(reply)
	return logContent(sections, err, outputs)
}

func logSectionsXML(reply []byte) ([]section[fileContent], []section[outputText], error) {
	sections, err := decodeReply[fileContent](reply, logElement)
	var outputs []section[outputText]
	if _, noData := errors.AsType[*NoDataError](err); noData {
		// A reply findSections cannot read has no <output> to offer.
		outputs, _, _ = findSections[outputText](reply, "output")
	}
	return sections, outputs, err
}

const logElement = "file-content"

// logContent is DecodeLogContent once the file-content sections are
// found; outputs are the reply's <output> sections, read only when there
// is no file-content.
func logContent(sections []section[fileContent], err error, outputs []section[outputText]) (string, error) {
	const element = logElement
	if err == nil {
		s := sections[0]
		text, err := s.data.content()
		if err != nil {
			return "", fmt.Errorf("decode %s: %s%w", element, memberPrefix(s.member), err)
		}
		return text, nil
	}
	var nd *NoDataError
	if !errors.As(err, &nd) {
		return "", err
	}
	for _, o := range outputs {
		if text := unindent(o.data.Text); looksLikeLog(text) {
			return text, nil
		}
	}
	return "", err
}

// looksLikeLog reports whether some line of text is a log line syslog.ParseLine
// reads. No clock is needed to tell: only whether the shape is there.
func looksLikeLog(text string) bool {
	for line := range strings.Lines(text) {
		if syslog.ParseLine("", strings.TrimRight(line, "\r\n"), syslog.DeviceClock{}).Parsed {
			return true
		}
	}
	return false
}

// unindent returns the file inside an element's text. XML carries the
// text verbatim, but replies that went through a pretty-printer (PyEZ
// captures, lxml, xmllint) have it moved to its own lines and every line
// indented to the element's depth ("\n        line\n    </file-content>").
// So:
//   - one newline right after the start tag and the blank tail before the
//     end tag are dropped: they are the tag layout, not the file;
//   - the leading whitespace common to every non-blank line is removed,
//     but only when every non-blank line has it. A pretty-printer indents
//     all lines alike; a file whose own lines are indented differently
//     (or not at all, as every syslog line starts with its timestamp)
//     shows that the indentation is content, and it is kept.
//
// Whitespace-only lines are the printer's indentation of empty lines:
// they lose the common prefix, or become empty when shorter than it.
func unindent(text string) string {
	text = strings.TrimPrefix(text, "\n")
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		if strings.TrimSpace(text[i+1:]) == "" {
			text = text[:i+1]
		}
	} else if strings.TrimSpace(text) == "" {
		return ""
	}

	prefix, found := "", false
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		ws := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if !found {
			prefix, found = ws, true
			continue
		}
		prefix = commonPrefix(prefix, ws)
		if prefix == "" {
			return text
		}
	}
	if prefix == "" {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			b.WriteString(rest)
			continue
		}
		// A blank line shorter than the indentation: keep only its end.
		if strings.HasSuffix(line, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func commonPrefix(a, b string) string {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return a[:i]
		}
	}
	return a[:n]
}

// NoSuchFile reports whether an rpc-error message from get-log or
// file-show says the file does not exist: Junos answers "could not
// resolve file: NAME" for a log file the platform does not keep (an SRX
// cluster has no /var/log/mastership), and the file commands' text output
// says "NAME: No such file or directory" (the file-list reply in
// get-system-core-dumps.none.pyez.xml).
func NoSuchFile(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "could not resolve file") || strings.Contains(m, "no such file or directory")
}

// DecodeArchiveContent returns the turned-over log file (messages.0.gz)
// carried by a reply to GetLogRPC or FileShowRPC. "show log" prints an
// archive decompressed, as text, and DecodeLogContent reads that. A
// device that sends the file's bytes instead (file-show with
// encoding="base64") sends them compressed: gzip data (its magic bytes
// 1f 8b) is decompressed here, at most maxBytes of it (<= 0: 64 MiB), so
// a small reply cannot expand into an unbounded string. Anything else
// that is not text (a NUL byte) is an error rather than log lines.
//
// compress/gzip reads the stream: a gzip decoder is not hand-written.
func DecodeArchiveContent(reply []byte, maxBytes int64) (string, error) {
	text, err := DecodeLogContent(reply)
	if err != nil {
		return "", err
	}
	if maxBytes <= 0 {
		maxBytes = 64 << 20
	}
	if strings.HasPrefix(text, "\x1f\x8b") {
		zr, err := gzip.NewReader(strings.NewReader(text))
		if err != nil {
			return "", fmt.Errorf("decode %s: gzip: %w", logElement, err)
		}
		b, err := io.ReadAll(io.LimitReader(zr, maxBytes+1))
		if err != nil {
			return "", fmt.Errorf("decode %s: gzip: %w", logElement, err)
		}
		if int64(len(b)) > maxBytes {
			return "", fmt.Errorf("decode %s: gzip: the archive decompresses to more than %d bytes", logElement, maxBytes)
		}
		text = string(b)
	}
	if strings.IndexByte(text, 0) >= 0 {
		return "", fmt.Errorf("decode %s: the archive is not text (it holds a NUL byte)", logElement)
	}
	return text, nil
}

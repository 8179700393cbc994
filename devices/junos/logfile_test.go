package junos

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestDecodeLogContentSamples(t *testing.T) {
	t.Run("minimal", func(t *testing.T) {
		got, err := DecodeLogContent(readSample(t, "file-show.minimal.pyez.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "testing cat functionality\n"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("etc-hosts re-indented by a pretty-printer", func(t *testing.T) {
		got, err := DecodeLogContent(readSample(t, "file-show.etc-hosts-junos.pyez.xml"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if len(lines) != 1809 {
			t.Errorf("%d lines, want 1809", len(lines))
		}
		if want := "#$Id: hosts.junos,v 1.7.72.1 2009-04-16 05:22:03 kdickman Exp $"; lines[0] != want {
			t.Errorf("first line %q, want %q", lines[0], want)
		}
		if want := "# End of internal names"; lines[len(lines)-1] != want {
			t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
		}
		// The file's own trailing blanks stay; the printer's indent goes.
		if !strings.Contains(got, "\n128.0.0.5        re1            \n") {
			t.Error("line 're1' lost its trailing blanks or kept the indentation")
		}
		// Indented empty lines become empty; the one longer blank line
		// keeps what is beyond the indentation.
		if lines[15] != "" || lines[154] != strings.Repeat(" ", 32) {
			t.Errorf("blank lines: %q, %q", lines[15], lines[154])
		}
		for i, l := range lines {
			if strings.HasPrefix(l, "        ") && strings.TrimSpace(l) != "" {
				t.Fatalf("line %d still indented: %q", i+1, l)
			}
		}
	})
}

func TestDecodeLogContentCases(t *testing.T) {
	const log = "Jan 12 21:50:05 clear-log[865]: logfile cleared\nJan 12 21:50:18 failed to receive keepalives\n"
	b64 := base64.StdEncoding.EncodeToString([]byte(log))
	tests := []struct {
		name, reply, want string
	}{
		{"wire format, unindented", `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/17.3R3/junos">` +
			`<file-content filename="/var/log/mastership" junos:seconds="1" filesize="97" encoding="text">` + "\n" + log + `</file-content></rpc-reply>`, log},
		{"nc: prefix, text on the tag's line", `<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><file-content encoding="text">` + log + `</file-content></nc:rpc-reply>`, log},
		{"no encoding attribute, no trailing newline", `<file-content>a b c` + "\n" + `d e f</file-content>`, "a b c\nd e f"},
		{"pretty-printed", "<rpc-reply>\n  <file-content encoding=\"text\">\n      Jan 1 00:00:00 a\n      \n      Jan 1 00:00:01 b\n  </file-content>\n</rpc-reply>",
			"Jan 1 00:00:00 a\n\nJan 1 00:00:01 b\n"},
		// A file whose lines are indented unevenly keeps its indentation:
		// only a uniform indent is the printer's.
		{"uneven indentation is content", "<file-content>\n  a\n    b\nc\n</file-content>", "  a\n    b\nc\n"},
		{"uniform tab indentation", "<file-content>\n\tx\n\t\ty\n</file-content>", "x\n\ty\n"},
		{"escaped characters", `<file-content>Mar 14 00:46:16 x: MPC3E NG PQ &amp; Flex Q &lt;FPC 1&gt;</file-content>`, "Mar 14 00:46:16 x: MPC3E NG PQ & Flex Q <FPC 1>"},
		{"CDATA", `<file-content><![CDATA[Jan 1 00:00:00 a <b>]]></file-content>`, "Jan 1 00:00:00 a <b>"},
		{"empty file", `<rpc-reply><file-content filename="/var/log/x" filesize="0" encoding="text"></file-content></rpc-reply>`, ""},
		{"empty file, pretty-printed", "<rpc-reply>\n  <file-content encoding=\"text\">\n  </file-content>\n</rpc-reply>", ""},
		{"base64", `<rpc-reply><file-content encoding="base64">` + b64 + `</file-content></rpc-reply>`, log},
		{"base64 in lines, indented", "<file-content encoding=\"base64\">\n    " + b64[:20] + "\n    " + b64[20:] + "\n</file-content>", log},
		{"base64 without padding", `<file-content encoding="BASE64">` + strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("ab")), "=") + `</file-content>`, "ab"},
		{"multi-routing-engine: the first member", `<multi-routing-engine-results><multi-routing-engine-item><re-name>re0</re-name><file-content>one</file-content></multi-routing-engine-item>` +
			`<multi-routing-engine-item><re-name>re1</re-name><file-content>two</file-content></multi-routing-engine-item></multi-routing-engine-results>`, "one"},
		{"get-log as output", "<rpc-reply><output>\n" + log + "</output></rpc-reply>", log},
		{"output in RFC 5424", "<output>&lt;165>1 2007-02-15T09:17:15.719Z router1 mgd 3046 UI_X [junos@2636 a=\"b\"] m</output>", "<165>1 2007-02-15T09:17:15.719Z router1 mgd 3046 UI_X [junos@2636 a=\"b\"] m"},
		{"output with PRI and ISO timestamps", "<rpc-reply><output>\n    &lt;28>2020-11-04T07:05:36+00:00 sw lacpd[1]: X_Y: z\n</output></rpc-reply>", "<28>2020-11-04T07:05:36+00:00 sw lacpd[1]: X_Y: z\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeLogContent([]byte(tt.reply))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestDecodeLogContentErrors(t *testing.T) {
	tests := []struct {
		name, reply string
		noData      bool   // a *NoDataError
		output      string // its Output
	}{
		{"backup RE", "<rpc-reply>\n    <output>\n        Aborted! This command can only be used on the master routing engine.</output>\n    </rpc-reply>",
			true, "Aborted! This command can only be used on the master routing engine."},
		{"no such file", `<rpc-reply><xnm:error xmlns:xnm="http://xml.juniper.net/xnm/1.1/xnm"><source-daemon>mgd</source-daemon><message>could not resolve file: /var/log/nope</message></xnm:error></rpc-reply>`,
			true, "could not resolve file: /var/log/nope"},
		{"rpc-error", `<rpc-reply><rpc-error><error-severity>error</error-severity><error-message>syntax error</error-message></rpc-error></rpc-reply>`,
			true, "syntax error"},
		{"error nested in file-content", `<rpc-reply><file-content><xnm:error><message>permission denied</message></xnm:error></file-content></rpc-reply>`,
			true, "permission denied"},
		{"CLI text that is not a log", "<rpc-reply><output>\nIngress LSP: 11 sessions\n2014-04-17 09:09:21 UTC  Minor  Rescue configuration is not set\n</output></rpc-reply>",
			true, "Ingress LSP: 11 sessions\n2014-04-17 09:09:21 UTC  Minor  Rescue configuration is not set"},
		{"empty reply element", `<rpc-reply/>`, true, ""},
		{"bad base64", `<file-content encoding="base64">!!!</file-content>`, false, ""},
		{"unknown encoding", `<file-content encoding="gzip">x</file-content>`, false, ""},
		{"malformed XML", `<rpc-reply><file-content>abc</rpc-reply>`, false, ""},
		{"not XML", "]]>]]>", false, ""},
		{"empty", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeLogContent([]byte(tt.reply))
			if err == nil {
				t.Fatalf("no error; content %q", got)
			}
			var nd *NoDataError
			if errors.As(err, &nd) != tt.noData {
				t.Fatalf("err = %v (%T), want NoDataError: %v", err, err, tt.noData)
			}
			if tt.noData && (nd.Element != "file-content" || nd.Output != tt.output) {
				t.Errorf("NoDataError{%q, %q}, want {file-content, %q}", nd.Element, nd.Output, tt.output)
			}
		})
	}
}

// TestDecodeLogContentForeignSamples feeds every other RPC's sample to
// DecodeLogContent: none of them is a file.
func TestDecodeLogContentForeignSamples(t *testing.T) {
	for _, name := range sampleNames(t) {
		if strings.HasPrefix(name, "file-show.") || !strings.HasSuffix(name, ".xml") {
			continue
		}
		_, err := DecodeLogContent(readSample(t, name))
		var nd *NoDataError
		// Collector fragments leave the junos: prefix undeclared, which
		// is still well-formed for encoding/xml; any error but "no data"
		// would be a decoder bug here.
		if !errors.As(err, &nd) {
			t.Errorf("%s: err = %v, want *NoDataError", name, err)
		}
	}
}

func TestLogRPCs(t *testing.T) {
	tests := []struct{ got, want string }{
		{GetLogRPC("messages"), "<get-log><filename>messages</filename></get-log>"},
		{GetLogRPC(`a<b>&"c'`), "<get-log><filename>a&lt;b&gt;&amp;&#34;c&#39;</filename></get-log>"},
		{FileShowRPC("messages"), "<file-show><filename>/var/log/messages</filename></file-show>"},
		{FileShowRPC("mastership"), "<file-show><filename>/var/log/mastership</filename></file-show>"},
		{FileShowRPC("/var/log/chassisd"), "<file-show><filename>/var/log/chassisd</filename></file-show>"},
		{FileShowRPC("/var/tmp/a&b"), "<file-show><filename>/var/tmp/a&amp;b</filename></file-show>"},
		{LogPath("interactive-commands"), "/var/log/interactive-commands"},
		{LogPath("./messages"), "/var/log/messages"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestUnindent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"\n", ""},
		{"   ", ""},
		{"\n    ", ""},
		{"abc", "abc"},
		{"\nabc\n", "abc\n"},
		{"\n    a\n    b\n  ", "a\nb\n"},
		{"\n    a\n  b\n", "  a\nb\n"},
		{"\n    a\n\n    b\n", "a\n\nb\n"},
		{"\n    a\n  \n    b", "a\n\nb"},
		{"\n    a\n      \n    b", "a\n  \nb"},
		{"\n\t a\n  b\n", "\t a\n  b\n"},
		{"\n\n    a\n", "\na\n"},
	}
	for _, tt := range tests {
		if got := unindent(tt.in); got != tt.want {
			t.Errorf("unindent(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzDecodeLogContent: any reply decodes to text or an error, never a
// panic, and text never holds the XML envelope.
func FuzzDecodeLogContent(f *testing.F) {
	for _, name := range []string{"file-show.minimal.pyez.xml", "file-show.etc-hosts-junos.pyez.xml"} {
		f.Add(readSample(f, name))
	}
	for _, s := range []string{
		"", "<", "<rpc-reply/>", `<file-content encoding="base64">!!!</file-content>`,
		`<rpc-reply><file-content filename="/var/log/messages">` + "\nJan 12 21:50:05 x\n" + `</file-content></rpc-reply>`,
		`<rpc-reply><output>Aborted!</output></rpc-reply>`,
		`<file-content encoding="base64">SmFuIDEyIDIxOjUwOjA1IHgK</file-content>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		text, err := DecodeLogContent(reply)
		if err != nil && text != "" {
			t.Errorf("error %v with text %q", err, text)
		}
		if strings.Contains(text, "<file-content") {
			t.Errorf("text holds the envelope: %q", text)
		}
	})
}

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDecodeArchiveContent: the archive as show log prints it (text), or
// its compressed bytes in base64, gives the same lines; binary that is
// not gzip, bad gzip and an archive over the cap are errors.
func TestDecodeArchiveContent(t *testing.T) {
	const log = "Jan 12 21:50:05 re0 newsyslog[1]: logfile turned over\nJan 12 21:50:18 re0 mgd[2]: UI_COMMIT: User 'a'\n"
	b64 := func(b []byte) string {
		return `<rpc-reply><file-content filename="/var/log/messages.0.gz" encoding="base64">` + base64.StdEncoding.EncodeToString(b) + `</file-content></rpc-reply>`
	}
	gz := gzipped(t, log)
	for _, tt := range []struct {
		name, reply string
		max         int64
		want, err   string
	}{
		{"text, as show log prints it", `<rpc-reply><file-content filename="/var/log/messages.0.gz" encoding="text">` + "\n" + log + `</file-content></rpc-reply>`, 0, log, ""},
		{"gzip bytes in base64", b64(gz), 0, log, ""},
		{"two gzip members", b64(append(gzipped(t, log[:10]), gzipped(t, log[10:])...)), 0, log, ""},
		{"over the cap", b64(gz), 20, "", "more than 20 bytes"},
		{"truncated gzip", b64(gz[:len(gz)-6]), 0, "", "gzip"},
		{"not gzip, binary", b64([]byte("BZh91AY\x00\x01")), 0, "", "not text"},
		{"rpc-error", `<rpc-reply><rpc-error><error-severity>error</error-severity><error-message>x</error-message></rpc-error></rpc-reply>`, 0, "", "x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeArchiveContent([]byte(tt.reply), tt.max)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || got != "" {
					t.Errorf("got %q, %v; want an error with %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// FuzzDecodeArchiveContent: any reply gives text without NUL bytes, no
// longer than the cap when it was compressed, or an error; never a panic.
func FuzzDecodeArchiveContent(f *testing.F) {
	f.Add([]byte(`<file-content encoding="text">Jan 1 00:00:00 a</file-content>`))
	f.Add([]byte(`<file-content encoding="base64">` + base64.StdEncoding.EncodeToString(gzipped(f, "Jan 1 00:00:00 a\n")) + `</file-content>`))
	f.Add([]byte(`<file-content encoding="base64">H4sIAAAAAAAA</file-content>`))
	f.Fuzz(func(t *testing.T, reply []byte) {
		text, err := DecodeArchiveContent(reply, 4096)
		if err != nil {
			if text != "" {
				t.Errorf("error %v with text %q", err, text)
			}
			return
		}
		if strings.IndexByte(text, 0) >= 0 {
			t.Errorf("text holds a NUL byte: %q", text)
		}
	})
}

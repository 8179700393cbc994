package netconf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices/junos/junossamples"
)

// Replies below are copied from junos-samples/rpc (pyez captures, in
// devices/junos/testdata/rpc) or written in the wire format of
// *.nc-wire.xml.
const (
	sampleXnmError = `<rpc-reply xmlns:junos="http://xml.juniper.net/junos/14.1R1/junos">
    <xnm:error xmlns="http://xml.juniper.net/xnm/1.1/xnm" xmlns:xnm="http://xml.juniper.net/xnm/1.1/xnm">
        <source-daemon>chassis-control</source-daemon>
        <message>Unrecognized command (chassis-control)</message>
    </xnm:error>
</rpc-reply>`
	samplePlainError = `<rpc-reply xmlns:junos="http://xml.juniper.net/junos/15.1F5/junos">
    <error>
        Some error message.</error>
    </rpc-reply>`
	sampleAborted = `<rpc-reply xmlns:junos="http://xml.juniper.net/junos/15.1F5/junos">
    <output>
        Aborted! This command can only be used on the master routing engine.</output>
    </rpc-reply>`
)

func TestParseReply(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		id       string
		data     string // expected Data, trimmed
		err      *RPCError
		warnings []RPCError
		protocol bool
	}{
		{
			name: "data",
			raw: `<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/17.3R3/junos" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1">
<route-engine-information><route-engine><slot>0</slot></route-engine></route-engine-information>
</nc:rpc-reply>`,
			id:   "1",
			data: `<route-engine-information><route-engine><slot>0</slot></route-engine></route-engine-information>`,
		},
		{
			name: "ok",
			raw:  `<rpc-reply message-id="abc"><ok/></rpc-reply>`,
			id:   "abc",
			data: `<ok/>`,
		},
		{
			name: "rpc-error top level",
			raw: `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="7"><rpc-error>
<error-type>protocol</error-type>
<error-tag>operation-failed</error-tag>
<error-severity>error</error-severity>
<error-path>/rpc/get-foo</error-path>
<error-message>
syntax error
</error-message>
<error-info><bad-element>get-foo</bad-element></error-info>
</rpc-error></rpc-reply>`,
			id:  "7",
			err: &RPCError{Type: "protocol", Tag: "operation-failed", Severity: "error", Path: "/rpc/get-foo", Message: "syntax error"},
		},
		{
			name: "rpc-error nested in data with source-daemon",
			raw: `<rpc-reply message-id="8"><chassis-inventory><chassis><name>Chassis</name>
<multi><deep><rpc-error><error-severity>error</error-severity><source-daemon>chassisd</source-daemon><error-message>fpc 3 not responding</error-message></rpc-error></deep></multi>
</chassis></chassis-inventory></rpc-reply>`,
			id:  "8",
			err: &RPCError{Severity: "error", DaemonSource: "chassisd", Message: "fpc 3 not responding"},
		},
		{
			name: "warning only",
			raw: `<rpc-reply message-id="9"><rpc-error><error-type>application</error-type><error-severity>warning</error-severity>
<error-message>statement has no contents; ignored</error-message></rpc-error><software-information/></rpc-reply>`,
			id:       "9",
			warnings: []RPCError{{Type: "application", Severity: "warning", Message: "statement has no contents; ignored"}},
		},
		{
			name: "warning and error",
			raw: `<rpc-reply message-id="10"><rpc-error><error-severity>warning</error-severity><error-message>w</error-message></rpc-error>
<rpc-error><error-severity>error</error-severity><error-message>e</error-message></rpc-error></rpc-reply>`,
			id:       "10",
			err:      &RPCError{Severity: "error", Message: "e"},
			warnings: []RPCError{{Severity: "warning", Message: "w"}},
		},
		{
			name: "missing severity is an error",
			raw:  `<rpc-reply message-id="11"><rpc-error><error-message>what</error-message></rpc-error></rpc-reply>`,
			id:   "11",
			err:  &RPCError{Severity: "error", Message: "what"},
		},
		{
			name: "xnm:error (pyez sample)",
			raw:  sampleXnmError,
			err:  &RPCError{Severity: "error", DaemonSource: "chassis-control", Message: "Unrecognized command (chassis-control)"},
		},
		{
			name: "xnm:error nested, undeclared prefix",
			raw:  `<rpc-reply message-id="12"><configuration-information><xnm:error><message>syntax error</message><statement>foo</statement></xnm:error></configuration-information></rpc-reply>`,
			id:   "12",
			err:  &RPCError{Severity: "error", Message: "syntax error (statement: foo)"},
		},
		{
			name:     "xnm:warning",
			raw:      `<rpc-reply message-id="13"><xnm:warning xmlns:xnm="http://xml.juniper.net/xnm/1.1/xnm"><message>uncommitted changes</message></xnm:warning><ok/></rpc-reply>`,
			id:       "13",
			warnings: []RPCError{{Severity: "warning", Message: "uncommitted changes"}},
		},
		{
			name: "plain error element (pyez sample)",
			raw:  samplePlainError,
			err:  &RPCError{Severity: "error", Message: "Some error message."},
		},
		{
			name: "output Aborted on backup RE (pyez sample)",
			raw:  sampleAborted,
			err:  &RPCError{Tag: "aborted", Severity: "error", Message: "Aborted! This command can only be used on the master routing engine."},
		},
		{
			name: "text output is data",
			raw:  `<rpc-reply message-id="14"><output>Hostname: r1</output></rpc-reply>`,
			id:   "14",
			data: `<output>Hostname: r1</output>`,
		},
		{
			name: "Aborted output beside other data is data",
			raw:  `<rpc-reply message-id="15"><output>Aborted! not really</output><other/></rpc-reply>`,
			id:   "15",
			data: `<output>Aborted! not really</output><other/>`,
		},
		{
			name: "nested error element without xnm namespace is data",
			raw:  `<rpc-reply message-id="16"><counters><error>3</error></counters></rpc-reply>`,
			id:   "16",
			data: `<counters><error>3</error></counters>`,
		},
		{name: "not xml", raw: `hello]]>`, protocol: true},
		{name: "unclosed", raw: `<rpc-reply message-id="1"><data>`, protocol: true},
		{name: "wrong root", raw: `<hello/>`, protocol: true},
		{name: "second root", raw: `<rpc-reply/><rpc-reply/>`, protocol: true},
		{name: "trailing text", raw: `<rpc-reply/>junk`, protocol: true},
		{name: "empty", raw: ``, protocol: true},
		{name: "mismatched tags", raw: `<rpc-reply><a></b></rpc-reply>`, protocol: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, err := parseReply([]byte(tt.raw))
			// The fast path may decline anything, but what it accepts
			// must read exactly as the full parse.
			checkFastAgrees(t, []byte(tt.raw))
			if tt.protocol {
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *ProtocolError", err)
				}
				if reply != nil {
					t.Errorf("reply = %+v, want nil", reply)
				}
				return
			}
			if tt.err != nil {
				var got *RPCError
				if !errors.As(err, &got) {
					t.Fatalf("err = %v, want *RPCError", err)
				}
				if *got != *tt.err {
					t.Errorf("RPCError = %+v, want %+v", *got, *tt.err)
				}
				if reply == nil {
					t.Fatal("reply is nil alongside an RPCError")
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if reply.MessageID != tt.id {
				t.Errorf("MessageID = %q, want %q", reply.MessageID, tt.id)
			}
			if tt.data != "" && strings.TrimSpace(string(reply.Data)) != tt.data {
				t.Errorf("Data = %q, want %q", reply.Data, tt.data)
			}
			if string(reply.Raw) != tt.raw {
				t.Errorf("Raw differs from input")
			}
			if len(reply.Warnings) != len(tt.warnings) {
				t.Fatalf("Warnings = %v, want %v", reply.Warnings, tt.warnings)
			}
			for i, w := range reply.Warnings {
				if *w != tt.warnings[i] {
					t.Errorf("Warnings[%d] = %+v, want %+v", i, *w, tt.warnings[i])
				}
			}
		})
	}
}

func TestOperation(t *testing.T) {
	tests := []struct {
		body, op string
		bad      bool
	}{
		{body: "<get-route-engine-information/>", op: "get-route-engine-information"},
		{body: " <get-log><filename>messages</filename></get-log> ", op: "get-log"},
		{body: `<command format="text">show version</command>`, op: "command"},
		{body: "", bad: true},
		{body: "just text", bad: true},
		{body: "<open>", bad: true},
		{body: "<a></b>", bad: true},
	}
	for _, tt := range tests {
		op, err := operation(tt.body)
		if tt.bad {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Errorf("operation(%q) err = %v, want *ProtocolError", tt.body, err)
			}
			continue
		}
		if err != nil || op != tt.op {
			t.Errorf("operation(%q) = %q, %v; want %q", tt.body, op, err, tt.op)
		}
	}
}

// checkOperationAgrees checks operationFast against operation's
// encoding/xml check: it may decline anything, but what it accepts must
// be well-formed there, with the same operation.
func checkOperationAgrees(t testing.TB, body string) {
	t.Helper()
	op, ok := operationFast(body)
	if !ok {
		return
	}
	d := xml.NewDecoder(strings.NewReader(body))
	want := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Errorf("operationFast(%q) = %q; encoding/xml: %v", body, op, err)
			return
		}
		if se, ok := tok.(xml.StartElement); ok && want == "" {
			want = se.Name.Local
		}
	}
	if op != want {
		t.Errorf("operationFast(%q) = %q, encoding/xml finds %q", body, op, want)
	}
}

func TestOperationFast(t *testing.T) {
	for body, want := range map[string]string{
		"<get-route-engine-information/>":                                 "get-route-engine-information",
		" <get-log><filename>messages</filename></get-log> ":              "get-log",
		`<command format="text">show version | match "a&amp;b"</command>`: "command",
		`<!-- c --><junos:get-a xmlns:junos="x"/><b/>`:                    "get-a",
		"text<a/>":          "a",
		"<a:/>":             "a:",
		"":                  "",
		"just text":         "",
		"<open>":            "",
		"<a></b>":           "",
		"</a>":              "",
		"<a>]]></a>":        "",
		"<?pi?><a/>":        "",
		"<![CDATA[x]]><a/>": "",
	} {
		checkOperationAgrees(t, body)
		op, ok := operationFast(body)
		if ok != (want != "") || op != want {
			t.Errorf("operationFast(%q) = %q, %v; want %q", body, op, ok, want)
		}
	}
	sample := `<get-configuration database="committed" format='xml'><configuration><system><host-name/></system><!-- x --></configuration></get-configuration>`
	for i := range len(sample) {
		checkOperationAgrees(t, sample[:i])
		checkOperationAgrees(t, sample[:i]+sample[i+1:])
		for _, b := range []byte("<>/&;:\"'=]!?-#x aZ0\x00\xe9") {
			checkOperationAgrees(t, sample[:i]+string([]byte{b})+sample[i+1:])
			checkOperationAgrees(t, sample[:i]+string([]byte{b})+sample[i:])
		}
	}
}

func FuzzOperationFast(f *testing.F) {
	f.Add("<get-route-engine-information/>")
	f.Add(`<command format="text">show version</command>`)
	f.Fuzz(func(t *testing.T, body string) {
		checkOperationAgrees(t, body)
	})
}

func TestParseHello(t *testing.T) {
	// The Junos 17.3R3 wire sample, comments included.
	const junos = `<!-- No zombies were killed during the creation of this user interface -->
<!-- user netinfra-mon, class j-mon -->
<nc:hello xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">
   <nc:capabilities>
    <nc:capability>urn:ietf:params:netconf:base:1.0</nc:capability>
    <nc:capability>urn:ietf:params:netconf:capability:candidate:1.0</nc:capability>
    <nc:capability>http://xml.juniper.net/netconf/junos/1.0</nc:capability>
  </nc:capabilities>
  <nc:session-id>13340</nc:session-id>
</nc:hello>
`
	h, err := parseHello([]byte(junos))
	if err != nil {
		t.Fatal(err)
	}
	if h.SessionID != 13340 || len(h.Capabilities) != 3 || h.Capabilities[2] != "http://xml.juniper.net/netconf/junos/1.0" {
		t.Errorf("hello = %+v", h)
	}
	for _, bad := range []string{
		`<hello><capabilities><capability>urn:x</capability></capabilities></hello>`,
		`<hello><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities><session-id>x</session-id></hello>`,
		`<rpc-reply/>`,
		`<hello>`,
	} {
		var pe *ProtocolError
		if _, err := parseHello([]byte(bad)); !errors.As(err, &pe) {
			t.Errorf("parseHello(%q) err = %v, want *ProtocolError", bad, err)
		}
	}
}

// checkFastAgrees checks parseReplyFast against parseReply on raw: it may
// decline anything, but a reply it accepts must be one parseReply returns
// without error or warnings, with the same message-id and data.
func checkFastAgrees(t testing.TB, raw []byte) (accepted bool) {
	t.Helper()
	fast := parseReplyFast(raw, "7")
	if fast == nil {
		return false
	}
	full, err := parseReply(raw)
	switch {
	case err != nil:
		t.Errorf("fast path accepted %q; parseReply: %v", raw, err)
	case len(full.Warnings) > 0:
		t.Errorf("fast path accepted %q, which has warnings", raw)
	case fast.MessageID != full.MessageID || string(fast.Data) != string(full.Data) || len(fast.Raw) != len(raw) || len(raw) > 0 && &fast.Raw[0] != &raw[0]:
		t.Errorf("fast path on %q: id %q data %q; parseReply: id %q data %q", raw, fast.MessageID, fast.Data, full.MessageID, full.Data)
	}
	return true
}

func TestParseReplyFast(t *testing.T) {
	tests := []struct {
		raw, id, data string
		declined      bool
	}{
		{raw: `<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1"><a/></nc:rpc-reply>` + "\n", id: "1", data: "<a/>"},
		{raw: "<!-- c -->\n<rpc-reply message-id=\"2\">\n<b>x &lt;error&gt; y</b>\n</rpc-reply >\n", id: "2", data: "\n<b>x &lt;error&gt; y</b>\n"},
		{raw: `<rpc-reply message-id="3"><log>kernel:error: disk</log></rpc-reply>`, id: "3", data: "<log>kernel:error: disk</log>"},
		{raw: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="7"><data/></rpc-reply>`, id: "7", data: "<data/>"},
		{raw: `<rpc-reply message-id='7' message-id="8"/>`, id: "8", data: ""},
		{raw: `<rpc-reply><a b = 'x"y' c="]]>"/></rpc-reply>`, data: `<a b = 'x"y' c="]]>"/>`},
		{raw: "<rpc-reply message-id=\"7\"><t>caf\u00e9 \U0001F600 &#233;&#xE9;&#x1F600; ]] ] &amp;&quot;&apos;</t><!-- <rpc-error> - > --></rpc-reply>", id: "7", data: "<t>caf\u00e9 \U0001F600 &#233;&#xE9;&#x1F600; ]] ] &amp;&quot;&apos;</t><!-- <rpc-error> - > -->"},
		{raw: `<rpc-reply message-id="7"><junos:a junos:b="1"><c.d-e_f:g/></junos:a><a:/><:a></:a></rpc-reply>`, id: "7", data: `<junos:a junos:b="1"><c.d-e_f:g/></junos:a><a:/><:a></:a>`},
		// Errors and what parseReply looks into.
		{raw: `<rpc-reply><rpc-error/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><nc:rpc-error/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a><b><rpc-error/></b></a></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><xnm:error/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><xnm:warning/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><output>Aborted!</output></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><error>x</error></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><counters><error>3</error></counters></rpc-reply>`, declined: true},
		// Not a reply, or not only one.
		{raw: ``, declined: true},
		{raw: `<hello></hello>`, declined: true},
		{raw: `<nc:hello/>`, declined: true},
		{raw: `<rpc-reply><a/></rpc-reply>junk`, declined: true},
		{raw: `<rpc-reply><a/></rpc-reply><rpc-reply></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a/></rpc-reply>` + "\n<b/>", declined: true},
		{raw: `<rpc-reply><a/></rpc-reply></a>`, declined: true},
		{raw: `text<rpc-reply></rpc-reply>`, declined: true},
		// Malformed.
		{raw: `<rpc-reply><a></b></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a:b></c:b></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a>`, declined: true},
		{raw: `<rpc-reply><a/>`, declined: true},
		{raw: `<rpc-reply><a/></rpc-reply`, declined: true},
		{raw: `<rpc-reply><a b="1></a></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a b=1/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a b/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a b="<"/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a/ ></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><1a/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a:b:c/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply>a ]]> b</rpc-reply>`, declined: true},
		{raw: `<rpc-reply>&nbsp;</rpc-reply>`, declined: true},
		{raw: `<rpc-reply>&amp</rpc-reply>`, declined: true},
		{raw: `<rpc-reply>&#;</rpc-reply>`, declined: true},
		{raw: `<rpc-reply>&#0;</rpc-reply>`, declined: true},
		{raw: `<rpc-reply>&#x110000;</rpc-reply>`, declined: true},
		{raw: `<rpc-reply>&#99999999999999999999;</rpc-reply>`, declined: true},
		{raw: `<rpc-reply>&#X41;</rpc-reply>`, declined: true},
		{raw: "<rpc-reply>\x01</rpc-reply>", declined: true},
		{raw: "<rpc-reply>\xe9\xff</rpc-reply>", declined: true},
		{raw: "<rpc-reply>\xef\xbf\xbe</rpc-reply>", declined: true}, // U+FFFE
		{raw: "<rpc-reply a=\"\xe9\"/>", declined: true},
		{raw: `<rpc-reply><!-- a -- b --></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><!-- a -></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><!- a --></rpc-reply>`, declined: true},
		// Unusual: left to parseReply.
		{raw: `<rpc-reply><![CDATA[x]]></rpc-reply>`, declined: true},
		{raw: `<!DOCTYPE rpc-reply><rpc-reply/>`, declined: true},
		{raw: `<rpc-reply><?pi x?></rpc-reply>`, declined: true},
		{raw: `<?xml version="1.1"?><rpc-reply/>`, declined: true},
		{raw: "<rpc-reply><caf\u00e9/></rpc-reply>", declined: true},
		{raw: `<rpc-reply message-id="a&amp;b"/>`, declined: true},
		{raw: "\u00a0<rpc-reply/>", declined: true},
	}
	for _, tt := range tests {
		got := parseReplyFast([]byte(tt.raw), "7")
		checkFastAgrees(t, []byte(tt.raw))
		if tt.declined {
			if got != nil {
				t.Errorf("parseReplyFast(%q) = %+v, want nil", tt.raw, got)
			}
			continue
		}
		if got == nil {
			t.Errorf("parseReplyFast(%q) declined", tt.raw)
			continue
		}
		if got.MessageID != tt.id || string(got.Data) != tt.data || len(got.Warnings) != 0 {
			t.Errorf("parseReplyFast(%q) = id %q data %q", tt.raw, got.MessageID, got.Data)
		}
	}
}

// agreementSample has most of what a reply can hold: a declaration,
// comments, prefixes, both quotes, references, UTF-8, empty elements.
const agreementSample = `<?xml version="1.0" encoding="UTF-8"?>
<!-- Junos -->
<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/17.3R3/junos" message-id="7">
<route-engine-information xmlns="http://xml.juniper.net/junos/17.3R3/junos-chassis">
<route-engine junos:style='brief'><slot>0</slot><up-time junos:seconds="4233600">49 days, 2:03</up-time>
<t a="x]]>y">caf` + "\u00e9" + ` &lt;a&gt; &#233; &#xe9; ]] </t><empty/></route-engine>
</route-engine-information><!-- end -->
</nc:rpc-reply>
`

// TestParseReplyFastAgrees breaks a well-formed reply at every byte, in
// many ways, and checks that the fast path never accepts what parseReply
// rejects (or reads it differently).
func TestParseReplyFastAgrees(t *testing.T) {
	raw := []byte(agreementSample)
	if !checkFastAgrees(t, raw) {
		t.Fatal("fast path declined the sample")
	}
	for i := range len(raw) {
		checkFastAgrees(t, raw[:i]) // truncated
		cut := append(slices.Clone(raw[:i]), raw[i+1:]...)
		checkFastAgrees(t, cut) // one byte gone
		for _, b := range []byte("<>/&;:\"'=]!?-#x aZ0\x00\t\r\xe9\xff") {
			mut := slices.Clone(raw)
			mut[i] = b
			checkFastAgrees(t, mut) // one byte changed
			ins := slices.Insert(slices.Clone(raw), i, b)
			checkFastAgrees(t, ins) // one byte added
		}
	}
}

// TestParseReplyFastSamples runs both parsers on the captured Junos
// replies: they agree, and the fast path takes every reply without an
// error-like element or anything unusual.
func TestParseReplyFastSamples(t *testing.T) {
	files := junossamples.Names(t, "rpc", "*.xml")
	if len(files) == 0 {
		t.Fatal("no samples in devices/junos/testdata/rpc")
	}
	accepted := 0
	for _, f := range files {
		raw := junossamples.Read(t, "rpc", f)
		if !bytes.Contains(raw, []byte("<rpc-reply")) && !bytes.Contains(raw, []byte(":rpc-reply")) {
			raw = []byte(`<rpc-reply message-id="7">` + string(raw) + `</rpc-reply>`)
		}
		ok := checkFastAgrees(t, raw)
		if ok {
			accepted++
		}
		_, err := parseReply(raw)
		unusual := false
		for _, s := range []string{"error", "warning", "<output", ":output", "CDATA", "<!DOCTYPE"} {
			unusual = unusual || bytes.Contains(raw, []byte(s))
		}
		if !ok && err == nil && !unusual {
			t.Errorf("%s: fast path declined a plain reply", f)
		}
	}
	t.Logf("fast path took %d of %d samples", accepted, len(files))
}

// FuzzParseReplyFast: whatever the bytes, the fast path accepts only what
// parseReply returns the same way.
func FuzzParseReplyFast(f *testing.F) {
	f.Add([]byte(agreementSample))
	f.Add([]byte(sampleXnmError))
	f.Add([]byte(`<rpc-reply message-id="7"><a b="c">d &amp; &#x41;</a></rpc-reply>`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkFastAgrees(t, raw)
	})
}

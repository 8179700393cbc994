package netconf

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

// Replies below are copied from shared/junos-samples/rpc (pyez captures)
// or written in the wire format of *.nc-wire.xml.
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
			// must read exactly as the full parse. Its precondition is
			// XML that go-netconf found well-formed, so malformed cases
			// are not asked.
			if fast := parseReplyFast([]byte(tt.raw), innerLen(tt.raw)); fast != nil && !tt.protocol {
				if err != nil || len(tt.warnings) > 0 {
					t.Errorf("fast path accepted a reply with errors or warnings")
				} else if fast.MessageID != reply.MessageID || string(fast.Data) != string(reply.Data) || len(fast.Warnings) != 0 {
					t.Errorf("fast path = %+v, full parse = %+v", fast, reply)
				}
			}
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

func TestRPCMessageID(t *testing.T) {
	for in, want := range map[string]string{
		`<rpc message-id="u-1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get/></rpc>`: "u-1",
		`<?xml version="1.0"?><nc:rpc message-id="2"/>`:                                      "2",
		`<rpc><get/></rpc>`: "",
		`<hello/>`:          "",
		`garbage`:           "",
	} {
		if got := rpcMessageID([]byte(in)); got != want {
			t.Errorf("rpcMessageID(%q) = %q, want %q", in, got, want)
		}
	}
}

// innerLen is what go-netconf's parse gives parseReplyFast: the length
// of the root's inner XML, or -1 when the XML does not parse.
func innerLen(raw string) int {
	var v struct {
		Inner string `xml:",innerxml"`
	}
	if err := xml.Unmarshal([]byte(raw), &v); err != nil {
		return -1
	}
	return len(v.Inner)
}

func TestParseReplyFast(t *testing.T) {
	tests := []struct {
		raw, id, data string
		declined      bool
	}{
		{raw: `<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1"><a/></nc:rpc-reply>` + "\n", id: "1", data: "<a/>"},
		{raw: "<!-- c -->\n<rpc-reply message-id=\"2\">\n<b>x &lt;error&gt; y</b>\n</rpc-reply >\n", id: "2", data: "\n<b>x &lt;error&gt; y</b>\n"},
		{raw: `<rpc-reply message-id="3"><log>kernel:error: disk</log></rpc-reply>`, id: "3", data: "<log>kernel:error: disk</log>"},
		{raw: `<rpc-reply/>`, declined: true},
		{raw: `<rpc-reply><a/></rpc-reply>junk`, declined: true},
		{raw: `<rpc-reply><a/></rpc-reply><rpc-reply></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><a/></rpc-reply>` + "\n<b/>", declined: true},
		{raw: `text<rpc-reply></rpc-reply>`, declined: true},
		{raw: `<hello></hello>`, declined: true},
		{raw: `<rpc-reply><rpc-error/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><nc:rpc-error/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><xnm:error/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><xnm:warning/></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><output>Aborted!</output></rpc-reply>`, declined: true},
		{raw: `<rpc-reply><error>x</error></rpc-reply>`, declined: true},
	}
	for _, tt := range tests {
		got := parseReplyFast([]byte(tt.raw), innerLen(tt.raw))
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
		if got.MessageID != tt.id || string(got.Data) != tt.data {
			t.Errorf("parseReplyFast(%q) = id %q data %q", tt.raw, got.MessageID, got.Data)
		}
	}
	// A wrong inner length (not what go-netconf found) is declined.
	if got := parseReplyFast([]byte(`<rpc-reply><a/></rpc-reply>`), 99); got != nil {
		t.Errorf("accepted an inner length past the end")
	}
}

package netconf

import (
	"strings"
	"testing"
)

// benchReplies returns a ~5 KB route-engine reply and a 1 MB log reply.
func benchReplies() []struct{ name, raw string } {
	return []struct{ name, raw string }{
		{"5KB", `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/17.3R3/junos" message-id="7">` + "\n<route-engine-information>" +
			strings.Repeat("<route-engine><slot>0</slot><mastership-state>master</mastership-state><status>OK</status><up-time junos:seconds=\"4233600\">49 days</up-time></route-engine>", 30) +
			"</route-engine-information>\n</rpc-reply>\n"},
		{"1MB-log", `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/17.3R3/junos" message-id="7">` + "\n<file-content filename=\"messages\">" +
			strings.Repeat("Jan  1 00:00:00 re0 chassisd[1]: CHASSISD_FRU_OFFLINE_NOTICE: Taking FPC 3 offline: &lt;Error&gt;\n", 1<<20/96) +
			"</file-content>\n</rpc-reply>\n"},
	}
}

// BenchmarkParseReply compares the fast path with the full parse.
func BenchmarkParseReply(b *testing.B) {
	for _, r := range benchReplies() {
		raw := []byte(r.raw)
		b.Run("fast/"+r.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if parseReplyFast(raw, "7") == nil {
					b.Fatal("declined")
				}
			}
		})
		b.Run("full/"+r.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := parseReply(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

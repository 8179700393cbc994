package junos

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossamples"
)

// readSample returns a captured reply of junos-samples/rpc: the
// attributed ones are copied in testdata/rpc (see testdata/SOURCES.md);
// a test of an unattributed one skips when ../shared is absent.
func readSample(tb testing.TB, name string) []byte {
	tb.Helper()
	return junossamples.Read(tb, "rpc", name)
}

// sampleNames returns the names of the captured replies that can be
// read: all of ../shared/junos-samples/rpc when it is there, else the
// copies in testdata/rpc.
func sampleNames(tb testing.TB) []string {
	tb.Helper()
	return junossamples.Names(tb, "rpc", "*")
}

// addSampleSeeds adds every sample whose name starts with one of prefixes
// to the fuzz corpus.
func addSampleSeeds(f *testing.F, prefixes ...string) {
	for _, name := range sampleNames(f) {
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				f.Add(readSample(f, name))
			}
		}
	}
}

// decoderKinds names the decoders of this package; both alarm RPCs share
// one.
func decoderKinds() []string {
	return []string{"route-engine", "alarms", "software", "uptime", "replication"}
}

// rpcKind returns the decoder for a sample file, from its RPC name.
func rpcKind(file string) (string, bool) {
	switch {
	case strings.HasPrefix(file, "get-route-engine-information."):
		return "route-engine", true
	case strings.HasPrefix(file, "get-alarm-information."), strings.HasPrefix(file, "get-system-alarm-information."):
		return "alarms", true
	case strings.HasPrefix(file, "get-software-information."):
		return "software", true
	case strings.HasPrefix(file, "get-system-uptime-information."):
		return "uptime", true
	case strings.HasPrefix(file, "get-routing-task-replication-state."):
		return "replication", true
	}
	return "", false
}

// decodeAs runs the decoder called kind on reply, keeping only the error.
func decodeAs(kind string, reply []byte) error {
	var err error
	switch kind {
	case "route-engine":
		_, err = DecodeRouteEngines(reply)
	case "alarms":
		_, err = DecodeAlarms(reply, devices.AlarmChassis)
	case "software":
		_, err = DecodeSoftware(reply)
	case "uptime":
		_, err = DecodeSystemUptime(reply)
	case "replication":
		_, err = DecodeReplicationState(reply)
	default:
		panic("unknown decoder " + kind)
	}
	return err
}

// TestEverySampleIsTested fails when a capture of one of the decoded RPCs
// has no table case, so that a new sample cannot go silently untested.
func TestEverySampleIsTested(t *testing.T) {
	covered := make(map[string]bool)
	for _, c := range routeEngineSamples() {
		covered[c.file] = true
	}
	for _, c := range alarmSamples() {
		covered[c.file] = true
	}
	for _, c := range softwareSamples() {
		covered[c.file] = true
	}
	for _, c := range uptimeSamples() {
		covered[c.file] = true
	}
	for _, c := range replicationSamples() {
		covered[c.file] = true
	}
	for _, c := range noDataSamples() {
		covered[c.file] = true
	}
	present := make(map[string]bool)
	for _, name := range sampleNames(t) {
		present[name] = true
		if _, ok := rpcKind(name); ok && !covered[name] {
			t.Errorf("sample %s has no test case: add it to the table of its decoder's _test.go", name)
		}
	}
	for name := range covered {
		if !present[name] && !junossamples.Absent(t, "rpc", name) {
			t.Errorf("test case for %s, but no such sample in testdata/rpc or ../shared/junos-samples/rpc", name)
		}
	}
	junossamples.CheckCopies(t, "rpc", "*.xml")
}

type noDataSample struct {
	file   string
	output string // NoDataError.Output every decoder must report
}

// noDataSamples are captures of a device answering without data.
func noDataSamples() []noDataSample {
	return []noDataSample{
		{"get-route-engine-information.error-olive-xnm-error.pyez.xml", "Unrecognized command (chassis-control)"},
		{"get-chassis-inventory.error-element.pyez.xml", "Some error message."},
		{"get-chassis-inventory.error-not-master-output.pyez.xml", "Aborted! This command can only be used on the master routing engine."},
	}
}

// TestNoDataSamples checks that every decoder turns an error-shaped
// reply into a *NoDataError carrying what the device said, never into an
// empty success.
func TestNoDataSamples(t *testing.T) {
	for _, c := range noDataSamples() {
		reply := readSample(t, c.file)
		for _, kind := range decoderKinds() {
			t.Run(c.file+"/"+kind, func(t *testing.T) {
				err := decodeAs(kind, reply)
				var nd *NoDataError
				if !errors.As(err, &nd) {
					t.Fatalf("err = %v, want *NoDataError", err)
				}
				if nd.Output != c.output {
					t.Errorf("Output = %q, want %q", nd.Output, c.output)
				}
				if !strings.Contains(err.Error(), c.output) {
					t.Errorf("message %q does not say %q", err, c.output)
				}
			})
		}
	}
}

// TestSamplesOfOtherRPCs feeds each sample to the decoders of the other
// RPCs: they must say "no data", not invent some from a foreign reply.
func TestSamplesOfOtherRPCs(t *testing.T) {
	for _, name := range sampleNames(t) {
		own, ok := rpcKind(name)
		if !ok {
			continue
		}
		reply := readSample(t, name)
		for _, kind := range decoderKinds() {
			if kind == own {
				continue
			}
			var nd *NoDataError
			if err := decodeAs(kind, reply); !errors.As(err, &nd) {
				t.Errorf("%s decoded as %s: err = %v, want *NoDataError", name, kind, err)
			}
		}
	}
}

// TestEnvelopes decodes the same RE in every envelope seen in the wild.
func TestEnvelopes(t *testing.T) {
	const re = `<route-engine><slot>1</slot><mastership-state>master</mastership-state>` +
		`<up-time junos:seconds="60">1 minute</up-time></route-engine>`
	const payload = `<route-engine-information xmlns="http://xml.juniper.net/junos/18.2R3/junos-chassis">` + re + `</route-engine-information>`
	tests := []struct {
		name, reply string
	}{
		{"nc-prefixed wire envelope", `<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" ` +
			`xmlns:junos="http://xml.juniper.net/junos/18.2R3/junos" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1">` +
			"\n" + payload + "\n</nc:rpc-reply>"},
		{"unprefixed envelope", `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" ` +
			`xmlns:junos="http://xml.juniper.net/junos/18.2R3/junos">` + payload + `</rpc-reply>`},
		{"CLI capture with banner", `<rpc-reply xmlns:junos="http://xml.juniper.net/junos/18.2R3/junos">` + payload +
			`<cli><banner>{master}</banner></cli></rpc-reply>`},
		{"XML declaration and comments", `<?xml version="1.0"?>` + "\n<!-- user x -->\n" +
			`<rpc-reply xmlns:junos="j">` + payload + `</rpc-reply>`},
		{"bare payload, junos: prefix undeclared", payload},
		{"bare payload, prefix stripped", strings.ReplaceAll(payload, "junos:seconds", "seconds")},
		{"payload inside an unknown wrapper", `<rpc-reply xmlns:junos="j"><data>` + payload + `</data></rpc-reply>`},
		{"payload without namespace", strings.Replace(payload, ` xmlns="http://xml.juniper.net/junos/18.2R3/junos-chassis"`, "", 1)},
		{"payload with a foreign prefix", `<x:route-engine-information xmlns:x="urn:other">` +
			`<x:route-engine><x:slot>1</x:slot><x:mastership-state>master</x:mastership-state>` +
			`<x:up-time x:seconds="60" xmlns:x="urn:other">1 minute</x:up-time></x:route-engine></x:route-engine-information>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := DecodeRouteEngines([]byte(tt.reply))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 {
				t.Fatalf("got %d REs, want 1", len(res))
			}
			got := res[0]
			if got.Name != "re1" || got.MastershipState != "master" || got.UpTime == nil || *got.UpTime != time.Minute {
				t.Errorf("got %s, want re1 master up 1m", fmtRow(rowOf(got)))
			}
		})
	}
}

// TestReplyErrors covers replies that are not data: broken XML is an
// error naming the element, a well-formed answer without data is a
// *NoDataError saying what the device said.
func TestReplyErrors(t *testing.T) {
	const item = `<multi-routing-engine-item><re-name>%s</re-name>%s</multi-routing-engine-item>`
	tests := []struct {
		name, reply string
		noData      bool   // want *NoDataError
		want        string // substring of the message
	}{
		{"empty", "", false, "decode route-engine-information: reply holds no XML element"},
		{"whitespace", " \n\t", false, "no XML element"},
		{"plain text", "Aborted! not XML", false, "no XML element"},
		{"framing marker", "]]>]]>", false, "decode route-engine-information"},
		{"truncated", `<rpc-reply><route-engine-information><route-engine><slot>0</slot>`, false, "XML syntax error"},
		{"truncated inside a tag", `<rpc-reply><route-engine-information><route-eng`, false, "XML syntax error"},
		{"truncated in re-name", `<multi-routing-engine-results><multi-routing-engine-item><re-name>node`, false, "XML syntax error"},
		{"truncated in output", `<rpc-reply><output>Abor`, false, "XML syntax error"},
		{"mismatched tags", `<rpc-reply><route-engine-information></rpc-reply>`, false, "XML syntax error"},
		{"undefined entity", `<route-engine-information><route-engine><slot>&nbsp;</slot></route-engine></route-engine-information>`, false, "XML syntax error"},
		{"other element only", `<rpc-reply><ok/></rpc-reply>`, true, "decode route-engine-information: reply holds no route-engine-information"},
		{"output only", `<rpc-reply><output>
			Aborted! This command can only be used on the master routing engine.</output></rpc-reply>`,
			true, "reply holds no route-engine-information: Aborted! This command"},
		{"rpc-error", `<rpc-reply><rpc-error><error-severity>error</error-severity>` +
			`<error-message>syntax error</error-message></rpc-error></rpc-reply>`, true, ": syntax error"},
		{"blank output", `<rpc-reply><output>
			</output></rpc-reply>`, true, "reply holds no route-engine-information"},
		{"plain error", `<rpc-reply><error>bad</error></rpc-reply>`, true, ": bad"},
		{"empty payload", `<rpc-reply><route-engine-information/></rpc-reply>`, true, "holds no route-engine-information"},
		{"error nested in payload", `<route-engine-information><xnm:error xmlns:xnm="x"><message>
			chassisd not responding</message></xnm:error></route-engine-information>`, true, ": chassisd not responding"},
		{"every member failed", `<rpc-reply><multi-routing-engine-results>` +
			fmt.Sprintf(item, "member0", `<xnm:error><message>member 0 not reachable</message></xnm:error>`) +
			fmt.Sprintf(item, "member1", `<output>Aborted!</output>`) +
			`</multi-routing-engine-results></rpc-reply>`,
			true, ": member0: member 0 not reachable; member1: Aborted!"},
		{"bad value", `<route-engine-information><route-engine><slot>one</slot></route-engine></route-engine-information>`,
			false, `decode route-engine-information: route-engine: slot "one": not a non-negative integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := DecodeRouteEngines([]byte(tt.reply))
			if err == nil {
				t.Fatalf("no error, got %v", res)
			}
			if res != nil {
				t.Errorf("result %v alongside error", res)
			}
			var nd *NoDataError
			if errors.As(err, &nd) != tt.noData {
				t.Errorf("err = %#v, want *NoDataError: %v", err, tt.noData)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestPartialMultiRE: a member that could not answer is left out; the
// others' data is kept and comes with a *MemberError naming the silent
// members, so their REs read as unknown rather than gone.
func TestPartialMultiRE(t *testing.T) {
	reply := `<rpc-reply><multi-routing-engine-results>
		<multi-routing-engine-item><re-name>member0</re-name>
			<route-engine-information><route-engine><slot>0</slot><mastership-state>master</mastership-state></route-engine></route-engine-information>
		</multi-routing-engine-item>
		<multi-routing-engine-item><re-name>member1</re-name>
			<xnm:error><message>member not reachable</message></xnm:error>
		</multi-routing-engine-item>
		<multi-routing-engine-item><re-name>member2</re-name>
			<route-engine-information><xnm:error><message>chassisd timeout</message></xnm:error></route-engine-information>
		</multi-routing-engine-item>
	</multi-routing-engine-results></rpc-reply>`
	res, err := DecodeRouteEngines([]byte(reply))
	var me *MemberError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want a *MemberError", err)
	}
	if fmt.Sprint(me.Members) != "[member1 member2]" || !strings.Contains(me.Output, "member1: member not reachable") ||
		!strings.Contains(me.Output, "member2: chassisd timeout") {
		t.Errorf("MemberError = %+v", me)
	}
	if len(res) != 1 || res[0].Name != "member0-re0" || res[0].Member != "member0" {
		t.Errorf("got %v, want only member0-re0", res)
	}
}

// TestReNameAfterPayload: nothing in XML orders re-name first, so an item
// that sends it last still names its REs.
func TestReNameAfterPayload(t *testing.T) {
	reply := `<multi-routing-engine-results><multi-routing-engine-item>
		<route-engine-information><route-engine><slot>1</slot></route-engine></route-engine-information>
		<re-name>node1</re-name>
	</multi-routing-engine-item></multi-routing-engine-results>`
	res, err := DecodeRouteEngines([]byte(reply))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Name != "node1-re1" || res[0].Member != "node1" {
		t.Errorf("got %+v, want node1-re1", res)
	}
}

func TestNoDataErrorMessage(t *testing.T) {
	long := strings.Repeat("é", 300) // two bytes each: the cut must not split one
	tests := []struct {
		err  NoDataError
		want string
	}{
		{NoDataError{Element: "alarm-information"}, "decode alarm-information: reply holds no alarm-information"},
		{NoDataError{Element: "alarm-information", Output: "Aborted!"}, "decode alarm-information: reply holds no alarm-information: Aborted!"},
		{NoDataError{Element: "x", Output: long}, "decode x: reply holds no x: " + strings.Repeat("é", maxOutputInError/2) + "…"},
		{NoDataError{Element: "x", Output: "a" + long}, "decode x: reply holds no x: a" + strings.Repeat("é", maxOutputInError/2-1) + "…"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant %q", got, tt.want)
		}
	}
}

func TestParseCount(t *testing.T) {
	tests := []struct {
		in      string
		limit   int64
		want    int64
		wantErr string
	}{
		{"0", 10, 0, ""},
		{"10", 10, 10, ""},
		{"+7", 10, 7, ""},
		{"11", 10, 0, "out of range"},
		{"99999999999999999999", 10, 0, "out of range"},
		{"-1", 10, 0, "not a non-negative integer"},
		{"1.5", 10, 0, "not a non-negative integer"},
		{"0x10", 100, 0, "not a non-negative integer"},
		{"", 10, 0, "not a non-negative integer"},
	}
	for _, tt := range tests {
		got, err := parseCount(tt.in, tt.limit)
		if errString(err) != tt.wantErr || got != tt.want {
			t.Errorf("parseCount(%q, %d) = %d, %v; want %d, %q", tt.in, tt.limit, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestJunosValue(t *testing.T) {
	ts, err := junosValue{Seconds: " 1700000000 "}.timestamp()
	if err != nil || !ts.Equal(time.Unix(1700000000, 0)) || ts.Location() != time.UTC {
		t.Errorf("timestamp = %v, %v; want 2023-11-14T22:13:20Z", ts, err)
	}
	if ts, err := (junosValue{Text: "2023-11-14 22:13:20 UTC"}).timestamp(); ts != nil || err != nil {
		t.Errorf("timestamp from text only = %v, %v; want nil, nil (the text is never parsed)", ts, err)
	}
	if _, err := (junosValue{Seconds: "253402300800"}).timestamp(); err == nil {
		t.Error("timestamp after year 9999: no error")
	}
	if _, ok, err := (junosValue{Seconds: "9223372037"}).duration(); ok || err == nil {
		t.Error("duration overflowing time.Duration: no error")
	}
	c, err := junosValue{Celsius: "-5"}.celsius()
	if err != nil || c == nil || *c != -5 {
		t.Errorf("celsius(-5) = %v, %v", c, err)
	}
	if _, err := (junosValue{Celsius: "32 degrees"}).celsius(); err == nil {
		t.Error("celsius with unit: no error")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkTrimmed reports every field of a decoded value that still carries
// surrounding whitespace.
func checkTrimmed(t *testing.T, what string, fields ...string) {
	t.Helper()
	for _, s := range fields {
		if s != strings.TrimSpace(s) {
			t.Errorf("%s: untrimmed value %q", what, s)
		}
	}
}

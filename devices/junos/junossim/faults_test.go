package junossim

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/devices/junos/junossamples"
	"github.com/mastership/mastership/netconf/netconftest"
)

const allFaultsYAML = `seed: 3
devices:
  - name: a
    faults:
      stall_after_handshake: true
      reset_mid_reply: true
      drip: 1s
      split_delimiter: true
      malformed_xml: true
      invalid_utf8: true
      wrong_message_id: true
      huge_reply: 200MB
      loss: 0.25
      latency: 20ms
      rtt: 50ms
      rpc_error_on: get-alarm-information
  - {name: b, faults: {huge_reply: true}}
  - {name: c, faults: {huge_reply: 64MiB}}
  - {name: d, faults: {huge_reply: 4096}}
  - {name: e, topology: mx-vc, faults: {backup_aborted: true}}
  - {name: f, topology: srx-cluster, faults: {backup_aborted: xnm-error}}
  - {name: g, faults: {huge_reply: 1.5 GB}}
`

func TestFaultsYAML(t *testing.T) {
	sc, err := ParseScenario([]byte(allFaultsYAML), "faults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Faults{
		{StallAfterHandshake: true, ResetMidReply: true, Drip: time.Second, SplitDelimiter: true, MalformedXML: true,
			InvalidUTF8: true, WrongMessageID: true, HugeReply: 200_000_000, Loss: 0.25, Latency: 20 * time.Millisecond,
			RTT: 50 * time.Millisecond, RPCErrorOn: "get-alarm-information"},
		{HugeReply: DefaultHugeReply},
		{HugeReply: 64 << 20},
		{HugeReply: 4096},
		{BackupAborted: AbortOutput},
		{BackupAborted: AbortXNMError},
		{HugeReply: 1_500_000_000},
	}
	for i, d := range sc.Devices {
		if d.Faults == nil || *d.Faults != want[i] {
			t.Errorf("%s: faults %+v, want %+v", d.Name, d.Faults, want[i])
		}
	}
	// Saved with yaml.v3 and read back, it is the same scenario.
	out, err := yaml.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseScenario(out, "saved.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, sc) {
		t.Errorf("faults do not round-trip through YAML:\n%s", out)
	}
}

func TestInvalidFaultsReportTheirLine(t *testing.T) {
	src := `devices:
  - name: r1
    faults: {loss: 1.5}
  - name: r2
    faults: {drip: -1s}
  - name: r3
    faults: {backup_aborted: true}
  - name: r4
    topology: mx-vc
    faults: {backup_aborted: maybe}
  - name: r5
    faults: {rpc_error_on: "Get Alarms"}
  - name: r6
    faults: {rtt: -50ms}
`
	_, err := ParseScenario([]byte(src), "f.yaml")
	if err == nil {
		t.Fatal("invalid faults accepted")
	}
	for _, want := range []string{
		`f.yaml:3: devices[0].faults.loss: loss 1.5`,
		`f.yaml:5: devices[1].faults.drip: negative drip`,
		`f.yaml:7: devices[2].faults.backup_aborted: backup_aborted needs a multi-member router`,
		`f.yaml:10: devices[3].faults.backup_aborted: backup_aborted "maybe"`,
		`f.yaml:12: devices[4].faults.rpc_error_on`,
		`f.yaml:14: devices[5].faults.rtt: negative round-trip time`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ParseScenario([]byte("devices: [{name: r, faults: {huge_reply: lots}}]\n"), "h.yaml"); err == nil ||
		!strings.Contains(err.Error(), `size "lots"`) {
		t.Errorf("huge_reply: lots: %v", err)
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{
		"200MB": 200e6, "200 MB": 200e6, "64MiB": 64 << 20, "1kb": 1000, "2KiB": 2048, "1.5GB": 1.5e9, "4096": 4096, "7B": 7,
	} {
		if got, err := ParseByteSize(in); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "12XB", "-1MB", "1e9", "99999999999GB"} {
		if got, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", in, got)
		}
	}
}

// rpcError is the part of an <rpc-error> the tests look at.
type rpcError struct {
	Tag      string `xml:"rpc-error>error-tag"`
	Severity string `xml:"rpc-error>error-severity"`
	Message  string `xml:"rpc-error>error-message"`
	Bad      string `xml:"rpc-error>error-info>bad-element"`
}

func TestRPCErrorOn(t *testing.T) {
	r := mustRouter(t, Device{Name: "r1", Faults: &Faults{RPCErrorOn: "get-alarm-information"}}, newFakeClock())
	var e rpcError
	if err := xml.Unmarshal(serve(r, "get-alarm-information", "1"), &e); err != nil {
		t.Fatal(err)
	}
	if e.Tag != "operation-failed" || e.Severity != "error" || e.Bad != "get-alarm-information" || !strings.Contains(e.Message, "rpc_error_on") {
		t.Errorf("rpc-error = %+v", e)
	}
	if rep := serve(r, "get-system-alarm-information", "2"); strings.Contains(string(rep), "rpc-error") {
		t.Errorf("another RPC failed too:\n%s", rep)
	}
	r.setFaults(Faults{})
	if rep := serve(r, "get-alarm-information", "3"); strings.Contains(string(rep), "rpc-error") {
		t.Errorf("rpc_error_on still on after clearing it:\n%s", rep)
	}
}

func TestBackupAborted(t *testing.T) {
	// The text is the real capture's.
	sample := junossamples.Read(t, "rpc", "get-chassis-inventory.error-not-master-output.pyez.xml")
	var out struct {
		Output string `xml:"output"`
	}
	if err := xml.Unmarshal(sample, &out); err != nil || strings.TrimSpace(out.Output) != abortedOutput {
		t.Errorf("sample says %q (%v); the simulator says %q", strings.TrimSpace(out.Output), err, abortedOutput)
	}

	for _, tc := range []struct {
		topo    Topology
		shape   AbortShape
		want    string // in the second member's item
		kept    []string
		element string
	}{
		{TopologyMXVC, AbortOutput, "<output>" + abortedOutput + "</output>", []string{"member0-re0", "member0-re1"}, "member1"},
		{TopologySRXCluster, AbortXNMError, `<xnm:error xmlns="http://xml.juniper.net/xnm/1.1/xnm" xmlns:xnm="http://xml.juniper.net/xnm/1.1/xnm">`, []string{"node0"}, "node1"},
	} {
		t.Run(string(tc.shape), func(t *testing.T) {
			r := mustRouter(t, Device{Name: "r1", Topology: tc.topo, Faults: &Faults{BackupAborted: tc.shape}}, newFakeClock())
			for _, op := range ops {
				rep := string(serve(r, op, "7"))
				if err := wellFormed(rep); err != nil {
					t.Fatalf("%s: %v\n%s", op, err, rep)
				}
				_, item, ok := strings.Cut(rep, "<re-name>"+tc.element+"</re-name>\n")
				if !ok || !strings.HasPrefix(item, tc.want) {
					t.Errorf("%s: the %s item is not %q:\n%s", op, tc.element, tc.want, rep)
				}
			}
			res, err := junos.DecodeRouteEngines(serve(r, "get-route-engine-information", "8"))
			var me *junos.MemberError
			if !errors.As(err, &me) || len(me.Members) != 1 {
				t.Fatalf("decode: %v; want the one silent member reported beside the data", err)
			}
			var names []string
			for _, re := range res {
				names = append(names, re.Name)
			}
			if !reflect.DeepEqual(names, tc.kept) {
				t.Errorf("decoded REs %v, want %v", names, tc.kept)
			}
		})
	}
}

func wellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestSetFaultsReachesRouterAndServer(t *testing.T) {
	sc := Scenario{Seed: 5, Devices: []Device{{Name: "mx-1"}, {Name: "vc-1", Topology: TopologyMXVC}}}
	f, err := Start(context.Background(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.SetFaults("vc-1", Faults{BackupAborted: AbortXNMError, RPCErrorOn: "get-software-information", Drip: time.Second}); err != nil {
		t.Fatal(err)
	}
	fd := f.byName["vc-1"]
	if rep := serve(fd.router, "get-software-information", "1"); !strings.Contains(string(rep), "<rpc-error>") {
		t.Errorf("rpc_error_on not applied:\n%s", rep)
	}
	if info, _ := f.Device("vc-1"); info.Faults.Drip != time.Second || info.Faults.BackupAborted != AbortXNMError {
		t.Errorf("device info faults = %+v", info.Faults)
	}
	for _, bad := range []Faults{{Loss: -0.1}, {BackupAborted: "yes"}, {HugeReply: -1}} {
		if err := f.SetFaults("vc-1", bad); err == nil {
			t.Errorf("SetFaults(%+v) accepted", bad)
		}
	}
	if err := f.SetFaults("mx-1", Faults{BackupAborted: AbortOutput}); err == nil {
		t.Error("backup_aborted accepted on a dual-RE router")
	}
	// Loss seeds differ per device and follow the scenario seed.
	if lossSeed("mx-1", 5) == lossSeed("vc-1", 5) || lossSeed("mx-1", 5) == lossSeed("mx-1", 6) || lossSeed("mx-1", 5) != f.byName["mx-1"].lossSeed {
		t.Error("loss seeds are not per device and seed")
	}
	if got := serverFault(Faults{Loss: 0.5, HugeReply: 10}, 99); got != (netconftest.Fault{Loss: 0.5, LossSeed: 99, HugeReply: 10}) {
		t.Errorf("serverFault = %+v", got)
	}
}

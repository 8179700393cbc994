package junos

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices"
)

type replicationSample struct {
	file string
	want []devices.ReplicationState
}

// replicationSamples lists every <get-routing-task-replication-state/>
// capture with what it must decode to, read off the files by hand.
func replicationSamples() []replicationSample {
	return []replicationSample{
		// GRES on, NSR off: no protocol rows.
		{"get-routing-task-replication-state.gres-enabled.pyez.xml", []devices.ReplicationState{
			{StatefulReplication: "Enabled", REMode: "Master"},
		}},
	}
}

func TestDecodeReplicationStateSamples(t *testing.T) {
	for _, c := range replicationSamples() {
		t.Run(c.file, func(t *testing.T) {
			got, err := DecodeReplicationState(readSample(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			if !got[0].Enabled() {
				t.Errorf("Enabled() false for %q", got[0].StatefulReplication)
			}
		})
	}
}

// TestDecodeReplicationStateProtocols covers the protocol rows, whose XML
// shape no real reply in the samples shows (see taskReplicationState):
// both shapes public parsers assume must decode alike.
func TestDecodeReplicationStateProtocols(t *testing.T) {
	wrap := func(body string) string {
		return `<rpc-reply xmlns:junos="http://xml.juniper.net/junos/17.3R3/junos"><task-replication-state>` +
			`<task-gres-state>Enabled</task-gres-state><task-re-mode>Master</task-re-mode>` + body +
			`</task-replication-state></rpc-reply>`
	}
	row := func(n, s string) string {
		return `<task-protocol-replication><task-protocol-replication-name>` + n +
			`</task-protocol-replication-name><task-protocol-replication-state>` + s +
			`</task-protocol-replication-state></task-protocol-replication>`
	}
	flat := func(n, s string) string {
		return `<task-protocol-replication-name>` + n + `</task-protocol-replication-name>` +
			`<task-protocol-replication-state>` + s + `</task-protocol-replication-state>`
	}
	two := []devices.ProtocolReplication{{Protocol: "OSPF", Status: "Complete"}, {Protocol: "BGP", Status: "InProgress"}}
	cases := []struct {
		name  string
		reply string
		want  []devices.ProtocolReplication
	}{
		{"wrapped", wrap(row("OSPF", "Complete") + row(" BGP ", "\n InProgress \n")), two},
		{"flat", wrap(flat("OSPF", "Complete") + flat("BGP", "InProgress")), two},
		{"wrapper without state", wrap(`<task-protocol-replication><task-protocol-replication-name>LDP</task-protocol-replication-name></task-protocol-replication>` + row("BGP", "Complete")),
			[]devices.ProtocolReplication{{Protocol: "LDP"}, {Protocol: "BGP", Status: "Complete"}}},
		{"flat name without state", wrap(`<task-protocol-replication-name>LDP</task-protocol-replication-name>` + flat("BGP", "Complete")),
			[]devices.ProtocolReplication{{Protocol: "LDP"}, {Protocol: "BGP", Status: "Complete"}}},
		{"unknown children skipped", wrap(`<task-something-new>x</task-something-new>` + row("OSPF", "Complete")),
			[]devices.ProtocolReplication{{Protocol: "OSPF", Status: "Complete"}}},
		{"no rows", wrap(""), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeReplicationState([]byte(c.reply))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].StatefulReplication != "Enabled" || got[0].REMode != "Master" {
				t.Fatalf("got %+v", got)
			}
			if !reflect.DeepEqual(got[0].Protocols, c.want) {
				t.Errorf("protocols:\n got %+v\nwant %+v", got[0].Protocols, c.want)
			}
		})
	}
	if (devices.ProtocolReplication{Protocol: "LDP"}).Complete() {
		t.Error("a row without status counts as complete")
	}
}

func TestDecodeReplicationStateErrors(t *testing.T) {
	for _, c := range []struct {
		name, reply string
		noData      bool
	}{
		{"empty reply", `<rpc-reply/>`, true},
		{"backup aborted", `<rpc-reply><output>Aborted! This command can only be used on the master routing engine.</output></rpc-reply>`, true},
		{"empty element", `<rpc-reply><task-replication-state/></rpc-reply>`, true},
		{"xnm error", `<rpc-reply><xnm:error xmlns:xnm="http://xml.juniper.net/xnm/1.1/xnm"><message>syntax error</message></xnm:error></rpc-reply>`, true},
		{"malformed", `<rpc-reply><task-replication-state><task-gres-state>`, false},
		{"not xml", `hello`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeReplicationState([]byte(c.reply))
			if err == nil {
				t.Fatalf("no error, got %+v", got)
			}
			var nd *NoDataError
			if errors.As(err, &nd) != c.noData {
				t.Errorf("NoDataError = %v, want %v: %v", !c.noData, c.noData, err)
			}
			if !strings.Contains(err.Error(), "task-replication-state") {
				t.Errorf("error %q does not name the element", err)
			}
		})
	}
}

func TestDecodeReplicationStateMultiRE(t *testing.T) {
	reply := `<rpc-reply><multi-routing-engine-results>` +
		`<multi-routing-engine-item><re-name>member0</re-name><task-replication-state><task-gres-state>Enabled</task-gres-state><task-re-mode>Master</task-re-mode></task-replication-state></multi-routing-engine-item>` +
		`<multi-routing-engine-item><re-name>member1</re-name><output>Aborted!</output></multi-routing-engine-item>` +
		`</multi-routing-engine-results></rpc-reply>`
	got, err := DecodeReplicationState([]byte(reply))
	var me *MemberError
	if !errors.As(err, &me) || len(me.Members) != 1 || me.Members[0] != "member1" {
		t.Fatalf("err = %v, want a MemberError for member1", err)
	}
	if len(got) != 1 || got[0].Member != "member0" || !got[0].Enabled() {
		t.Errorf("got %+v", got)
	}
}

func FuzzDecodeReplicationState(f *testing.F) {
	addSampleSeeds(f, "get-routing-task-replication-state.", "get-chassis-inventory.error")
	for _, s := range []string{
		"", "<",
		`<task-replication-state><task-gres-state>Enabled</task-gres-state><task-protocol-replication-state>x</task-protocol-replication-state></task-replication-state>`,
		`<task-replication-state><task-re-mode>Backup</task-re-mode><task-protocol-replication><task-protocol-replication-name>BGP</task-protocol-replication-name></task-protocol-replication></task-replication-state>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		res, err := DecodeReplicationState(reply)
		var me *MemberError
		if err != nil && !errors.As(err, &me) {
			if res != nil {
				t.Fatalf("result %+v with error %v", res, err)
			}
			return
		}
		if len(res) == 0 {
			t.Fatal("no error and no state")
		}
		for _, s := range res {
			if s.StatefulReplication == "" && s.REMode == "" {
				t.Fatalf("state with neither field: %+v", s)
			}
			for _, p := range s.Protocols {
				if p.Protocol == "" && p.Status == "" {
					t.Fatalf("empty protocol row in %+v", s)
				}
			}
		}
	})
}

package junos

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// ncReply wraps a payload in the envelope real Junos NETCONF replies have
// (see rpc/*.nc-wire.xml).
func ncReply(payload string) string {
	return `<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/17.3R3/junos" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1">` +
		"\n" + payload + "\n</nc:rpc-reply>\n"
}

const fullRedundancyConfig = `<configuration junos:commit-seconds="1700000000" junos:commit-localtime="2023-11-14 22:13:20 UTC" junos:commit-user="luke">
    <chassis>
        <redundancy>
            <routing-engine>
                <name>0</name>
                <master/>
            </routing-engine>
            <routing-engine>
                <name>1</name>
                <backup/>
            </routing-engine>
            <failover>
                <on-loss-of-keepalives/>
                <on-disk-failure/>
            </failover>
            <keepalive-time> 300 </keepalive-time>
            <graceful-switchover/>
        </redundancy>
    </chassis>
    <system>
        <commit>
            <synchronize/>
        </commit>
    </system>
    <routing-options>
        <nonstop-routing/>
    </routing-options>
</configuration>`

func redundancyCases() []struct {
	name, reply string
	want        devices.RedundancyConfig
} {
	all := devices.RedundancyConfig{
		GracefulSwitchover: true, KeepaliveTime: 300 * time.Second,
		FailoverOnLossOfKeepalives: true, FailoverOnDiskFailure: true,
		CommitSynchronize: true, NonstopRouting: true, Known: true,
	}
	none := devices.RedundancyConfig{Known: true}
	return []struct {
		name, reply string
		want        devices.RedundancyConfig
	}{
		{"everything configured", ncReply(fullRedundancyConfig), all},
		{"no envelope", fullRedundancyConfig, all},
		{"NETCONF get-config data wrapper", "<rpc-reply><data>" + fullRedundancyConfig + "</data></rpc-reply>", all},
		{"payload namespace", ncReply(`<configuration xmlns="http://xml.juniper.net/xnm/1.1/xnm" junos:changed-seconds="1700000000">` +
			`<chassis><redundancy><graceful-switchover/></redundancy></chassis></configuration>`),
			devices.RedundancyConfig{GracefulSwitchover: true, Known: true}},
		// A filter that matches nothing: an empty configuration, stamped.
		{"empty configuration", ncReply(`<configuration junos:changed-seconds="1700000000" junos:changed-localtime="2023-11-14 22:13:20 UTC"/>`), none},
		{"configuration with only whitespace", ncReply("<configuration>\n    \n</configuration>"), none},
		{"redundancy without the knobs", ncReply(`<configuration><chassis><redundancy><routing-engine><name>0</name><master/></routing-engine></redundancy></chassis></configuration>`), none},
		{"keepalive-time only", ncReply(`<configuration><chassis><redundancy><keepalive-time>25</keepalive-time></redundancy></chassis></configuration>`),
			devices.RedundancyConfig{KeepaliveTime: 25 * time.Second, Known: true}},
		{"disk failover only", ncReply(`<configuration><chassis><redundancy><failover><on-disk-failure/></failover></redundancy></chassis></configuration>`),
			devices.RedundancyConfig{FailoverOnDiskFailure: true, Known: true}},
		{"system and routing-options only", ncReply(`<configuration><system><commit><synchronize/></commit></system><routing-options><nonstop-routing/></routing-options></configuration>`),
			devices.RedundancyConfig{CommitSynchronize: true, NonstopRouting: true, Known: true}},
		// Deactivated statements are in the configuration but not in effect.
		{"inactive statement", ncReply(`<configuration><chassis><redundancy><graceful-switchover inactive="inactive"/><keepalive-time>300</keepalive-time></redundancy></chassis></configuration>`),
			devices.RedundancyConfig{KeepaliveTime: 300 * time.Second, Known: true}},
		{"inactive parent", ncReply(`<configuration><chassis><redundancy inactive="inactive"><graceful-switchover/><keepalive-time>300</keepalive-time></redundancy></chassis>` +
			`<system inactive="inactive"><commit><synchronize/></commit></system><routing-options><nonstop-routing/></routing-options></configuration>`),
			devices.RedundancyConfig{NonstopRouting: true, Known: true}},
		{"inactive failover", ncReply(`<configuration><chassis><redundancy><failover inactive="inactive"><on-loss-of-keepalives/><on-disk-failure/></failover><graceful-switchover/></redundancy></chassis></configuration>`),
			devices.RedundancyConfig{GracefulSwitchover: true, Known: true}},
		{"an rpc-error of severity warning beside the data", ncReply(`<rpc-error><error-severity>warning</error-severity><error-message>statement has no contents; ignored</error-message></rpc-error>` + fullRedundancyConfig), all},
		{"first of two configurations", "<rpc-reply>" + fullRedundancyConfig + "<configuration/></rpc-reply>", all},
	}
}

func TestDecodeRedundancyConfig(t *testing.T) {
	for _, c := range redundancyCases() {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeRedundancyConfig([]byte(c.reply))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestDecodeRedundancyConfigNoData(t *testing.T) {
	for _, c := range []struct{ name, reply, output string }{
		// A reply with no rpc-error and no data is not "nothing
		// configured": the device told us nothing.
		{"empty reply", ncReply(""), ""},
		{"self-closing reply", `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="3"/>`, ""},
		{"ok only", ncReply("<ok/>"), ""},
		{"rpc-error", ncReply(`<rpc-error><error-type>protocol</error-type><error-severity>error</error-severity><error-message>permission denied</error-message></rpc-error>`), "permission denied"},
		{"xnm:error inside configuration", ncReply(`<configuration><xnm:error xmlns:xnm="http://xml.juniper.net/xnm/1.1/xnm"><message>configuration database locked</message></xnm:error></configuration>`), "configuration database locked"},
		{"output notice", ncReply(`<output>Aborted! This command can only be used on the master routing engine.</output>`), "Aborted! This command can only be used on the master routing engine."},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeRedundancyConfig([]byte(c.reply))
			var nd *NoDataError
			if !errors.As(err, &nd) {
				t.Fatalf("error %v, want a *NoDataError", err)
			}
			if nd.Element != "configuration" || nd.Output != c.output {
				t.Errorf("NoDataError %+v, want output %q", nd, c.output)
			}
			if got != (devices.RedundancyConfig{}) {
				t.Errorf("config %+v with the error; want the zero value (Known false)", got)
			}
		})
	}
}

func TestDecodeRedundancyConfigErrors(t *testing.T) {
	keepalive := func(v string) string {
		return ncReply(`<configuration><chassis><redundancy><keepalive-time>` + v + `</keepalive-time></redundancy></chassis></configuration>`)
	}
	for _, c := range []struct{ name, reply, want string }{
		{"keepalive-time not a number", keepalive("5m"), `decode configuration: chassis redundancy keepalive-time "5m": not a non-negative integer`},
		{"keepalive-time zero", keepalive("0"), `decode configuration: chassis redundancy keepalive-time "0": out of range`},
		{"keepalive-time too large", keepalive("10001"), `decode configuration: chassis redundancy keepalive-time "10001": out of range`},
		{"keepalive-time empty", keepalive(""), `decode configuration: chassis redundancy keepalive-time "": not a non-negative integer`},
		{"malformed XML", "<rpc-reply><configuration><chassis></configuration>", "decode configuration: XML syntax error on line 1: element <chassis> closed by </configuration>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeRedundancyConfig([]byte(c.reply))
			if err == nil || err.Error() != c.want {
				t.Fatalf("error %v\nwant %s", err, c.want)
			}
			if got != (devices.RedundancyConfig{}) {
				t.Errorf("config %+v with the error", got)
			}
		})
	}
	// An inactive keepalive-time is not read, so its value cannot fail.
	if _, err := DecodeRedundancyConfig([]byte(ncReply(`<configuration><chassis><redundancy><keepalive-time inactive="inactive">x</keepalive-time></redundancy></chassis></configuration>`))); err != nil {
		t.Errorf("inactive keepalive-time: %v", err)
	}
}

func TestRPCRedundancyConfig(t *testing.T) {
	// The request asks for the committed configuration with groups
	// expanded, and for the three sections the decoder reads.
	for _, want := range []string{`database="committed"`, `inherit="inherit"`, "<chassis><redundancy/></chassis>", "<system><commit><synchronize/></commit></system>", "<routing-options><nonstop-routing/></routing-options>"} {
		if !strings.Contains(RPCRedundancyConfig, want) {
			t.Errorf("RPCRedundancyConfig lacks %s", want)
		}
	}
}

func FuzzDecodeRedundancyConfig(f *testing.F) {
	for _, c := range redundancyCases() {
		f.Add([]byte(c.reply))
	}
	f.Add([]byte(ncReply("")))
	f.Add([]byte(`<configuration><chassis><redundancy><keepalive-time>99999999999999999999</keepalive-time></redundancy></chassis></configuration>`))
	f.Fuzz(func(t *testing.T, reply []byte) {
		got, err := DecodeRedundancyConfig(reply)
		if err != nil {
			if got != (devices.RedundancyConfig{}) {
				t.Fatalf("config %+v with error %v", got, err)
			}
			return
		}
		if !got.Known {
			t.Fatal("decoded without error but not Known")
		}
		if got.KeepaliveTime < 0 || got.KeepaliveTime > maxKeepaliveTime*time.Second {
			t.Fatalf("keepalive-time %v", got.KeepaliveTime)
		}
	})
}

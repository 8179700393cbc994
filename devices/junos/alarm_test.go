package junos

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// alarmRow is an Alarm without its Source (checked separately), with Time
// as RFC 3339 UTC ("" for the zero time).
type alarmRow struct {
	Member, Time, Class, Type, Description, Short string
}

func alarmRowOf(a devices.Alarm) alarmRow {
	r := alarmRow{Member: a.Member, Class: a.Class, Type: a.Type, Description: a.Description, Short: a.ShortDescription}
	if !a.Time.IsZero() {
		r.Time = a.Time.Format(time.RFC3339)
	}
	return r
}

type alarmSample struct {
	file string
	src  devices.AlarmSource
	want []alarmRow
}

// alarmSamples lists every alarm capture with what it must decode to; the
// values were read off the files independently of the decoder.
func alarmSamples() []alarmSample {
	return []alarmSample{
		// Fragment with an undeclared junos: prefix; three alarms share one time.
		{"get-alarm-information.mx10003-3-major-pem.jsas-lwc.fragment.xml", devices.AlarmChassis, []alarmRow{
			{"", "2025-03-19T17:12:27Z", "Major", "Chassis", "PEM 4 Not Powered", "PEM 4 No Power"},
			{"", "2025-03-19T17:12:27Z", "Major", "Chassis", "PEM 2 Not Powered", "PEM 2 No Power"},
			{"", "2025-03-19T17:12:27Z", "Major", "Chassis", "PEM 0 Not Powered", "PEM 0 No Power"},
		}},
		{"get-alarm-information.no-active-alarms.ex4650.librenms-netconf.xml", devices.AlarmChassis, []alarmRow{}},
		{"get-alarm-information.srx-cluster-multi-re.junos_exporter.xml", devices.AlarmChassis, []alarmRow{
			{"node0", "2023-05-15T17:36:46Z", "Minor", "Autorecovery", "Autorecovery information needs to be saved", "autorecovery-save-r"},
			{"node0", "2023-05-15T17:36:46Z", "Minor", "Configuration", "Rescue configuration is not set", "no-rescue"},
			{"node1", "2023-06-05T12:22:57Z", "Minor", "Autorecovery", "Autorecovery information needs to be saved", "autorecovery-save-r"},
			{"node1", "2023-06-05T12:22:57Z", "Minor", "Configuration", "Rescue configuration is not set", "no-rescue"},
		}},
		// Chassis-type alarms in the system table; alarm-time text wrapped in newlines.
		{"get-system-alarm-information.ex-7-alarms-pem-mgmt-link.apstra-doc.xml", devices.AlarmSystem, []alarmRow{
			{"", "2024-02-19T06:00:20Z", "Minor", "System", "EVPN-VXLAN feature(262) usage requires a license", "evpn-vxlan"},
			{"", "2024-02-19T06:00:20Z", "Minor", "System", "ESI-LAG(252) usage requires a license", "esi-lag"},
			{"", "2024-02-19T06:00:20Z", "Minor", "System", "VxLAN(164) usage requires a license", "vxlan"},
			{"", "2024-02-19T06:00:20Z", "Minor", "System", "BGP Routing Protocol(47) usage requires a license", "bgp"},
			{"", "2024-01-25T19:41:15Z", "Major", "Chassis", "FPC Management1 Ethernet Link Down", "FPC MGMT1 Link Down"},
			{"", "2024-01-25T19:40:53Z", "Major", "Chassis", "FPC0: PEM 0 Not Powered", "PEM 0 No Power"},
			{"", "2024-01-25T19:40:46Z", "Minor", "Configuration", "Rescue configuration is not set", "no-rescue"},
		}},
		// The text says CEST; junos:seconds is what counts.
		{"get-system-alarm-information.ex4650-4-license-alarms.librenms-netconf.xml", devices.AlarmSystem, []alarmRow{
			{"", "2026-09-18T04:00:53Z", "Minor", "System", "EVPN-VXLAN feature(262) usage requires a license", "evpn-vxlan"},
			{"", "2026-09-18T04:00:53Z", "Minor", "System", "ESI-LAG(252) usage requires a license", "esi-lag"},
			{"", "2026-09-18T04:00:53Z", "Minor", "System", "VxLAN(164) usage requires a license", "vxlan"},
			{"", "2026-09-18T04:00:53Z", "Minor", "System", "BGP Routing Protocol(47) usage requires a license", "bgp"},
		}},
		{"get-system-alarm-information.single-re-whitespace.junos_exporter.xml", devices.AlarmSystem, []alarmRow{
			{"", "2021-10-29T18:44:50Z", "Minor", "Autorecovery", "Autorecovery information needs to be saved", "autorecovery-save-r"},
			{"", "2021-10-29T18:44:49Z", "Minor", "Configuration", "Rescue configuration is not set", "no-rescue"},
		}},
	}
}

func TestDecodeAlarmsSamples(t *testing.T) {
	for _, c := range alarmSamples() {
		t.Run(c.file, func(t *testing.T) {
			res, err := DecodeAlarms(readSample(t, c.file), c.src)
			if err != nil {
				t.Fatal(err)
			}
			checkAlarms(t, res, c.src, c.want)
		})
	}
}

func checkAlarms(t *testing.T, res []devices.Alarm, src devices.AlarmSource, want []alarmRow) {
	t.Helper()
	if res == nil {
		t.Error("nil slice: an empty alarm table must be an empty slice")
	}
	for i := range max(len(res), len(want)) {
		switch {
		case i >= len(res):
			t.Errorf("alarm %d missing, want %+v", i, want[i])
		case i >= len(want):
			t.Errorf("alarm %d unexpected: %+v", i, alarmRowOf(res[i]))
		default:
			if got := alarmRowOf(res[i]); got != want[i] {
				t.Errorf("alarm %d:\n got %+v\nwant %+v", i, got, want[i])
			}
			if res[i].Source != src {
				t.Errorf("alarm %d: Source %q, want %q", i, res[i].Source, src)
			}
		}
	}
}

func TestDecodeAlarmsCases(t *testing.T) {
	const detail = `<alarm-detail><alarm-time junos:seconds="%s">%s</alarm-time><alarm-class>%s</alarm-class>` +
		`<alarm-description>%s</alarm-description><alarm-type>Chassis</alarm-type></alarm-detail>`
	info := func(body ...string) string {
		return `<alarm-information>` + strings.Join(body, "") + `</alarm-information>`
	}
	tests := []struct {
		name, reply string
		want        []alarmRow
	}{
		{"no-active-alarms", info(`<alarm-summary><no-active-alarms/></alarm-summary>`), []alarmRow{}},
		{"zero count", info(`<alarm-summary><active-alarm-count>0</active-alarm-count></alarm-summary>`), []alarmRow{}},
		// The count is not trusted: the details are the alarms.
		{"count disagrees with details", info(`<alarm-summary><active-alarm-count>2</active-alarm-count></alarm-summary>`,
			fmt.Sprintf(detail, "1708322420", "2024-02-19 06:00:20 UTC", "Major", "PEM 0 Not Powered")),
			[]alarmRow{{"", "2024-02-19T06:00:20Z", "Major", "Chassis", "PEM 0 Not Powered", ""}}},
		{"details without summary", info(fmt.Sprintf(detail, "0", "", "Minor", "x")),
			[]alarmRow{{"", "1970-01-01T00:00:00Z", "Minor", "Chassis", "x", ""}}},
		{"no alarm-time", info(`<alarm-summary/><alarm-detail><alarm-class>Minor</alarm-class>` +
			`<alarm-description>Rescue configuration is not set</alarm-description></alarm-detail>`),
			[]alarmRow{{Class: "Minor", Description: "Rescue configuration is not set"}}},
		{"alarm-time text only is not parsed", info(`<alarm-detail><alarm-time>2024-02-19 06:00:20 UTC</alarm-time>` +
			`<alarm-class>Minor</alarm-class></alarm-detail>`),
			[]alarmRow{{Class: "Minor"}}},
		{"whitespace everywhere", info(`<alarm-detail><alarm-time junos:seconds=" 1708322420 ">
				2024-02-19 06:00:20 UTC
			</alarm-time><alarm-class> Major </alarm-class><alarm-description>
				FPC 1 Major Errors </alarm-description><alarm-short-description> FPC 1 Major Errors
			</alarm-short-description><alarm-type>	Chassis	</alarm-type></alarm-detail>`),
			[]alarmRow{{"", "2024-02-19T06:00:20Z", "Major", "Chassis", "FPC 1 Major Errors", "FPC 1 Major Errors"}}},
		{"members: one with alarms, one without", `<rpc-reply><multi-routing-engine-results>
			<multi-routing-engine-item><re-name>fpc0</re-name>` + info(fmt.Sprintf(detail, "1", "x", "Major", "PEM 1 Not Powered")) + `</multi-routing-engine-item>
			<multi-routing-engine-item><re-name>fpc1</re-name><alarm-information><alarm-summary><no-active-alarms/></alarm-summary></alarm-information></multi-routing-engine-item>
			</multi-routing-engine-results></rpc-reply>`,
			[]alarmRow{{"fpc0", "1970-01-01T00:00:01Z", "Major", "Chassis", "PEM 1 Not Powered", ""}}},
	}
	for _, src := range []devices.AlarmSource{devices.AlarmChassis, devices.AlarmSystem} {
		for _, tt := range tests {
			t.Run(string(src)+"/"+tt.name, func(t *testing.T) {
				res, err := DecodeAlarms([]byte(tt.reply), src)
				if err != nil {
					t.Fatal(err)
				}
				checkAlarms(t, res, src, tt.want)
			})
		}
	}
}

func TestDecodeAlarmsErrors(t *testing.T) {
	tests := []struct {
		name, reply string
		noData      bool
		want        string
	}{
		{"empty alarm-information", `<alarm-information/>`, true, "decode alarm-information: reply holds no alarm-information"},
		{"only an error", `<rpc-reply><alarm-information><xnm:error><message>alarmd not running</message></xnm:error></alarm-information></rpc-reply>`,
			true, ": alarmd not running"},
		{"output", `<rpc-reply><output>error: command is not valid on the qfx5100-48s-6q</output></rpc-reply>`,
			true, ": error: command is not valid"},
		{"bad alarm-time", `<rpc-reply><multi-routing-engine-results><multi-routing-engine-item><re-name>node1</re-name>` +
			`<alarm-information><alarm-summary/><alarm-detail><alarm-class>Minor</alarm-class></alarm-detail>` +
			`<alarm-detail><alarm-time junos:seconds="soon">x</alarm-time></alarm-detail></alarm-information>` +
			`</multi-routing-engine-item></multi-routing-engine-results></rpc-reply>`,
			false, `decode alarm-information: node1: alarm-detail 2: alarm-time: seconds "soon": not a non-negative integer`},
		{"truncated", `<rpc-reply><alarm-information><alarm-summary><no-active-alarms/></alarm-summary>`, false, "XML syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := DecodeAlarms([]byte(tt.reply), devices.AlarmSystem)
			if err == nil {
				t.Fatalf("no error, got %v", res)
			}
			var nd *NoDataError
			if errors.As(err, &nd) != tt.noData {
				t.Errorf("err = %#v, want *NoDataError: %v", err, tt.noData)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzDecodeAlarms(f *testing.F) {
	addSampleSeeds(f, "get-alarm-information.", "get-system-alarm-information.", "get-chassis-inventory.error")
	for _, s := range []string{
		"",
		`<alarm-information><alarm-summary><no-active-alarms/></alarm-summary></alarm-information>`,
		`<alarm-information><alarm-detail><alarm-time seconds="1">x</alarm-time><alarm-class> Major </alarm-class></alarm-detail></alarm-information>`,
		`<multi-routing-engine-results><multi-routing-engine-item><re-name>node0</re-name><alarm-information><alarm-summary/></alarm-information></multi-routing-engine-item></multi-routing-engine-results>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		res, err := DecodeAlarms(reply, devices.AlarmSystem)
		if err != nil {
			if res != nil {
				t.Errorf("result alongside error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "decode alarm-information: ") {
				t.Errorf("error without context: %v", err)
			}
			return
		}
		if res == nil {
			t.Fatal("nil slice and no error")
		}
		for _, a := range res {
			if a.Source != devices.AlarmSystem {
				t.Errorf("Source %q", a.Source)
			}
			checkTrimmed(t, "alarm", a.Member, a.Class, a.Type, a.Description, a.ShortDescription)
			if !a.Time.IsZero() {
				if _, err := a.Time.MarshalText(); err != nil || a.Time.Location() != time.UTC {
					t.Errorf("alarm-time %v not RFC 3339 UTC: %v", a.Time, err)
				}
			}
		}
	})
}

func BenchmarkDecodeAlarms(b *testing.B) { benchmarkDecoder(b, "alarms") }

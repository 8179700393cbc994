package junos

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// reRow is a RouteEngine flattened to strings, so that a table row fits
// on one line and a mismatch prints field by field. "" stands for nil;
// Up is up-time in seconds, Start is RFC 3339 UTC, temperatures are
// degrees Celsius.
type reRow struct {
	Name, Member, Slot, State, Priority, Status, Model, Serial, Up, Start, Reason, Temp, CPUTemp string
}

func rowOf(re devices.RouteEngine) reRow {
	r := reRow{
		Name: re.Name, Member: re.Member, State: re.MastershipState, Priority: re.MastershipPriority,
		Status: re.Status, Model: re.Model, Serial: re.Serial, Reason: re.LastRebootReason,
	}
	if re.Slot != nil {
		r.Slot = strconv.Itoa(*re.Slot)
	}
	if re.UpTime != nil {
		r.Up = strconv.FormatFloat(re.UpTime.Seconds(), 'f', -1, 64)
	}
	if re.StartTime != nil {
		r.Start = re.StartTime.Format(time.RFC3339)
	}
	if re.TemperatureC != nil {
		r.Temp = strconv.Itoa(*re.TemperatureC)
	}
	if re.CPUTemperatureC != nil {
		r.CPUTemp = strconv.Itoa(*re.CPUTemperatureC)
	}
	return r
}

func fmtRow(r reRow) string { return fmt.Sprintf("%+v", r) }

type routeEngineSample struct {
	file string
	want []reRow
}

// routeEngineSamples lists every <get-route-engine-information/> capture
// that holds data, with what it must decode to. The values were read off
// the files independently of the decoder.
func routeEngineSamples() []routeEngineSample {
	const normal = "Router rebooted after a normal shutdown."
	return []routeEngineSample{
		// Columns: Name, Member, Slot, State, Priority, Status, Model, Serial, Up, Start, Reason, Temp, CPUTemp.
		{"get-route-engine-information.dual-re-banner-backup.junos_exporter.xml", []reRow{
			{"re0", "", "0", "master", "master", "OK", "Something", "12456", "3148588", "2021-06-10T00:07:29Z", normal, "36", "31"},
			{"re1", "", "1", "backup", "backup", "OK", "Something", "12345", "3149860", "2021-06-09T23:46:19Z", normal, "34", "32"},
		}},
		// Trailing space in the reboot reason; the backup's clock says 2007.
		{"get-route-engine-information.dual-re-m-series.pyez.xml", []reRow{
			{"re0", "", "0", "master", "master", "OK", "RE-A-2000", "1000717151", "6660430", "2016-10-16T20:39:42Z", "0x1:power cycle/failure", "49", "53"},
			{"re1", "", "1", "backup", "backup", "OK", "RE-A-2000", "9009037326", "6660419", "2007-01-22T00:00:41Z", "0x1:power cycle/failure", "45", "49"},
		}},
		// Backup RE without cpu-temperature; up-time text without seconds.
		{"get-route-engine-information.dual-re-mx-1800x2.pyez.xml", []reRow{
			{"re0", "", "0", "master", "master (default)", "OK", "RE-S-1800x2", "9009127879", "60720", "2014-04-15T02:46:53Z", normal, "28", "29"},
			{"re1", "", "1", "backup", "backup (default)", "OK", "RE-S-1800x2", "9009132008", "911446", "2014-04-05T06:27:56Z", normal, "27", ""},
		}},
		{"get-route-engine-information.dual-re-mx.pyez.xml", []reRow{
			{"re0", "", "0", "master", "master (default)", "OK", "RE-S-1800x4", "9013088309", "858432", "2016-12-21T16:47:57Z", normal, "32", "30"},
			{"re1", "", "1", "backup", "backup (default)", "OK", "RE-S-1800x4", "9013086699", "858408", "2016-12-21T16:48:06Z", normal, "32", "29"},
		}},
		// Fragment with an undeclared junos: prefix; RE0 panicked.
		{"get-route-engine-information.dual-re-mx10003-panic.jsas-lwc.fragment.xml", []reRow{
			{"re0", "", "0", "master", "master", "OK", "RE-S-1600x8", "", "4067729", "2025-03-19T17:10:02Z", "0x1000:reboot due to panic", "30", "38"},
			{"re1", "", "1", "backup", "backup (default)", "OK", "RE-S-1600x8", "", "28244012", "2024-06-12T21:31:49Z", "0x1:power cycle/failure", "43", "43"},
		}},
		// No envelope, seconds= and celsius= without prefix.
		{"get-route-engine-information.dual-re-mx10003.napalm-stripped.xml", []reRow{
			{"re0", "", "0", "master", "master (default)", "OK", "RE-S-1600x8", "", "20360313", "2019-11-08T18:59:43Z", "0x2000:hypervisor reboot", "39", "40"},
			{"re1", "", "1", "backup", "backup (default)", "OK", "RE-S-1600x8", "", "20359219", "2019-11-08T19:17:42Z", "0x2000:hypervisor reboot", "39", "39"},
		}},
		{"get-route-engine-information.dual-re-ptx.pyez.xml", []reRow{
			{"re0", "", "0", "master", "master", "OK", "RE-DUO-2600", "P737A-002504", "1607149", "2016-12-14T08:34:03Z", normal, "56", "68"},
			{"re1", "", "1", "backup", "backup", "OK", "RE-DUO-2600", "P737A-002518", "1607124", "2016-12-14T08:34:10Z", normal, "58", "76"},
		}},
		{"get-route-engine-information.dual-re-t-series.pyez.xml", []reRow{
			{"re0", "", "0", "master", "master (default)", "OK", "RE-DUO-1800", "737F-2045", "5794307", "2016-10-26T21:23:07Z", normal, "37", "56"},
			{"re1", "", "1", "backup", "backup (default)", "OK", "RE-DUO-1800", "737F-1062", "5795148", "2016-10-26T21:08:59Z", normal, "37", "52"},
		}},
		// Virtual chassis members without the multi-routing-engine wrapper.
		{"get-route-engine-information.ex2300-vc.napalm-stripped.xml", []reRow{
			{"re0", "", "0", "master", "", "OK", "RE-EX2300-24P", "BUILTIN", "107935", "2017-07-24T09:01:38Z", "0x1:power cycle/failure", "36", "36"},
			{"re1", "", "1", "backup", "", "OK", "RE-EX2300-24P", "BUILTIN", "107933", "2017-07-24T09:01:38Z", "0x1:power cycle/failure", "38", "38"},
		}},
		{"get-route-engine-information.ex4200-single.napalm-stripped.xml", []reRow{
			{"re0", "", "0", "master", "", "OK", "EX4200-48T, 8 POE", "BP0213023897", "45366685", "2014-05-20T05:41:33Z", normal, "36", "36"},
		}},
		{"get-route-engine-information.ex9208-single.napalm-stripped.xml", []reRow{
			{"re0", "", "0", "master", "master (default)", "OK", "RE-S-EX9200-1800X4", "9013061297", "600169", "2017-11-17T13:59:55Z", normal, "32", "32"},
		}},
		// member0 slot 0 is backup although its priority says master.
		{"get-route-engine-information.mx-vc-multi-re.pyez.xml", []reRow{
			{"member0-re0", "member0", "0", "backup", "master (default)", "OK", "RE-S-1800x4", "9013061800", "1430245", "2016-12-15T02:52:08Z", normal, "32", "30"},
			{"member0-re1", "member0", "1", "master", "backup (default)", "OK", "RE-S-1800x4", "9013061812", "1634598", "2016-12-12T18:06:25Z", normal, "30", "28"},
			{"member1-re0", "member1", "0", "master", "master (default)", "OK", "RE-S-1800x4", "9013061833", "1632898", "2016-12-12T18:34:45Z", normal, "30", "28"},
			{"member1-re1", "member1", "1", "backup", "backup (default)", "OK", "RE-S-1800x4", "9013061755", "1429808", "2016-12-15T02:59:26Z", normal, "30", "29"},
		}},
		// No slot, no mastership elements.
		{"get-route-engine-information.mx80-single.pyez.xml", []reRow{
			{"re0", "", "", "", "", "OK", "RE-MX80", "S/N ZE1056", "14279748", "2016-07-20T14:44:04Z", normal, "48", "59"},
		}},
		// Wire format: nc:rpc-reply, no indentation.
		{"get-route-engine-information.single-re-mx-vmhost.nc-wire.xml", []reRow{
			{"re0", "", "", "", "", "OK", "RE-S-1600x8", "", "23921912", "2020-10-30T23:21:22Z", "0x4000:VJUNOS reboot", "50", "49"},
		}},
		// Virtual RE: no temperatures at all.
		{"get-route-engine-information.single-re-vmx.pyez.xml", []reRow{
			{"re0", "", "0", "master", "master (default)", "OK", "RE-VMX", "2f15f744-b7", "2587295", "2016-12-01T17:14:56Z", normal, "", ""},
		}},
		// SRX cluster nodes report no slot: the node is the name.
		{"get-route-engine-information.srx-cluster-multi-re.junos_exporter.xml", []reRow{
			{"node0", "node0", "", "", "", "OK", "SRX Routing Engine", "BUILTIN", "23071720", "2020-10-22T09:44:55Z", "0x4000:VJUNOS reboot", "35", "35"},
			{"node1", "node1", "", "", "", "OK", "SRX Routing Engine", "BUILTIN", "23071199", "2020-10-22T09:53:36Z", "0x4000:VJUNOS reboot", "36", "36"},
		}},
		{"get-route-engine-information.srx-firefly-status-testing.pyez.xml", []reRow{
			{"re0", "", "", "", "", "Testing", "FIREFLY-PERIMETER RE", "", "23370", "2014-03-26T13:15:20Z", normal, "", ""},
		}},
		{"get-route-engine-information.srx-high-end-no-status.pyez.xml", []reRow{
			{"re0", "", "0", "master", "master (default)", "", "RE-PPC-1200-A", "", "5359398", "2016-10-31T21:00:22Z", normal, "", ""},
		}},
		{"get-route-engine-information.srx210-cluster-multi-re.pyez.xml", []reRow{
			{"node0", "node0", "", "", "", "OK", "RE-SRX210H", "AAAW9949", "5423535", "2014-02-12T01:26:53Z", "0x200:normal shutdown", "44", ""},
			{"node1", "node1", "", "", "", "OK", "RE-SRX210H", "AAAW9949", "5423535", "2014-02-12T01:26:53Z", "0x200:normal shutdown", "44", ""},
		}},
		{"get-route-engine-information.srx345-cluster-node0.napalm-stripped.xml", []reRow{
			{"node0", "node0", "", "", "", "OK", "RE-SRX345-DUAL-AC", "DS1319AF0037", "3626317", "2020-03-17T22:57:44Z", "0x1:power cycle/failure", "35", "63"},
		}},
		// Items named like REs stand for a whole chassis.
		{"get-route-engine-information.txmatrix-multichassis.pyez.xml", []reRow{
			{"scc-re0", "scc-re0", "0", "master", "master (default)", "OK", "RE-4.0", "P13004100274", "17020", "2014-04-15T17:02:47Z", normal, "38", "55"},
			{"scc-re1", "scc-re0", "1", "backup", "backup (default)", "OK", "RE-4.0", "P13004100124", "17009", "2014-04-15T17:02:41Z", normal, "38", "42"},
			{"lcc0-re0", "lcc0-re0", "0", "master", "master (default)", "OK", "RE-A-2000", "1000702809", "17146", "2014-04-15T17:00:40Z", normal, "40", "47"},
			{"lcc0-re1", "lcc0-re0", "1", "backup", "backup (default)", "OK", "RE-A-2000", "1000697652", "17187", "2014-04-15T16:59:49Z", normal, "39", "47"},
			{"lcc1-re0", "lcc1-re0", "0", "master", "master (default)", "OK", "RE-A-2000", "1000697686", "17182", "2014-04-15T17:00:03Z", normal, "42", "51"},
			{"lcc1-re1", "lcc1-re0", "1", "backup", "backup (default)", "OK", "RE-A-2000", "1000697696", "17148", "2014-04-15T17:00:26Z", normal, "39", "44"},
		}},
		{"get-route-engine-information.vmhost-mx.pyez.xml", []reRow{
			{"re0", "", "", "", "", "OK", "RE-S-1600x8", "", "101832", "2025-02-05T03:00:29Z", "0x4000:VJUNOS reboot", "43", "43"},
		}},
	}
}

func TestDecodeRouteEnginesSamples(t *testing.T) {
	for _, c := range routeEngineSamples() {
		t.Run(c.file, func(t *testing.T) {
			res, err := DecodeRouteEngines(readSample(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, res, c.want)
		})
	}
}

func checkRows(t *testing.T, res []devices.RouteEngine, want []reRow) {
	t.Helper()
	for i := range max(len(res), len(want)) {
		switch {
		case i >= len(res):
			t.Errorf("RE %d missing, want %s", i, fmtRow(want[i]))
		case i >= len(want):
			t.Errorf("RE %d unexpected: %s", i, fmtRow(rowOf(res[i])))
		case rowOf(res[i]) != want[i]:
			t.Errorf("RE %d:\n got %s\nwant %s", i, fmtRow(rowOf(res[i])), fmtRow(want[i]))
		}
	}
}

// TestDecodeRouteEnginesCases covers shapes no capture shows.
func TestDecodeRouteEnginesCases(t *testing.T) {
	const item = `<multi-routing-engine-item><re-name>%s</re-name><route-engine-information>%s</route-engine-information></multi-routing-engine-item>`
	multi := func(items ...string) string {
		return `<rpc-reply><multi-routing-engine-results>` + strings.Join(items, "") + `</multi-routing-engine-results></rpc-reply>`
	}
	re := func(slot, state string, up int) string {
		return fmt.Sprintf(`<route-engine><slot>%s</slot><mastership-state>%s</mastership-state>`+
			`<up-time junos:seconds="%d">ignored</up-time></route-engine>`, slot, state, up)
	}
	plain := func(res ...string) string {
		return `<route-engine-information>` + strings.Join(res, "") + `</route-engine-information>`
	}
	tests := []struct {
		name, reply string
		want        []reRow
	}{
		{"whitespace-only values are absent", plain(`<route-engine>
			<slot>  </slot><mastership-state>
			</mastership-state><status> </status><model/><serial-number>	</serial-number>
			<start-time junos:seconds=" "> </start-time><up-time junos:seconds=""></up-time>
			<last-reboot-reason>
			</last-reboot-reason><temperature junos:celsius=" ">  </temperature><cpu-temperature/>
		</route-engine>`),
			[]reRow{{Name: "re0"}}},
		{"values are trimmed", plain(`<route-engine><slot> 1 </slot><mastership-state> master
			</mastership-state><status> OK </status><model> RE-S-1800x4 </model>
			<serial-number> 9013 </serial-number><up-time junos:seconds=" 5 ">5 seconds</up-time>
			<last-reboot-reason>0x1:power cycle/failure </last-reboot-reason>
			<temperature junos:celsius=" 40 ">40 degrees C</temperature></route-engine>`),
			[]reRow{{Name: "re1", Slot: "1", State: "master", Status: "OK", Model: "RE-S-1800x4", Serial: "9013", Up: "5", Reason: "0x1:power cycle/failure", Temp: "40"}}},
		{"up-time text when seconds are missing", plain(`<route-engine><slot>0</slot>
			<up-time>9 days, 22 hours, 27 minutes, 12 seconds</up-time></route-engine>`),
			[]reRow{{Name: "re0", Slot: "0", Up: "858432"}}},
		{"seconds win over text", plain(`<route-engine><slot>0</slot>
			<up-time junos:seconds="60">9 days</up-time></route-engine>`),
			[]reRow{{Name: "re0", Slot: "0", Up: "60"}}},
		{"same slot twice in a plain reply: first kept", plain(re("0", "master", 1), re("0", "backup", 2)),
			[]reRow{{Name: "re0", Slot: "0", State: "master", Up: "1"}}},
		{"VC member with slots", multi(fmt.Sprintf(item, "member0", re("1", "master", 1))),
			[]reRow{{Name: "member0-re1", Member: "member0", Slot: "1", State: "master", Up: "1"}}},
		{"cluster node with slot", multi(fmt.Sprintf(item, "node1", re("0", "backup", 1))),
			[]reRow{{Name: "node1-re0", Member: "node1", Slot: "0", State: "backup", Up: "1"}}},
		{"cluster node without slot", multi(fmt.Sprintf(item, "node0", re("", "", 1))),
			[]reRow{{Name: "node0", Member: "node0", Up: "1"}}},
		{"single-member EX VC", multi(fmt.Sprintf(item, "localre", re("0", "master", 1))),
			[]reRow{{Name: "re0", Member: "localre", Slot: "0", State: "master", Up: "1"}}},
		{"single-member EX VC without slot", multi(fmt.Sprintf(item, "localre", re("", "", 1))),
			[]reRow{{Name: "re0", Member: "localre", Up: "1"}}},
		{"item without re-name", multi(`<multi-routing-engine-item>` + plain(re("1", "backup", 1)) + `</multi-routing-engine-item>`),
			[]reRow{{Name: "re1", Slot: "1", State: "backup", Up: "1"}}},
		// invoke-on all-routing-engines: both REs answer and each reports
		// both slots; an RE's report about itself wins.
		{"invoke-on all-routing-engines", multi(
			fmt.Sprintf(item, "re0", re("0", "master", 100)+re("1", "backup", 200)),
			fmt.Sprintf(item, "re1", re("0", "master", 101)+re("1", "backup", 201))),
			[]reRow{
				{Name: "re0", Member: "re0", Slot: "0", State: "master", Up: "100"},
				{Name: "re1", Member: "re1", Slot: "1", State: "backup", Up: "201"},
			}},
		{"invoke-on, reports in the other order", multi(
			fmt.Sprintf(item, "re1", re("1", "backup", 201)+re("0", "master", 101)),
			fmt.Sprintf(item, "re0", re("1", "backup", 200)+re("0", "master", 100))),
			[]reRow{
				{Name: "re1", Member: "re1", Slot: "1", State: "backup", Up: "201"},
				{Name: "re0", Member: "re0", Slot: "0", State: "master", Up: "100"},
			}},
		{"TX Matrix chassis reported by both its REs", multi(
			fmt.Sprintf(item, "lcc0-re0", re("0", "master", 100)+re("1", "backup", 200)),
			fmt.Sprintf(item, "lcc0-re1", re("0", "master", 101)+re("1", "backup", 201)),
			fmt.Sprintf(item, "scc-re0", re("0", "master", 300))),
			[]reRow{
				{Name: "lcc0-re0", Member: "lcc0-re0", Slot: "0", State: "master", Up: "100"},
				{Name: "lcc0-re1", Member: "lcc0-re1", Slot: "1", State: "backup", Up: "201"},
				{Name: "scc-re0", Member: "scc-re0", Slot: "0", State: "master", Up: "300"},
			}},
		{"node slicing", multi(fmt.Sprintf(item, "gnf1-re1", re("0", "master", 1))),
			[]reRow{{Name: "gnf1-re0", Member: "gnf1-re1", Slot: "0", State: "master", Up: "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := DecodeRouteEngines([]byte(tt.reply))
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, res, tt.want)
		})
	}
}

func TestDecodeRouteEnginesBadValues(t *testing.T) {
	re := func(body string) string {
		return `<rpc-reply><multi-routing-engine-results><multi-routing-engine-item><re-name>member1</re-name>` +
			`<route-engine-information><route-engine>` + body + `</route-engine></route-engine-information>` +
			`</multi-routing-engine-item></multi-routing-engine-results></rpc-reply>`
	}
	tests := []struct {
		body, want string
	}{
		{`<slot>x</slot>`, `decode route-engine-information: member1: route-engine: slot "x": not a non-negative integer`},
		{`<slot>-1</slot>`, `slot "-1": not a non-negative integer`},
		{`<slot>99999999999</slot>`, `slot "99999999999": out of range`},
		{`<slot>1</slot><up-time junos:seconds="abc">1 day</up-time>`, `member1-re1 up-time: seconds "abc": not a non-negative integer`},
		{`<slot>1</slot><up-time junos:seconds="-5"/>`, `member1-re1 up-time: seconds "-5"`},
		{`<slot>1</slot><up-time junos:seconds="99999999999">x</up-time>`, `up-time: seconds "99999999999": out of range`},
		{`<slot>1</slot><up-time>forever</up-time>`, `member1-re1 up-time: text "forever": want "N days, N hours, N minutes, N seconds"`},
		{`<up-time>3 fortnights</up-time>`, `member1 up-time: text "3 fortnights": unknown unit "fortnights"`},
		{`<start-time junos:seconds="1e9">2001</start-time>`, `member1 start-time: seconds "1e9"`},
		{`<start-time junos:seconds="999999999999">x</start-time>`, `start-time: seconds "999999999999": out of range`},
		{`<temperature junos:celsius="warm">x</temperature>`, `member1 temperature: celsius "warm": not an integer`},
		{`<cpu-temperature junos:celsius="1.5"/>`, `member1 cpu-temperature: celsius "1.5"`},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			res, err := DecodeRouteEngines([]byte(re(tt.body)))
			if err == nil {
				t.Fatalf("no error, got %v", res)
			}
			var nd *NoDataError
			if errors.As(err, &nd) {
				t.Errorf("malformed value reported as no data: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReName(t *testing.T) {
	slot := func(n int) *int { return &n }
	tests := []struct {
		member string
		slot   *int
		want   string
	}{
		{"", slot(0), "re0"},
		{"", slot(1), "re1"},
		{"", nil, "re0"},
		{"member0", slot(1), "member0-re1"},
		{"member0", nil, "member0"},
		{"node1", slot(0), "node1-re0"},
		{"node0", nil, "node0"},
		{"fpc1", slot(0), "fpc1-re0"},
		{"lcc0-re0", slot(0), "lcc0-re0"},
		{"lcc0-re0", slot(1), "lcc0-re1"},
		{"lcc0-re1", slot(0), "lcc0-re0"},
		{"lcc0-re0", nil, "lcc0-re0"},
		{"scc-re0", slot(1), "scc-re1"},
		{"re0", slot(0), "re0"},
		{"re0", slot(1), "re1"},
		{"re1", nil, "re1"},
		{"localre", slot(1), "re1"},
		{"localre", nil, "re0"},
		{"-re0", slot(1), "-re0-re1"}, // nothing before the suffix: kept whole
		{"lcc0-rex", slot(1), "lcc0-rex-re1"},
		{"lcc0-re", slot(1), "lcc0-re-re1"},
		{"re", slot(1), "re-re1"},
	}
	for _, tt := range tests {
		if got := reName(tt.member, tt.slot); got != tt.want {
			t.Errorf("reName(%q, %v) = %q, want %q", tt.member, fmtSlot(tt.slot), got, tt.want)
		}
	}
}

func fmtSlot(p *int) string {
	if p == nil {
		return "nil"
	}
	return strconv.Itoa(*p)
}

func TestParseUpTimeText(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"9 days, 22 hours, 27 minutes, 12 seconds", 858432 * time.Second, false},
		{"16 hours, 52 minutes", 60720 * time.Second, false},
		{"267 days, 48 minutes, 40 seconds", 23071720 * time.Second, false},
		{"1 day, 1 hour, 1 minute, 1 second", 90061 * time.Second, false},
		{"2 weeks", 14 * 24 * time.Hour, false},
		{"0 seconds", 0, false},
		{"  4 hours ,  43 minutes,40 seconds ", 17020 * time.Second, false},
		{"", 0, true},
		{"33 days, 14:59", 0, true},
		{"days", 0, true},
		{"1 day 2 hours", 0, true},
		{"-1 days", 0, true},
		// time.Duration ends at 106751 days, 23:47:16.854775807.
		{"106751 days, 23 hours, 47 minutes, 16 seconds", 9223372036 * time.Second, false},
		{"106751 days, 23 hours, 47 minutes, 17 seconds", 0, true},
		{"106752 days", 0, true},
	}
	for _, tt := range tests {
		got, err := parseUpTimeText(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseUpTimeText(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzDecodeRouteEngines(f *testing.F) {
	addSampleSeeds(f, "get-route-engine-information.", "get-chassis-inventory.error")
	for _, s := range []string{
		"",
		"<",
		`<route-engine-information><route-engine/></route-engine-information>`,
		`<route-engine-information><route-engine><slot>1</slot><up-time>1 day, 2 hours</up-time></route-engine></route-engine-information>`,
		`<multi-routing-engine-results><multi-routing-engine-item><re-name>re1</re-name><route-engine-information>` +
			`<route-engine><slot>0</slot></route-engine><route-engine><slot>1</slot></route-engine></route-engine-information>` +
			`</multi-routing-engine-item><multi-routing-engine-item><re-name>re0</re-name><route-engine-information>` +
			`<route-engine><slot>1</slot></route-engine><route-engine><slot>0</slot></route-engine></route-engine-information>` +
			`</multi-routing-engine-item></multi-routing-engine-results>`,
		`<rpc-reply><output>Aborted!</output></rpc-reply>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		res, err := DecodeRouteEngines(reply)
		if err != nil {
			if res != nil {
				t.Errorf("result alongside error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "decode route-engine-information: ") {
				t.Errorf("error without context: %v", err)
			}
			return
		}
		if len(res) == 0 {
			t.Fatal("no REs and no error")
		}
		seen := make(map[string]bool)
		for _, re := range res {
			if re.Name == "" {
				t.Errorf("RE without a name: %+v", re)
			}
			if seen[re.Name] {
				t.Errorf("duplicate RE %q", re.Name)
			}
			seen[re.Name] = true
			checkTrimmed(t, re.Name, re.Member, re.MastershipState, re.MastershipPriority, re.Status,
				re.Model, re.Serial, re.LastRebootReason)
			if re.Slot != nil && *re.Slot < 0 {
				t.Errorf("%s: negative slot %d", re.Name, *re.Slot)
			}
			if re.UpTime != nil && *re.UpTime < 0 {
				t.Errorf("%s: negative up-time %v", re.Name, *re.UpTime)
			}
			if re.StartTime != nil {
				if _, err := re.StartTime.MarshalText(); err != nil || re.StartTime.Location() != time.UTC {
					t.Errorf("%s: start-time %v not RFC 3339 UTC: %v", re.Name, re.StartTime, err)
				}
			}
		}
	})
}

// FuzzRouteEngineFields puts arbitrary text into the values that are
// parsed rather than copied (item name, slot, junos:seconds, up-time text,
// junos:celsius), which byte-level fuzzing of whole replies rarely reaches.
func FuzzRouteEngineFields(f *testing.F) {
	f.Add("member0", "1", "858432", "9 days, 22 hours", "32")
	f.Add("lcc0-re0", "", "", "1 day, 1 hour, 1 minute, 1 second", "")
	f.Add("re1", " 0 ", " ", "", "-3")
	f.Add("localre", "99999999999", "9223372037", "106752 days", "1e3")
	f.Fuzz(func(t *testing.T, member, slot, seconds, text, celsius string) {
		esc := func(s string) string {
			var b strings.Builder
			if err := xml.EscapeText(&b, []byte(s)); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}
		re := func(slot string) string {
			return `<route-engine><slot>` + esc(slot) + `</slot><up-time junos:seconds="` + esc(seconds) + `">` + esc(text) +
				`</up-time><temperature junos:celsius="` + esc(celsius) + `"/></route-engine>`
		}
		reply := `<rpc-reply><multi-routing-engine-results><multi-routing-engine-item><re-name>` + esc(member) +
			`</re-name><route-engine-information>` + re(slot) + re("1") + re(slot) +
			`</route-engine-information></multi-routing-engine-item></multi-routing-engine-results></rpc-reply>`
		res, err := DecodeRouteEngines([]byte(reply))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "decode route-engine-information: ") {
				t.Errorf("error without context: %v", err)
			}
			return
		}
		if len(res) == 0 || len(res) > 2 {
			t.Fatalf("got %d REs from two distinct slots at most", len(res))
		}
		seen := make(map[string]bool)
		for _, re := range res {
			if re.Name == "" || seen[re.Name] {
				t.Errorf("empty or duplicate name %q", re.Name)
			}
			seen[re.Name] = true
			checkTrimmed(t, re.Name, re.Name, re.Member)
			if n, err := strconv.ParseInt(strings.TrimSpace(seconds), 10, 64); err == nil {
				if re.UpTime == nil || *re.UpTime != time.Duration(n)*time.Second {
					t.Errorf("%s: up-time %v, want junos:seconds %d", re.Name, fmtDuration(re.UpTime), n)
				}
			}
		}
	})
}

func fmtDuration(d *time.Duration) string {
	if d == nil {
		return "nil"
	}
	return d.String()
}

func BenchmarkDecodeRouteEngines(b *testing.B) { benchmarkDecoder(b, "route-engine") }

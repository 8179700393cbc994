package junos

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// uptimeRow is a SystemUptime flattened to strings: times RFC 3339 UTC,
// UpTime in seconds, "" for nil.
type uptimeRow struct {
	Member, Current, Source, Boot, Protocols, Configured, By, Up string
}

func uptimeRowOf(u SystemUptime) uptimeRow {
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	r := uptimeRow{
		Member: u.Member, Current: ts(&u.CurrentTime), Source: u.TimeSource, Boot: ts(u.BootTime),
		Protocols: ts(u.ProtocolsStarted), Configured: ts(u.LastConfigured), By: u.LastConfiguredBy,
	}
	if u.UpTime != nil {
		r.Up = fmt.Sprint(int64(u.UpTime.Seconds()))
	}
	return r
}

type uptimeSample struct {
	file string
	want uptimeRow
}

// uptimeSamples lists every <get-system-uptime-information/> capture with
// what it must decode to; the values were read off the files
// independently of the decoder.
func uptimeSamples() []uptimeSample {
	return []uptimeSample{
		// Wrapped in a multi-routing-engine item "localre"; times in CEST.
		{"get-system-uptime-information.ex4650-vc-multi-re-localre.librenms-netconf.xml", uptimeRow{
			"localre", "2026-09-18T11:11:34Z", "NTP CLOCK", "2026-08-15T20:12:27Z", "2026-08-15T20:13:55Z", "2026-09-17T09:17:32Z", "netadmin", "2905140"}},
		{"get-system-uptime-information.single.apstra-doc.xml", uptimeRow{
			"", "2023-12-14T11:32:35Z", "LOCAL CLOCK", "2023-10-30T17:31:27Z", "2023-10-30T17:32:34Z", "2023-12-06T10:46:26Z", "aosadmin", "3866460"}},
		// seconds= without prefix, times in PDT.
		{"get-system-uptime-information.single.pyez.xml", uptimeRow{
			"", "2017-06-29T23:59:47Z", "NTP CLOCK", "2017-06-29T20:02:33Z", "2017-06-29T20:04:52Z", "2017-06-29T20:04:11Z", "root", "14220"}},
	}
}

func TestDecodeSystemUptimeSamples(t *testing.T) {
	for _, c := range uptimeSamples() {
		t.Run(c.file, func(t *testing.T) {
			u, err := DecodeSystemUptime(readSample(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := uptimeRowOf(u); got != c.want {
				t.Errorf("\n got %+v\nwant %+v", got, c.want)
			}
			if u.CurrentTime.Location() != time.UTC {
				t.Errorf("CurrentTime in %v, want UTC", u.CurrentTime.Location())
			}
		})
	}
}

func TestDecodeSystemUptimeCases(t *testing.T) {
	const item = `<multi-routing-engine-item><re-name>%s</re-name>%s</multi-routing-engine-item>`
	now := func(sec string) string {
		return `<system-uptime-information><current-time><date-time junos:seconds="` + sec +
			`">whenever</date-time></current-time></system-uptime-information>`
	}
	tests := []struct {
		name, reply string
		want        uptimeRow
	}{
		{"current time only", now("1702553555"), uptimeRow{Current: "2023-12-14T11:32:35Z"}},
		{"never configured", `<system-uptime-information><current-time><date-time junos:seconds="0">x</date-time></current-time>
			<time-source>
			</time-source><last-configured-time><user> </user></last-configured-time></system-uptime-information>`,
			uptimeRow{Current: "1970-01-01T00:00:00Z"}},
		{"uptime-information date-time stands in", `<system-uptime-information><uptime-information>
			<date-time junos:seconds="1702553555">11:32AM</date-time><up-time junos:seconds="60">1 min</up-time>
			</uptime-information></system-uptime-information>`,
			uptimeRow{Current: "2023-12-14T11:32:35Z", Up: "60"}},
		{"current-time wins over uptime-information", `<system-uptime-information>
			<current-time><date-time junos:seconds="20">x</date-time></current-time>
			<uptime-information><date-time junos:seconds="10">x</date-time></uptime-information></system-uptime-information>`,
			uptimeRow{Current: "1970-01-01T00:00:20Z"}},
		{"first member", `<rpc-reply><multi-routing-engine-results>` +
			fmt.Sprintf(item, "node0", now("10")) + fmt.Sprintf(item, "node1", now("20")) +
			`</multi-routing-engine-results></rpc-reply>`,
			uptimeRow{Member: "node0", Current: "1970-01-01T00:00:10Z"}},
		{"first member that answered", `<rpc-reply><multi-routing-engine-results>` +
			fmt.Sprintf(item, "fpc0", `<xnm:error><message>not reachable</message></xnm:error>`) +
			fmt.Sprintf(item, "fpc1", now("20")) +
			`</multi-routing-engine-results></rpc-reply>`,
			uptimeRow{Member: "fpc1", Current: "1970-01-01T00:00:20Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := DecodeSystemUptime([]byte(tt.reply))
			if _, err := memberErrorOf(err); err != nil {
				t.Fatal(err) // a member without data is reported beside the data
			}
			if got := uptimeRowOf(u); got != tt.want {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeSystemUptimeErrors(t *testing.T) {
	tests := []struct {
		name, reply string
		noData      bool
		want        string
	}{
		{"no current time", `<rpc-reply><system-uptime-information><system-booted-time><date-time junos:seconds="1">x</date-time>` +
			`</system-booted-time></system-uptime-information></rpc-reply>`,
			true, "decode system-uptime-information: reply holds no system-uptime-information"},
		{"current time as text only", `<system-uptime-information><current-time><date-time>2023-12-14 11:32:35 UTC</date-time>` +
			`</current-time></system-uptime-information>`, true, "holds no system-uptime-information"},
		{"output", `<rpc-reply><output>Aborted!</output></rpc-reply>`, true, ": Aborted!"},
		{"bad current time", `<multi-routing-engine-results><multi-routing-engine-item><re-name>localre</re-name>` +
			`<system-uptime-information><current-time><date-time junos:seconds="x">x</date-time></current-time>` +
			`</system-uptime-information></multi-routing-engine-item></multi-routing-engine-results>`,
			false, `decode system-uptime-information: localre: current-time: seconds "x": not a non-negative integer`},
		{"bad boot time", `<system-uptime-information><current-time><date-time junos:seconds="1">x</date-time></current-time>` +
			`<system-booted-time><date-time junos:seconds="-1">x</date-time></system-booted-time></system-uptime-information>`,
			false, `decode system-uptime-information: system-booted-time: seconds "-1"`},
		{"bad protocols time", `<system-uptime-information><current-time><date-time junos:seconds="1">x</date-time></current-time>` +
			`<protocols-started-time><date-time junos:seconds="1.5">x</date-time></protocols-started-time></system-uptime-information>`,
			false, `protocols-started-time: seconds "1.5"`},
		{"bad configured time", `<system-uptime-information><current-time><date-time junos:seconds="1">x</date-time></current-time>` +
			`<last-configured-time><date-time junos:seconds="y">x</date-time></last-configured-time></system-uptime-information>`,
			false, `last-configured-time: seconds "y"`},
		{"bad up-time", `<system-uptime-information><current-time><date-time junos:seconds="1">x</date-time></current-time>` +
			`<uptime-information><up-time junos:seconds="z">x</up-time></uptime-information></system-uptime-information>`,
			false, `up-time: seconds "z"`},
		{"truncated", `<rpc-reply><system-uptime-information>`, false, "XML syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := DecodeSystemUptime([]byte(tt.reply))
			if err == nil {
				t.Fatalf("no error, got %+v", u)
			}
			if u != (SystemUptime{}) {
				t.Errorf("result %+v alongside error", u)
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

func FuzzDecodeSystemUptime(f *testing.F) {
	addSampleSeeds(f, "get-system-uptime-information.", "get-chassis-inventory.error")
	for _, s := range []string{
		"",
		`<system-uptime-information><current-time><date-time seconds="1">x</date-time></current-time></system-uptime-information>`,
		`<system-uptime-information><uptime-information><date-time seconds="1"/><up-time seconds="2"/></uptime-information></system-uptime-information>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		u, err := DecodeSystemUptime(reply)
		if err != nil {
			if u != (SystemUptime{}) {
				t.Errorf("result %+v alongside error %v", u, err)
			}
			if !strings.HasPrefix(err.Error(), "decode system-uptime-information: ") {
				t.Errorf("error without context: %v", err)
			}
			return
		}
		if u.CurrentTime.IsZero() || u.CurrentTime.Location() != time.UTC {
			t.Errorf("CurrentTime %v: want a UTC time", u.CurrentTime)
		}
		for _, ts := range []*time.Time{&u.CurrentTime, u.BootTime, u.ProtocolsStarted, u.LastConfigured} {
			if ts == nil {
				continue
			}
			if _, err := ts.MarshalText(); err != nil || ts.Location() != time.UTC {
				t.Errorf("time %v not RFC 3339 UTC: %v", ts, err)
			}
		}
		if u.UpTime != nil && *u.UpTime < 0 {
			t.Errorf("negative up-time %v", *u.UpTime)
		}
		checkTrimmed(t, "uptime", u.Member, u.TimeSource, u.LastConfiguredBy)
	})
}

func BenchmarkDecodeSystemUptime(b *testing.B) { benchmarkDecoder(b, "uptime") }

func TestDeviceZone(t *testing.T) {
	now := time.Unix(1498780787, 0).UTC() // 2017-06-29 23:59:47 UTC
	for _, tc := range []struct {
		text   string
		name   string
		offset int
	}{
		{"2017-06-29 16:59:47 PDT", "PDT", -7 * 3600},
		{"2017-06-30 01:59:47 CEST", "CEST", 2 * 3600},
		{"2017-06-30 05:29:47 IST", "IST", 5*3600 + 1800},
		{"2017-06-29 23:59:47 UTC", "UTC", 0},
		{"4:59PM", "UTC", 0},                  // reply-time form: nothing to compare
		{"2017-06-29 16:59:13 PDT", "UTC", 0}, // not the same instant
		{"", "UTC", 0},
	} {
		loc := deviceZone(tc.text, now)
		name, off := now.In(loc).Zone()
		if name != tc.name || off != tc.offset {
			t.Errorf("deviceZone(%q) = %s %+d, want %s %+d", tc.text, name, off, tc.name, tc.offset)
		}
	}
}

package junos

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices"
)

// fastDecoder pairs a decoder's exported (fast) form with its encoding/xml
// reference and says whether the scanner takes a reply at all.
type fastDecoder struct {
	kind     string
	prefixes []string // the samples of its RPC
	fast     func([]byte) (any, error)
	ref      func([]byte) (any, error)
	takes    func([]byte) bool
}

func fastDecoders() []fastDecoder {
	return []fastDecoder{
		{"route-engine", []string{"get-route-engine-information."},
			func(b []byte) (any, error) { return DecodeRouteEngines(b) },
			func(b []byte) (any, error) { return decodeRouteEnginesXML(b) },
			func(b []byte) bool {
				_, _, ok := scanSections[routeEngineInformation](b, routeEngineElement)
				return ok
			}},
		{"alarms", []string{"get-alarm-information.", "get-system-alarm-information."},
			func(b []byte) (any, error) { return DecodeAlarms(b, devices.AlarmChassis) },
			func(b []byte) (any, error) { return decodeAlarmsXML(b, devices.AlarmChassis) },
			func(b []byte) bool { _, _, ok := scanSections[alarmInformation](b, alarmElement); return ok }},
		{"software", []string{"get-software-information."},
			func(b []byte) (any, error) { return DecodeSoftware(b) },
			func(b []byte) (any, error) { return decodeSoftwareXML(b) },
			func(b []byte) bool { _, _, ok := scanSections[softwareInformation](b, softwareElement); return ok }},
		{"uptime", []string{"get-system-uptime-information."},
			func(b []byte) (any, error) { return DecodeSystemUptime(b) },
			func(b []byte) (any, error) { return decodeSystemUptimeXML(b) },
			func(b []byte) bool { _, _, ok := scanSections[systemUptimeInformation](b, uptimeElement); return ok }},
		{"log", []string{"file-show.", "get-log."},
			func(b []byte) (any, error) { return DecodeLogContent(b) },
			func(b []byte) (any, error) { return decodeLogContentXML(b) },
			func(b []byte) bool { _, _, ok := scanSections[fileContent](b, logElement); return ok }},
	}
}

func (d fastDecoder) ownSample(name string) bool {
	for _, p := range d.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// checkAgrees fails unless the fast decoder and its reference give the
// same value and the same error (type, fields and message) for reply.
func checkAgrees(t *testing.T, d fastDecoder, reply []byte) {
	t.Helper()
	got, gotErr := d.fast(reply)
	want, wantErr := d.ref(reply)
	if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(gotErr, wantErr) ||
		gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%s on %q:\nfast error %v\nref  error %v", d.kind, clip(reply), gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s on %q:\nfast %#v\nref  %#v", d.kind, clip(reply), got, want)
	}
}

// clip keeps failure messages readable.
func clip(b []byte) []byte {
	if len(b) > 2000 {
		return append(slices.Clone(b[:2000]), "…"...)
	}
	return b
}

// TestFastPathSamples: on every real sample, every decoder's fast path
// agrees with its reference, and the scanner takes every sample of the
// decoder's own RPC (else the fast path would be the slow one).
func TestFastPathSamples(t *testing.T) {
	names := sampleNames(t)
	for _, d := range fastDecoders() {
		own := 0
		for _, name := range names {
			reply := readSample(t, name)
			checkAgrees(t, d, reply)
			if d.ownSample(name) {
				own++
				if !d.takes(reply) {
					t.Errorf("%s: the scanner declines %s", d.kind, name)
				}
			}
		}
		if own == 0 && d.kind != "log" {
			t.Errorf("%s: no sample of its own RPC", d.kind)
		}
	}
}

// TestFastPathAgreesOnMutations breaks each real sample of a decoder's
// RPC at every byte (one byte changed, cycling through bytes that matter
// to XML, and one byte cut) and checks that the fast path reads each
// result as the reference does. A reply the scanner declines is the
// reference's by construction and is not decoded twice.
//
// Each mutation costs a whole encoding/xml decode, so a sample's cost
// grows with the square of its size: samples up to 8 KiB have every byte
// mutated; in bigger ones, every byte of the first 1 KiB and the last
// 512 bytes (the envelope) and one byte in every stride, about 1,500
// more (-short: a quarter of those). The fuzz targets cover the rest.
func TestFastPathAgreesOnMutations(t *testing.T) {
	muts := []byte("<>/&;:\"'=]!?-#x aZ0\x00\t\r\n\xe9\xff")
	names := sampleNames(t)
	for _, d := range fastDecoders() {
		for _, name := range names {
			if !d.ownSample(name) {
				continue
			}
			raw := readSample(t, name)
			t.Run(d.kind+"/"+name, func(t *testing.T) {
				t.Parallel()
				stride := 1
				if len(raw) > 8<<10 {
					stride = len(raw)/1500 | 1
				}
				if testing.Short() || raceEnabled {
					stride = stride*4 + 1
				}
				for stride%5 == 0 {
					stride += 2 // coprime with len(muts), so every byte kind is tried
				}
				tried := 0
				for i := range len(raw) {
					if stride > 1 && i >= 1<<10 && i < len(raw)-512 && i%stride != 0 {
						continue
					}
					tried++
					mut := slices.Clone(raw)
					mut[i] = muts[i%len(muts)]
					if mut[i] == raw[i] {
						mut[i] = muts[(i+1)%len(muts)]
					}
					if d.takes(mut) {
						checkAgrees(t, d, mut)
					}
					cut := slices.Delete(slices.Clone(raw), i, i+1)
					if d.takes(cut) {
						checkAgrees(t, d, cut)
					}
				}
				t.Logf("%d of %d bytes mutated", tried, len(raw))
			})
		}
	}
}

// TestFastPathCases are the corners of encoding/xml the scanner must
// read as it does, or decline.
func TestFastPathCases(t *testing.T) {
	for _, reply := range fastPathSeeds() {
		for _, d := range fastDecoders() {
			checkAgrees(t, d, []byte(reply))
		}
	}
}

// fastPathSeeds are hand-made replies that exercise what the scanner
// reads itself (references, CRs, comments and elements splitting values,
// repeated fields and attributes, prefixes) and what it declines (CDATA,
// DOCTYPE, other entities, processing instructions).
func fastPathSeeds() []string {
	re := `<route-engine-information><route-engine><slot>1</slot>` +
		`<up-time junos:seconds="60" seconds="61">1 minute</up-time></route-engine></route-engine-information>`
	return []string{
		"", "<", "x", " \n", "]]>", "<a/>", "<a></b>", "<a>", "</a>",
		re,
		`<?xml version="1.0" encoding="UTF-8"?>` + re,
		`<?xml version="1.1"?>` + re,
		`<?php x?>` + re,
		`<!DOCTYPE x>` + re,
		`<rpc-reply xmlns:junos="http://xml.juniper.net/junos/15.1R6/junos"><junos:route-engine-information>` +
			`<route-engine><slot>&#49;</slot><status>O&amp;K&#x41;&lt;&gt;&quot;&apos;</status></route-engine>` +
			`</junos:route-engine-information></rpc-reply>`,
		`<route-engine-information><route-engine><slot>1<!-- c -->2</slot><model>a<x>b</x>c</model></route-engine></route-engine-information>`,
		`<route-engine-information><route-engine><slot>1</slot><slot>2</slot><slot/></route-engine></route-engine-information>`,
		`<route-engine-information><route-engine><slot>1</slot><up-time junos:seconds="5">x</up-time><up-time>y</up-time></route-engine></route-engine-information>`,
		`<route-engine-information><route-engine><slot><![CDATA[1]]></slot></route-engine></route-engine-information>`,
		`<route-engine-information><route-engine><slot>&nbsp;1</slot></route-engine></route-engine-information>`,
		`<route-engine-information><route-engine><slot>&#xD800;</slot></route-engine></route-engine-information>`,
		`<route-engine-information><route-engine><slot>&#0;</slot></route-engine></route-engine-information>`,
		"<route-engine-information><route-engine><model>a\r\nb\rc\r\r\nd&#13;\n</model><slot>0</slot></route-engine></route-engine-information>",
		"<route-engine-information><route-engine><model m='\r\n&amp;'>\xe9\xff</model></route-engine></route-engine-information>",
		`<route-engine-information><route-engine><slot>0</slot></route-engine></route-engine-information><route-engine-information><route-engine><slot>1</slot></route-engine></route-engine-information>`,
		`<a:b:route-engine-information/>`,
		`<:route-engine-information><route-engine><slot>0</slot></route-engine></:route-engine-information>`,
		`<route-engine-information x="1"y='2'><route-engine ><slot >0</slot ></route-engine></route-engine-information >`,
		`<route-engine-information><route-engine><slot>0</slot></route-engine></route-engine-information >` + "\x00",
		`<multi-routing-engine-results><multi-routing-engine-item><route-engine-information><route-engine><slot>0</slot></route-engine></route-engine-information><re-name> re1 </re-name></multi-routing-engine-item>` +
			`<multi-routing-engine-item><re-name>re0<x>y</x></re-name><output>Aborted! <b/>x</output><xnm:error><message>m</message></xnm:error></multi-routing-engine-item></multi-routing-engine-results>`,
		`<rpc-reply><rpc-error><error-message>bad &amp; worse</error-message></rpc-error></rpc-reply>`,
		`<rpc-reply><route-engine-information><xnm:error><message>no</message>text</xnm:error></route-engine-information></rpc-reply>`,
		`<alarm-information><alarm-summary><x/></alarm-summary><alarm-summary/><alarm-detail><alarm-time junos:seconds="1" junos:seconds="2">t</alarm-time><alarm-class>Major</alarm-class></alarm-detail></alarm-information>`,
		`<alarm-information><alarm-detail><alarm-time seconds="x"/></alarm-detail></alarm-information>`,
		`<software-information><host-name>h</host-name><package-information><name>junos</name><comment>JUNOS Base OS boot [12.3R6.6]</comment></package-information></software-information>`,
		`<system-uptime-information><current-time><date-time junos:seconds="1500000000">2017-07-14 02:40:00 UTC</date-time></current-time>` +
			`<current-time><date-time>x</date-time><current-time><date-time junos:seconds="1"/></current-time></current-time>` +
			`<last-configured-time><date-time junos:seconds="10"/><user>u</user><date-time>z</date-time></last-configured-time>` +
			`<uptime-information><up-time junos:seconds="5"/><date-time junos:seconds="7"/></uptime-information><date-time junos:seconds="9"/></system-uptime-information>`,
		`<system-uptime-information><uptime-information><date-time junos:seconds="7">1:11PM</date-time></uptime-information></system-uptime-information>`,
		"<rpc-reply><file-content filename=\"/var/log/messages\" encoding=\"text\">\nJan 12 21:50:05 x\r\n  a &amp; b<!-- c -->d\n</file-content></rpc-reply>",
		`<file-content encoding="base64" encoding="text">SmFu</file-content>`,
		`<file-content encoding="base64">SmFuIDEyIDIxOjUwOjA1IHgK</file-content>`,
		`<file-content><xnm:error><message>could not resolve file: x</message></xnm:error></file-content>`,
		`<rpc-reply><output>Jan 12 21:50:05 re0 sshd[1]: x</output></rpc-reply>`,
		`<rpc-reply><output>Aborted!</output><output>Jan 12 21:50:05 re0 sshd[1]: x<b/>&amp;</output></rpc-reply>`,
		strings.Repeat("<a>", maxScanDepth+1) + re + strings.Repeat("</a>", maxScanDepth+1),
	}
}

// addAgreementSeeds seeds a fuzz target with every real sample and the
// hand-made corners.
func addAgreementSeeds(f *testing.F) {
	for _, name := range sampleNames(f) {
		f.Add(readSample(f, name))
	}
	for _, s := range fastPathSeeds() {
		f.Add([]byte(s))
	}
}

func fuzzAgrees(f *testing.F, kind string) {
	addAgreementSeeds(f)
	var d fastDecoder
	for _, c := range fastDecoders() {
		if c.kind == kind {
			d = c
		}
	}
	f.Fuzz(func(t *testing.T, reply []byte) { checkAgrees(t, d, reply) })
}

// The Fuzz...Agree targets hold each decoder's fast path to its
// encoding/xml reference on arbitrary input: the same value, the same
// error.
func FuzzRouteEnginesAgree(f *testing.F) { fuzzAgrees(f, "route-engine") }
func FuzzAlarmsAgree(f *testing.F)       { fuzzAgrees(f, "alarms") }
func FuzzSoftwareAgree(f *testing.F)     { fuzzAgrees(f, "software") }
func FuzzSystemUptimeAgree(f *testing.F) { fuzzAgrees(f, "uptime") }
func FuzzLogContentAgree(f *testing.F)   { fuzzAgrees(f, "log") }

// TestScanTables checks the scanner's byte tables against their
// definitions.
func TestScanTables(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		text := (c >= 0x20 && c < 0x80 && b != '<' && b != '&' && b != ']') || b == '\t' || b == '\n'
		attr := (c >= 0x20 && c < 0x80 && b != '<' && b != '&' && b != '"' && b != '\'') || b == '\t' || b == '\n'
		name := byte('0')
		switch {
		case b == ':':
			name = '2'
		case c >= 0x80:
			name = '3'
		case isNameStart(b) || '0' <= b && b <= '9' || b == '-' || b == '.':
			name = '1'
		}
		if (textPlain[c] == '1') != text || (attrPlain[c] == '1') != attr || nameClass[c] != name {
			t.Errorf("byte %#02x: textPlain %c attrPlain %c nameClass %c", c, textPlain[c], attrPlain[c], nameClass[c])
		}
	}
	if len(textPlain) != 256 || len(attrPlain) != 256 || len(nameClass) != 256 {
		t.Fatal("a table is not 256 bytes")
	}
}

func BenchmarkDecodeLogContent(b *testing.B) { benchmarkDecoder(b, "log") }

// benchmarkDecoder measures the decoder called kind over all the real
// samples of its RPC, as mastership-bench's decode scenario does: "fast"
// is the exported decoder, "xml" its encoding/xml reference. MB/s counts
// every sample's bytes once per iteration; error replies are decoded too.
func benchmarkDecoder(b *testing.B, kind string) {
	var d fastDecoder
	for _, c := range fastDecoders() {
		if c.kind == kind {
			d = c
		}
	}
	var samples [][]byte
	size := 0
	for _, name := range sampleNames(b) {
		if d.ownSample(name) {
			reply := readSample(b, name)
			samples = append(samples, reply)
			size += len(reply)
		}
	}
	if len(samples) == 0 {
		b.Skip("no sample of this RPC")
	}
	for _, impl := range []struct {
		name   string
		decode func([]byte) (any, error)
	}{{"fast", d.fast}, {"xml", d.ref}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range samples {
					_, _ = impl.decode(s)
				}
			}
			b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "replies/s")
		})
	}
}

package junos

import (
	"errors"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices"
)

type softwareSample struct {
	file string
	want []devices.Software
}

// softwareSamples lists every <get-software-information/> capture with
// what it must decode to; the values were read off the files
// independently of the decoder.
func softwareSamples() []softwareSample {
	return []softwareSample{
		{"get-software-information.ex4650-vc-multi-re-localre.truncated.librenms-netconf.xml", []devices.Software{
			{Member: "localre", Hostname: "leaf1", Model: "ex4650-48y-8c", Version: "23.4R2-S7.4"},
		}},
		// Before <junos-version>: the release is in the junos package comment.
		{"get-software-information.mx960-dual-re-re0-re1.pyez.xml", []devices.Software{
			{Member: "re0", Hostname: "wf-kiwi", Model: "mx960", Version: "12.3R6.6"},
			{Member: "re1", Hostname: "wf-kiwi", Model: "mx960", Version: "12.3R6.6"},
		}},
		{"get-software-information.srx5800-cluster.pyez.xml", []devices.Software{
			{Member: "node0", Hostname: "frogbert", Model: "srx5800", Version: "17.3-2017-07-02.0_RELEASE_173_THROTTLE"},
			{Member: "node1", Hostname: "sheepbert", Model: "srx5800", Version: "17.3-2017-07-02.0_RELEASE_173_THROTTLE"},
		}},
		{"get-software-information.t1600-single.pyez.xml", []devices.Software{
			{Hostname: "dj", Model: "t1600", Version: "13.3R9-S2.1"},
		}},
		// Release in the junos-version package comment "Junos: 14.2R4".
		{"get-software-information.txp-multichassis.pyez.xml", []devices.Software{
			{Member: "abc-re0", Hostname: "pyez", Model: "txp", Version: "14.2R4"},
			{Member: "lcc0-re0", Hostname: "pyez-ddd0-re0", Model: "t100", Version: "14.2R4"},
			{Member: "lcc2-re0", Hostname: "pyez-ldd2-re0", Model: "t100", Version: "14.2R4"},
		}},
		{"get-software-information.vsrx-minimal.pyez.xml", []devices.Software{
			{Hostname: "firefly", Model: "firefly-perimeter", Version: "12.1X46-D15.3"},
		}},
	}
}

func TestDecodeSoftwareSamples(t *testing.T) {
	for _, c := range softwareSamples() {
		t.Run(c.file, func(t *testing.T) {
			res, err := DecodeSoftware(readSample(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			checkSoftware(t, res, c.want)
		})
	}
}

func checkSoftware(t *testing.T, res, want []devices.Software) {
	t.Helper()
	for i := range max(len(res), len(want)) {
		switch {
		case i >= len(res):
			t.Errorf("software %d missing, want %+v", i, want[i])
		case i >= len(want):
			t.Errorf("software %d unexpected: %+v", i, res[i])
		case res[i] != want[i]:
			t.Errorf("software %d:\n got %+v\nwant %+v", i, res[i], want[i])
		}
	}
}

func TestDecodeSoftwareCases(t *testing.T) {
	pkg := func(name, comment string) string {
		return `<package-information><name>` + name + `</name><comment>` + comment + `</comment></package-information>`
	}
	sw := func(body ...string) string {
		return `<rpc-reply><software-information>` + strings.Join(body, "") + `</software-information></rpc-reply>`
	}
	tests := []struct {
		name, reply string
		want        devices.Software
	}{
		{"junos-version wins over packages", sw(`<host-name>r1</host-name><junos-version> 21.4R3-S5.4 </junos-version>`,
			pkg("junos", "JUNOS Base OS boot [12.3R6.6]")),
			devices.Software{Hostname: "r1", Version: "21.4R3-S5.4"}},
		{"junos-version package preferred to junos package", sw(pkg("junos", "JUNOS Base OS boot [14.2R3]"), pkg("junos-version", "Junos: 14.2R4")),
			devices.Software{Version: "14.2R4"}},
		{"junos package", sw(`<host-name>r1</host-name>`, pkg("jbase", "JUNOS Base OS Software Suite [1.0]"), pkg(" junos ", " JUNOS Base OS boot [ 12.3R6.6 ] ")),
			devices.Software{Hostname: "r1", Version: "12.3R6.6"}},
		{"junos package without brackets", sw(`<host-name>r1</host-name>`, pkg("junos", "JUNOS Base OS boot")),
			devices.Software{Hostname: "r1"}},
		{"empty junos-version package falls back", sw(pkg("junos-version", "Junos: "), pkg("junos", "x [1.2]")),
			devices.Software{Version: "1.2"}},
		{"whitespace and blank version", sw("<host-name>\n  r1\n</host-name><product-model> mx960 </product-model><junos-version> </junos-version>"),
			devices.Software{Hostname: "r1", Model: "mx960"}},
		{"empty <jsr/> and unknown elements", sw(`<jsr/><product-model>srx5800</product-model><product-name>srx5800</product-name>`),
			devices.Software{Model: "srx5800"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := DecodeSoftware([]byte(tt.reply))
			if err != nil {
				t.Fatal(err)
			}
			checkSoftware(t, res, []devices.Software{tt.want})
		})
	}
}

func TestDecodeSoftwareErrors(t *testing.T) {
	tests := []struct {
		name, reply string
		noData      bool
		want        string
	}{
		{"empty software-information", `<rpc-reply><software-information>  </software-information></rpc-reply>`,
			true, "decode software-information: reply holds no software-information"},
		{"only package names", `<software-information><package-information><name>jbase</name></package-information></software-information>`,
			true, "holds no software-information"},
		{"error inside", `<software-information><xnm:error><message>mgd busy</message></xnm:error></software-information>`,
			true, ": mgd busy"},
		{"truncated", `<rpc-reply><software-information><host-name>r1</host-name>`, false, "decode software-information: XML syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := DecodeSoftware([]byte(tt.reply))
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

func TestBracketed(t *testing.T) {
	tests := []struct{ in, want string }{
		{"JUNOS Base OS boot [12.3R6.6]", "12.3R6.6"},
		{"JUNOS Software Release [12.1X46-D15.3]", "12.1X46-D15.3"},
		{"a [b] [c]", "c"},
		{"[ x ]", "x"},
		{"no brackets", ""},
		{"open [only", ""},
		{"close only]", ""},
		{"[]", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := bracketed(tt.in); got != tt.want {
			t.Errorf("bracketed(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzDecodeSoftware(f *testing.F) {
	addSampleSeeds(f, "get-software-information.", "get-chassis-inventory.error")
	for _, s := range []string{
		"",
		`<software-information><host-name>r</host-name></software-information>`,
		`<software-information><package-information><name>junos</name><comment>x [1]</comment></package-information></software-information>`,
		`<software-information><package-information><name>junos-version</name><comment>Junos: 1</comment></package-information></software-information>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		res, err := DecodeSoftware(reply)
		if err != nil {
			if res != nil {
				t.Errorf("result alongside error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "decode software-information: ") {
				t.Errorf("error without context: %v", err)
			}
			return
		}
		if len(res) == 0 {
			t.Fatal("no software and no error")
		}
		for _, s := range res {
			if s.Hostname == "" && s.Model == "" && s.Version == "" {
				t.Errorf("empty entry %+v", s)
			}
			checkTrimmed(t, "software", s.Member, s.Hostname, s.Model, s.Version)
		}
	})
}

func BenchmarkDecodeSoftware(b *testing.B) { benchmarkDecoder(b, "software") }

// TestDecodeSoftwareAllREs checks the reply to RPCSoftwareAllREs, the
// invoke-on all-routing-engines form: one release per RE, keyed by the
// RE's name, which is what switchover readiness compares.
func TestDecodeSoftwareAllREs(t *testing.T) {
	if !strings.Contains(RPCSoftwareAllREs, "<invoke-on>all-routing-engines</invoke-on>") {
		t.Fatalf("RPCSoftwareAllREs = %s", RPCSoftwareAllREs)
	}
	res, err := DecodeSoftware(readSample(t, "get-software-information.mx960-dual-re-re0-re1.pyez.xml"))
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]string)
	for _, s := range res {
		got[s.Member] = s.Version
	}
	want := map[string]string{"re0": "12.3R6.6", "re1": "12.3R6.6"}
	if len(got) != len(want) || got["re0"] != want["re0"] || got["re1"] != want["re1"] {
		t.Errorf("releases by RE = %v, want %v", got, want)
	}
	// A backup on another release: each RE keeps its own.
	mixed := `<rpc-reply><multi-routing-engine-results>` +
		`<multi-routing-engine-item><re-name>re0</re-name><software-information><host-name>r</host-name><junos-version>22.2R3.15</junos-version></software-information></multi-routing-engine-item>` +
		`<multi-routing-engine-item><re-name>re1</re-name><software-information><host-name>r</host-name><junos-version>21.4R3-S5.4</junos-version></software-information></multi-routing-engine-item>` +
		`</multi-routing-engine-results></rpc-reply>`
	res, err = DecodeSoftware([]byte(mixed))
	if err != nil {
		t.Fatal(err)
	}
	checkSoftware(t, res, []devices.Software{
		{Member: "re0", Hostname: "r", Version: "22.2R3.15"},
		{Member: "re1", Hostname: "r", Version: "21.4R3-S5.4"},
	})
}

package junossim

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// xConfig is a get-configuration or get-commit-information reply.
type xConfig struct {
	XMLName       xml.Name     `xml:"rpc-reply"`
	Configuration *xConfigBody `xml:"configuration"`
	Commits       []struct {
		Seq     int     `xml:"sequence-number"`
		User    string  `xml:"user"`
		Client  string  `xml:"client"`
		Time    secText `xml:"date-time"`
		Comment string  `xml:"comment"`
	} `xml:"commit-information>commit-history"`
	raw string
}

// has reports whether the configuration has a top-level section.
func (c *xConfig) has(section string) bool { return strings.Contains(c.raw, "\n<"+section+">\n") }

// xConfigBody is <configuration>; its attributes (junos:changed-seconds
// and the rest) are matched by local name.
type xConfigBody struct {
	Attrs          []xml.Attr `xml:",any,attr"`
	GracefulSwitch *struct{}  `xml:"chassis>redundancy>graceful-switchover"`
	KeepaliveTime  string     `xml:"chassis>redundancy>keepalive-time"`
	OnLossOfKA     *struct{}  `xml:"chassis>redundancy>failover>on-loss-of-keepalives"`
	OnDiskFailure  *struct{}  `xml:"chassis>redundancy>failover>on-disk-failure"`
	CommitSync     *struct{}  `xml:"system>commit>synchronize"`
	NonstopRouting *struct{}  `xml:"routing-options>nonstop-routing"`
}

func (c *xConfig) attr(local string) string {
	if c.Configuration == nil {
		return ""
	}
	for _, a := range c.Configuration.Attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func decodeConfig(t *testing.T, b []byte) xConfig {
	t.Helper()
	decodeReply(t, b)
	c := xConfig{raw: string(b)}
	if err := xml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func getConfig(t *testing.T, r *Router, body string) xConfig {
	t.Helper()
	return decodeConfig(t, r.ReplyTo("get-configuration", "1", []byte(body)))
}

// decoded turns a get-configuration reply back into the model.
func (x xConfig) decoded() devices.RedundancyConfig {
	c := x.Configuration
	k, _ := time.ParseDuration(c.KeepaliveTime + "s")
	if c.KeepaliveTime == "" {
		k = 0
	}
	return devices.RedundancyConfig{
		GracefulSwitchover:         c.GracefulSwitch != nil,
		KeepaliveTime:              k,
		FailoverOnLossOfKeepalives: c.OnLossOfKA != nil,
		FailoverOnDiskFailure:      c.OnDiskFailure != nil,
		CommitSynchronize:          c.CommitSync != nil,
		NonstopRouting:             c.NonstopRouting != nil,
		Known:                      true,
	}
}

const redundancyFilter = `<get-configuration><configuration><chassis><redundancy/></chassis>` +
	`<system><commit><synchronize/></commit></system><routing-options><nonstop-routing/></routing-options></configuration></get-configuration>`

func TestGetConfigurationRoundTrip(t *testing.T) {
	f := false
	k := 30 * time.Second
	sc := Scenario{
		Defaults: Defaults{Redundancy: &RedundancySpec{NonstopRouting: &f}},
		Devices: []Device{
			{Name: "plain"},
			{Name: "odd", Redundancy: &RedundancySpec{GracefulSwitchover: &f, KeepaliveTime: &k}},
			{Name: "single", Topology: TopologySingle},
		},
	}
	devs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]devices.RedundancyConfig{
		"plain": {GracefulSwitchover: true, KeepaliveTime: 300 * time.Second, FailoverOnLossOfKeepalives: true, CommitSynchronize: true, Known: true},
		"odd":   {KeepaliveTime: 30 * time.Second, FailoverOnLossOfKeepalives: true, CommitSynchronize: true, Known: true},
		// The scenario default turns NSR off; a single-RE router has no
		// chassis redundancy to begin with.
		"single": {Known: true},
	}
	for _, d := range devs {
		clock := newFakeClock()
		r := mustRouter(t, d, clock)
		c := getConfig(t, r, redundancyFilter)
		if got := c.decoded(); got != want[d.Name] {
			t.Errorf("%s: decoded %+v, want %+v", d.Name, got, want[d.Name])
		}
		if got := r.Redundancy(); got != want[d.Name] {
			t.Errorf("%s: Redundancy() = %+v", d.Name, got)
		}
		if c.attr("changed-seconds") != itoa(r.Start().Add(-time.Hour).Unix()) ||
			c.attr("changed-localtime") != r.Start().Add(-time.Hour).UTC().Format("2006-01-02 15:04:05 UTC") {
			t.Errorf("%s: configuration attributes %+v", d.Name, c.Configuration.Attrs)
		}
		if d.Name == "single" && (c.has("chassis") || c.has("system") || c.has("routing-options")) {
			t.Errorf("single: empty sections rendered")
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCommitChangesTheConfiguration(t *testing.T) {
	clock := newFakeClock()
	off := false
	r := mustRouter(t, Device{Name: "r1", Timezone: "Europe/Amsterdam", Events: []Event{
		{At: 10 * time.Minute, Kind: EventCommit, User: "jsmith", Comment: "no failover",
			Redundancy: &RedundancySpec{FailoverOnLossOfKeepalives: &off}},
		{At: 20 * time.Minute, Kind: EventCommit},
	}}, clock)
	clock.Advance(15 * time.Minute)
	c := getConfig(t, r, redundancyFilter)
	if c.Configuration.OnLossOfKA != nil || c.Configuration.GracefulSwitch == nil {
		t.Errorf("after the commit: %+v", c.decoded())
	}
	at := r.Start().Add(10 * time.Minute)
	if c.attr("changed-seconds") != itoa(at.Unix()) || c.attr("changed-localtime") != "2025-03-19 18:22:27 CET" {
		t.Errorf("changed attributes %+v", c.Configuration.Attrs)
	}
	c = getConfig(t, r, `<get-configuration database="committed"><configuration><chassis/></configuration></get-configuration>`)
	if c.attr("commit-user") != "jsmith" || c.attr("commit-seconds") != itoa(at.Unix()) || c.attr("changed-seconds") != "" {
		t.Errorf("committed attributes %+v", c.Configuration.Attrs)
	}
	if !c.has("chassis") || c.has("system") || c.has("routing-options") {
		t.Error("a chassis filter returns only chassis")
	}
	lines, _ := r.Log(LogMessages)
	joined := strings.Join(lines, "\n")
	for _, want := range []string{
		"Mar 19 18:22:27  r1 mgd[", "]: UI_COMMIT: User 'jsmith' requested 'commit' operation (comment: no failover)\n",
		"Mar 19 18:22:30  r1 mgd[", "]: UI_COMMIT_COMPLETED: commit complete",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("messages lack %q:\n%s", want, joined)
		}
	}

	clock.Advance(10 * time.Minute)
	rep := decodeCommits(t, r)
	if len(rep.Commits) != 3 {
		t.Fatalf("commit history %+v", rep.Commits)
	}
	h0, h1, h2 := rep.Commits[0], rep.Commits[1], rep.Commits[2]
	if h0.Seq != 0 || h0.User != "luke" || h0.Client != "cli" || h0.Comment != "" || h0.Time.Seconds != r.Start().Add(20*time.Minute).Unix() {
		t.Errorf("newest commit %+v", h0)
	}
	if h1.User != "jsmith" || h1.Comment != "no failover" || h2.User != User || h2.Client != "netconf" {
		t.Errorf("older commits %+v %+v", h1, h2)
	}
	if lines, _ := r.Log(LogMessages); !strings.HasSuffix(lines[len(lines)-2], "(comment: none)") {
		t.Errorf("a commit without comment: %q", lines[len(lines)-2])
	}

	// System uptime: current-time is the clock's, last-configured-time
	// the last commit's.
	up := decodeReply(t, serve(r, "get-system-uptime-information", "1"))
	if up.Uptime.Current.Seconds != clock.Now().Unix() {
		t.Errorf("current-time %d, clock %d", up.Uptime.Current.Seconds, clock.Now().Unix())
	}
	var lc struct {
		Time secText `xml:"system-uptime-information>last-configured-time>date-time"`
		User string  `xml:"system-uptime-information>last-configured-time>user"`
	}
	if err := xml.Unmarshal(serve(r, "get-system-uptime-information", "1"), &lc); err != nil {
		t.Fatal(err)
	}
	if lc.User != "luke" || lc.Time.Seconds != r.Start().Add(20*time.Minute).Unix() {
		t.Errorf("last-configured-time %+v", lc)
	}
}

func decodeCommits(t *testing.T, r *Router) xConfig {
	t.Helper()
	return decodeConfig(t, serve(r, "get-commit-information", "1"))
}

func TestRedundancyMerge(t *testing.T) {
	on, off := true, false
	k0, k10 := time.Duration(0), 10*time.Second
	base := &RedundancySpec{GracefulSwitchover: &off, KeepaliveTime: &k10}
	got := (&RedundancySpec{GracefulSwitchover: &on, FailoverOnDiskFailure: &on}).over(base)
	if !*got.GracefulSwitchover || *got.KeepaliveTime != k10 || !*got.FailoverOnDiskFailure || got.NonstopRouting != nil {
		t.Errorf("merged %+v", got)
	}
	if *base.GracefulSwitchover {
		t.Error("merging changed the defaults")
	}
	c := (&RedundancySpec{KeepaliveTime: &k0}).apply(builtinRedundancy(TopologyDual))
	if c.KeepaliveTime != 0 || !c.GracefulSwitchover {
		t.Errorf("keepalive_time 0 unsets it: %+v", c)
	}
}

package junossim

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/mastership/mastership/devices"
)

// builtinRedundancy is the configuration of a router whose scenario says
// nothing: what a careful operator sets on a dual-RE MX or an MX Virtual
// Chassis (graceful switchover, nonstop routing, commit synchronize,
// failover on loss of keepalives with the 300 s default), and nothing on
// a single-RE router, which has no other RE to fail over to, or on an SRX
// cluster, which fails over by "chassis cluster" instead.
func builtinRedundancy(t Topology) devices.RedundancyConfig {
	if t == TopologySingle || t == TopologySRXCluster {
		return devices.RedundancyConfig{Known: true}
	}
	return devices.RedundancyConfig{
		GracefulSwitchover:         true,
		KeepaliveTime:              300 * time.Second,
		FailoverOnLossOfKeepalives: true,
		CommitSynchronize:          true,
		NonstopRouting:             true,
		Known:                      true,
	}
}

// commitRecord is one entry of the commit history.
type commitRecord struct {
	at      time.Time
	user    string
	client  string // "cli", "netconf"
	comment string
}

// maxCommits bounds the history; Junos keeps 50 rollbacks by default.
const maxCommits = 50

// commitLocked records a commit, writes its mgd lines (commit.log:
// "mgd[7729]: UI_COMMIT: User 'luke' requested 'commit' operation
// (comment: hello)" and "UI_COMMIT_COMPLETED: commit complete"; Junos
// writes "none" for a commit without a comment) and applies its
// configuration change.
func (r *Router) commitLocked(at time.Time, ev Event) {
	user := cmp.Or(ev.User, "luke")
	comment := cmp.Or(ev.Comment, "none")
	proc := "mgd[" + strconv.Itoa(r.transientPID()) + "]"
	r.syslogLocked(at, proc, "UI_COMMIT: User '"+user+"' requested 'commit' operation (comment: "+comment+")")
	r.syslogLocked(at.Add(commitTakes), proc, "UI_COMMIT_COMPLETED: commit complete")
	r.redundancy = ev.Redundancy.apply(r.redundancy)
	rec := commitRecord{at: at.Truncate(time.Second), user: user, client: "cli"}
	if ev.Comment != "" {
		rec.comment = ev.Comment
	}
	r.commits = append([]commitRecord{rec}, r.commits...)
	slices.SortStableFunc(r.commits, func(a, b commitRecord) int { return b.at.Compare(a.at) })
	if len(r.commits) > maxCommits {
		r.commits = r.commits[:maxCommits]
	}
}

// Redundancy returns the router's current redundancy configuration.
func (r *Router) Redundancy() devices.RedundancyConfig {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advanceLocked(now)
	return r.redundancy
}

// configSections reads which top-level sections a get-configuration asks
// for (<configuration><chassis/>...</configuration>) and whether it wants
// the committed database. No filter means everything.
func configSections(body []byte) (sections map[string]bool, committed bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	depth, inConfig := 0, false
	for {
		tok, err := d.Token()
		if err != nil {
			if err != io.EOF {
				return nil, committed // a body we cannot read asks for everything
			}
			return sections, committed
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1 && t.Name.Local == "get-configuration":
				for _, a := range t.Attr {
					if a.Name.Local == "database" && a.Value == "committed" {
						committed = true
					}
				}
			case depth == 2 && t.Name.Local == "configuration":
				inConfig = true
			case depth == 3 && inConfig:
				if sections == nil {
					sections = map[string]bool{}
				}
				sections[t.Name.Local] = true
			}
		case xml.EndElement:
			if depth == 2 {
				inConfig = false
			}
			depth--
		}
	}
}

// renderConfiguration answers get-configuration with the redundancy part
// of the configuration, in the shape of a real reply: a bare
// <configuration> stamped with when the candidate last changed
// (junos:changed-seconds/-localtime), or, for database="committed", with
// the last commit (junos:commit-seconds/-localtime/-user). Statements
// that are off are left out, as Junos does; so are empty sections.
func (r *Router) renderConfiguration(w *replyWriter, body []byte) {
	want, committed := configSections(body)
	wants := func(s string) bool { return want == nil || want[s] }
	last := r.commits[0]
	w.b.WriteString("<configuration")
	at := r.dev.at(last.at) // the router's clock at the commit
	if committed {
		w.attr("junos:commit-seconds", strconv.FormatInt(at.Unix(), 10))
		w.attr("junos:commit-localtime", r.timeText(at))
		w.attr("junos:commit-user", last.user)
	} else {
		w.attr("junos:changed-seconds", strconv.FormatInt(at.Unix(), 10))
		w.attr("junos:changed-localtime", r.timeText(at))
	}
	w.b.WriteString(">\n")
	c := r.redundancy
	if wants("chassis") && (c.GracefulSwitchover || c.KeepaliveTime > 0 || c.FailoverOnLossOfKeepalives || c.FailoverOnDiskFailure) {
		w.open("chassis", "")
		w.open("redundancy", "")
		if c.GracefulSwitchover {
			w.empty("graceful-switchover")
		}
		if c.KeepaliveTime > 0 {
			w.text("keepalive-time", strconv.FormatInt(int64(c.KeepaliveTime/time.Second), 10))
		}
		if c.FailoverOnLossOfKeepalives || c.FailoverOnDiskFailure {
			w.open("failover", "")
			if c.FailoverOnLossOfKeepalives {
				w.empty("on-loss-of-keepalives")
			}
			if c.FailoverOnDiskFailure {
				w.empty("on-disk-failure")
			}
			w.close("failover")
		}
		w.close("redundancy")
		w.close("chassis")
	}
	if wants("system") && c.CommitSynchronize {
		w.open("system", "")
		w.open("commit", "")
		w.empty("synchronize")
		w.close("commit")
		w.close("system")
	}
	if wants("routing-options") && c.NonstopRouting {
		w.open("routing-options", "")
		w.empty("nonstop-routing")
		w.close("routing-options")
	}
	w.close("configuration")
}

// renderCommits answers get-commit-information ("show system commit") as
// the junos_exporter capture: newest first, sequence numbers from 0.
func (r *Router) renderCommits(w *replyWriter) {
	w.open("commit-information", "")
	for i, c := range r.commits {
		w.open("commit-history", "")
		w.text("sequence-number", strconv.Itoa(i))
		w.text("user", c.user)
		w.text("client", c.client)
		at := r.dev.at(c.at)
		w.seconds("date-time", at.Unix(), r.timeText(at))
		if c.comment != "" {
			w.text("comment", c.comment)
		}
		w.close("commit-history")
	}
	w.close("commit-information")
}

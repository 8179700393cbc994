package junossim

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/mastership/mastership/devices"
)

// This file serves what switchover readiness (issue 16) reads beyond the
// RE table, alarms and redundancy configuration: every RE's release
// ("show version invoke-on all-routing-engines") and the routing task
// replication state ("show task replication"). A scenario device sets
// them with re_versions and replication (Device); GRES, NSR and commit
// synchronize come from its redundancy, a freshly booted backup from
// re_states up_time.

// ReplicationSpec is what "show task replication" says about the
// protocols, as a scenario gives it. Stateful replication itself follows
// the configuration: Enabled when graceful-switchover is configured.
type ReplicationSpec struct {
	// Protocols are the protocols whose state nonstop routing copies to
	// the backup, in the order shown; nil means OSPF, BGP and LDP.
	Protocols []string `yaml:"protocols,omitempty,flow"`
	// Incomplete are the protocols (of Protocols) not yet synchronized:
	// their status is "InProgress" instead of "Complete".
	Incomplete []string `yaml:"incomplete,omitempty,flow"`
}

func defaultReplicatedProtocols() []string { return []string{"OSPF", "BGP", "LDP"} }

// validReadiness checks a device's re_versions and replication.
func validReadiness(p string, d Device, bad func(string, string, ...any)) {
	names := reNames(d.Topology)
	for re, v := range d.REVersions {
		if !slices.Contains(names, re) {
			bad(p+".re_versions."+re, "no RE %q in topology %s (REs: %s)", re, d.Topology, strings.Join(names, ", "))
		}
		if v == "" || strings.ContainsAny(v, " \t\n/<>&\"") {
			bad(p+".re_versions."+re, "version %q is not a Junos release name", v)
		}
	}
	if d.Replication == nil {
		return
	}
	protos := d.Replication.Protocols
	if protos == nil {
		protos = defaultReplicatedProtocols()
	}
	for i, pr := range protos {
		if pr == "" || strings.ContainsAny(pr, " \t\n<>&\"") {
			bad(fmt.Sprintf("%s.replication.protocols[%d]", p, i), "protocol %q is not a protocol name", pr)
		}
	}
	for i, pr := range d.Replication.Incomplete {
		if !slices.Contains(protos, pr) {
			bad(fmt.Sprintf("%s.replication.incomplete[%d]", p, i), "protocol %q is not among the replicated protocols (%s)", pr, strings.Join(protos, ", "))
		}
	}
}

// reVersion is the release RE name runs.
func (r *Router) reVersion(name string) string {
	if v, ok := r.reVersions[name]; ok {
		return v
	}
	return r.version
}

// invokesOnAllREs reports whether a get-software-information body asks
// for every RE: <invoke-on>all-routing-engines</invoke-on>.
func invokesOnAllREs(body []byte) bool {
	return bytes.Contains(body, []byte("all-routing-engines"))
}

// renderSoftwareAllREs answers "show version invoke-on
// all-routing-engines" in the shape of the MX960 dual-RE capture: one
// <multi-routing-engine-item> per RE, named after it (re0, re1). REs that
// are not in the alive set do not answer and are left out. On
// multi-member routers (MX-VC, SRX cluster) the item names are the RE
// names ("member0-re1"), an inference: no capture of that form on those
// platforms exists.
func (r *Router) renderSoftwareAllREs(w *replyWriter) {
	model := strings.ToLower(r.model)
	w.open("multi-routing-engine-results", "")
	for _, st := range r.res {
		if !st.Present() || !(devices.RouteEngine{Status: st.Status, MastershipState: st.MastershipState}).Alive() {
			continue
		}
		v := r.reVersion(st.Name)
		w.open("multi-routing-engine-item", "")
		w.text("re-name", st.Name)
		w.open("software-information", "")
		w.text("host-name", r.hostname)
		w.text("product-model", model)
		w.text("product-name", model)
		w.text("junos-version", v)
		w.open("package-information", "")
		w.text("name", "junos")
		w.text("comment", "JUNOS Base OS boot ["+v+"]")
		w.close("package-information")
		w.close("software-information")
		w.close("multi-routing-engine-item")
	}
	w.close("multi-routing-engine-results")
}

// renderReplication answers "show task replication" from the master: the
// real capture's task-gres-state and task-re-mode, then, with nonstop
// routing configured, one row per protocol. The rows' element names are
// inferred (see devices/junos/replication.go): no real XML reply with
// rows is among the samples.
func (r *Router) renderReplication(w *replyWriter) {
	c := r.redundancy
	w.open("task-replication-state", "")
	w.text("task-gres-state", map[bool]string{true: "Enabled", false: "Disabled"}[c.GracefulSwitchover])
	w.text("task-re-mode", "Master")
	if c.GracefulSwitchover && c.NonstopRouting {
		protos := defaultReplicatedProtocols()
		var incomplete []string
		if r.replication != nil {
			if r.replication.Protocols != nil {
				protos = r.replication.Protocols
			}
			incomplete = r.replication.Incomplete
		}
		for _, p := range protos {
			status := "Complete"
			if slices.Contains(incomplete, p) {
				status = "InProgress"
			}
			w.open("task-protocol-replication", "")
			w.text("task-protocol-replication-name", p)
			w.text("task-protocol-replication-state", status)
			w.close("task-protocol-replication")
		}
	}
	w.close("task-replication-state")
}

// RPCCount returns how many times the router was asked op
// ("get-routing-task-replication-state") since it started, whatever the
// session: tests count what a poll sends.
func (r *Router) RPCCount(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rpcCounts[op]
}

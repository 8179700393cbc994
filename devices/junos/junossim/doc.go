// Package junossim simulates a fleet of Juniper routers that speak real
// NETCONF over SSH, for tests, `mastership demo`, benchmarks and the
// junossim command, the way net/http/httptest serves HTTP tests.
//
// A Router holds one router's state — Routing Engines, alarms, software —
// and answers the RPCs the agent sends with replies shaped like the real
// captures in junos-samples: the nc:rpc-reply envelope, release-stamped
// payload namespaces, junos:seconds and junos:celsius attributes with
// human text beside them, multi-routing-engine-results for MX Virtual
// Chassis and SRX clusters, no <?xml?> declaration and no CLI banner.
// Answered RPCs: get-route-engine-information, get-alarm-information,
// get-system-alarm-information, get-software-information and
// get-system-uptime-information; any other gets Junos' rpc-error.
//
// Time comes from an injected clock. A router's timeline of events is
// applied when an RPC (or an accessor) finds the clock past them, each at
// its own time, so a test advances a fake clock instead of sleeping, and a
// fleet of ten thousand routers needs no goroutine per router.
//
// A Fleet runs one netconftest server per router on loopback and writes the
// agent's inventory, a known_hosts file and a password file.
//
// # Scenario files
//
// A scenario is YAML. Unknown keys are errors, reported as file:line.
//
//	seed: 7                      # varies up-times and serial numbers
//	defaults:                    # used by devices that leave a field out
//	  version: 21.4R3-S5.4       # Junos release
//	  topology: dual             # single | dual | mx-vc | srx-cluster
//	  framing: "1.0"             # "1.0" (]]>]]>) | "1.1" (chunked)
//	  timezone: Europe/Amsterdam # zone of start-time/alarm-time text; UTC if unset
//	  site: ams1
//	  tags: [sim]
//	  faults: {latency: 20ms}    # replaced, not merged, by a device's faults
//	devices:
//	  - name: ams1-mx960-1       # letters, digits, . _ -; unique
//	    model: mx960
//	    tags: [sim, mx960]
//	    re_states:               # initial state per RE: re0, re1,
//	      re0:                   # member0-re0 .. member1-re1, node0, node1
//	        up_time: 240h
//	        last_reboot_reason: "0x1000:reboot due to panic"
//	      re1:
//	        status: absent       # absent = missing from the reply; or OK, Testing, Failed
//	        # mastership_state: backup
//	    alarms:
//	      - {class: Minor, type: Chassis, source: chassis,
//	         description: Loss of communication with Backup RE,
//	         short_description: Backup RE comm loss, set_after: -3h}
//	    events:                  # applied when the clock passes start + at
//	      - {at: 30s, kind: re-up, re: re1}                  # reason defaults to 0x1:power cycle/failure
//	      - {at: 35s, kind: alarm-clear, description: Loss of communication with Backup RE}
//	      - {at: 10m, kind: switchover}                       # re: either RE of the pair
//	      - {at: 20m, kind: reboot, re: re0, reason: "0x1000:reboot due to panic"}
//	      - {at: 30m, kind: re-down, re: re1, status: Failed} # status defaults to absent
//	      - {at: 31m, kind: alarm-set, class: Major, type: Chassis, description: PEM 1 Not Powered}
//	  - name: ams1-mx204-1
//	    topology: single
//	    model: mx204
//	    faults:
//	      refuse: false            # nothing listens: ECONNREFUSED
//	      reject_auth: false       # SSH authentication fails
//	      wrong_host_key: false    # known_hosts holds another key
//	      hang_after_hello: true   # hello, then silence
//	      stall_mid_reply: false   # replies stop half way
//	      silent_after_accept: false
//	      latency: 0s              # delay before each reply
//
// Alarm source is chassis (get-alarm-information, the default) or system
// (get-system-alarm-information). On mx-vc and srx-cluster routers an
// alarm belongs to one member (member: node1), by default the first.
// set_after is when the alarm is raised; zero or negative means active
// from the start with an alarm-time that long before it.
//
// Event kinds: switchover (master and backup of a pair swap), re-down (the
// RE leaves the reply, or shows status; a master hands over to its peer
// first), re-up (the RE comes back as backup, freshly booted), reboot (up-
// time restarts, last-reboot-reason changes; a master hands over first, as
// on the MX960 after its RE0 crashed), alarm-set and alarm-clear. Events do
// not raise symptom alarms by themselves: write the alarm-set beside the
// re-down, as real routers do it seconds later.
//
// An absent RE is left out of the reply rather than shown with an Absent
// status: MANIFEST pitfall 7 notes that a powered-off RE's slot can be
// missing entirely, and no capture shows a Routing Engine with status
// Absent. An SRX node or VC member whose REs are all absent is left out of
// multi-routing-engine-results too.
package junossim

// Scenario timezones must load on machines without a zoneinfo database.
import _ "time/tzdata"

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
// get-system-alarm-information, get-software-information,
// get-system-uptime-information (its current-time is the injected clock's
// now, or the router's own clock with clock: set: the agent dates year-less
// log lines by it), get-log and file-show
// (the router's log files, below), get-configuration (the redundancy
// part of the configuration), get-commit-information and, for switchover
// readiness, get-routing-task-replication-state and the invoke-on
// all-routing-engines form of get-software-information (readiness.go);
// any other gets Junos' rpc-error.
//
// Time comes from an injected clock. A router's timeline of events is
// applied when an RPC (or an accessor) finds the clock past them, each at
// its own time, so a test advances a fake clock instead of sleeping, and a
// fleet of ten thousand routers needs no goroutine per router.
//
// A Fleet runs one netconftest server per router on loopback and writes the
// agent's inventory, a known_hosts file and a password file.
//
// # Log files
//
// Each router keeps /var/log/messages and /var/log/mastership as growing
// lists of lines, written by its events in the shapes of the real samples
// (junos-samples/logs; logs.go names the file behind each shape), stamped
// in the router's time zone with no year:
//
//	messages:
//	Mar 19 10:40:00  ams1-mx960-1 chassisd[3498]: mcontrol_ore_alive_set: re1 removed from alive set (keepalive timeout)
//	Mar 19 10:40:20  ams1-mx960-1 alarmd[2030]: Alarm set: RE color=YELLOW, class=CHASSIS, reason=Loss of communication with Backup RE
//	Mar 19 10:40:20  ams1-mx960-1 craftd[1765]:  Minor alarm set, Loss of communication with Backup RE
//	mastership:
//	Mar 19 10:40:00 event = E_NO_ORE, state = master, param = 0x0
//	Mar 19 10:40:00 new state = master
//
// The craftd "set" line has two spaces after the colon, as three of the
// four real sources (MANIFEST pitfall 17). messages lines are
// "<time>  <host> <process>[<pid>]: <text>" with two
// spaces before the host (the router's name up to the first dot, or with
// re_hostnames the writing RE's "re1-<name>", as "groups re1 system
// host-name" makes real routers write) and
// "/kernel:" without a pid; mastership lines are "<time> <text>". Both
// files start with newsyslog's "logfile turned over" line, a day before the
// start (or an hour before the earliest event); lines older than that are
// not kept, and each file keeps at most log_max_lines lines (default 5000),
// dropping the oldest.
//
// <get-log><filename>messages</filename></get-log> and <file-show>
// <filename>/var/log/messages</filename></file-show> return
// <file-content filename="/var/log/messages" junos:seconds="<mtime>"
// filesize="<bytes>" encoding="text"> with the whole file (the agent tails
// it). get-log also takes "mastership" and rotated files ("messages.0.gz",
// shown decompressed, as "show log messages.0.gz" prints them); file-show
// wants the full path; any other name gets an rpc-error "could not
// resolve file: <name>". Rotated files are readable only with
// syslog_archive: world-readable; by default (Junos's no-world-readable,
// for a login without the maintenance permission) reading one answers an
// rpc-error access-denied "could not read /var/log/<file>: Permission
// denied" (the simulator's words: no public capture shows Junos's), or,
// with archive_refusal: could-not-resolve, as a missing file is answered.
// "file list detail" shows a rotated file with its gzip-compressed size.
//
// State changes write what the master's state machine writes in
// /var/log/mastership. The router keeps one mastership log and one
// messages log, the master's (the RE get-log reads), so every line is
// from the point of view of the RE that is master after the change: a
// backup lost, "event = E_NO_ORE, state = master" then "new state =
// master"; the master lost, the backup taking over with "E_NO_ORE, state
// = backup" then "new state = master"; an RE back, "E_ORE_B, state =
// master"; a switchover with both REs up, the new master's "E_ORE_B, state
// = backup" and "new state = master". These lines name no RE: "new state"
// is about the master the agent reads, E_NO_ORE and E_ORE_B about the other
// RE. State changes also write the project's own alive-set line in
// messages (no public sample shows one; the agent must not need it, and
// alive_set_log: false turns it
// off):
//
//	chassisd[<pid>]: mcontrol_ore_alive_set: <re> removed from alive set (keepalive timeout)
//	chassisd[<pid>]: mcontrol_ore_alive_set: <re> added to alive set
//
// where <re> is re0, re1, member1-re0 or node1. The reason is always
// "keepalive timeout", how the master notices: it is no evidence of a
// cause. A reboot shows in the RE table at once (up-time restarts at the
// event) while the logs show the RE leave then and rejoin two minutes
// later. Single-RE routers write no alive-set or mastership lines.
//
// Daemon pids are fixed per boot of the RE that logs (the master) and
// change when it reboots or another RE takes over; mgd, newsyslog and
// clear-log get a new pid each time.
//
// # Scenario files
//
// A scenario is YAML. Unknown keys are errors, reported as file:line.
//
//	seed: 7                      # varies up-times and serial numbers
//	start_time: 2025-03-19T09:00:00Z   # where a test's clock starts (ClockStart)
//	polls: [0s, 5m, 10m, 15m]    # offsets at which a test audits
//	defaults:                    # used by devices that leave a field out
//	  version: 21.4R3-S5.4       # Junos release
//	  topology: dual             # single | dual | mx-vc | ex-vc | srx-cluster
//	  framing: "1.0"             # "1.0" (]]>]]>) | "1.1" (chunked)
//	  timezone: Europe/Amsterdam # zone of start-time/alarm-time text; UTC if unset
//	  site: ams1
//	  tags: [sim]
//	  faults: {latency: 20ms}    # replaced, not merged, by a device's faults
//	  redundancy:                # merged field by field into each device's
//	    graceful_switchover: true
//	    keepalive_time: 300s     # 0s: not configured
//	    failover_on_loss_of_keepalives: true
//	    failover_on_disk_failure: false
//	    commit_synchronize: true
//	    nonstop_routing: true
//	  alive_set_log: true        # write mcontrol_ore_alive_set lines
//	  log_max_lines: 5000        # per log file
//	  re_hostnames: false        # true: syslog host re0-<name>, re1-<name>
//	devices:
//	  - name: ams1-mx960-1       # letters, digits, . _ -; unique
//	    model: mx960
//	    tags: [sim, mx960]
//	    clock:                   # its own clock (ClockSpec); default the true time
//	      offset: -5h            # its clock minus the true time
//	      steps: [{at: 12m, by: 1h}]                        # NTP steps it
//	      zones: [{at: 7m, timezone: America/Los_Angeles}]  # set system time-zone
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
//	      - {at: 30s, kind: re-up, re: re1}                  # reason defaults to a normal shutdown
//	      - {at: 35s, kind: alarm-clear, description: Loss of communication with Backup RE}
//	      - {at: 10m, kind: switchover}                       # re: either RE of the pair
//	      - {at: 20m, kind: reboot, re: re0, reason: "0x1000:reboot due to panic"}
//	      - {at: 30m, kind: re-down, re: re1, status: Failed} # status defaults to absent
//	      - {at: 31m, kind: alarm-set, class: Major, type: Chassis, description: PEM 1 Not Powered}
//	    expect:                  # what the agent should find by the last poll
//	      - {re: re1, cause: hardware, severity: critical}
//	  - name: ams1-mx960-2
//	    redundancy: {graceful_switchover: false}
//	    syslog_archive: world-readable  # default no-world-readable: archives refused
//	    events:                  # evidence and noise; at < 0: before the start
//	      - {at: -20m, kind: commit, user: jsmith, comment: maintenance, redundancy: {keepalive_time: 10s}}
//	      - {at: -5m, kind: panic, re: re1, text: page fault}   # reason 0x1000:reboot due to panic
//	      - {at: 1m, kind: fru, fru: FPC 1, action: offline, text: Error}
//	      - {at: 2m, kind: fru, fru: RE 1, action: over-temp, celsius: 92}
//	      - {at: 3m, kind: internal-link-flap, interface: em0, duration: 2s}
//	      - {at: 4m, kind: keepalive-loss, duration: 60s}
//	      - {at: 5m, kind: ipc-loss}
//	      - {at: 6m, kind: rdp-keepalive}
//	      - {at: 7m, kind: core-dump, process: rpd}
//	      - {at: 8m, kind: link-flap, interface: xe-0/0/0, duration: 5s}
//	      - {at: 9m, kind: rotate-logs, file: messages}
//	      - {at: 10m, kind: clear-log, file: mastership}
//	      - {at: 11m, kind: log, text: "rpd[2902]: RPD_ISIS_ADJUP: IS-IS new L2 adjacency to r2 on ge-0/0/1.0"}
//	      - {at: 12m, kind: replace-log, file: messages, keep: 40}  # an older, shorter copy
//	    expect: []               # healthy: no finding
//	  - name: ams1-mx204-1
//	    topology: single
//	    model: mx204
//	    faults:                    # see Faults below
//	      refuse: false            # nothing listens: ECONNREFUSED
//	      reject_auth: false       # SSH authentication fails
//	      wrong_host_key: false    # known_hosts holds another key
//	      silent_after_accept: false  # TCP accepted, SSH never starts
//	      stall_after_handshake: false  # SSH up, no hello
//	      hang_after_hello: true   # hello, then silence
//	      stall_mid_reply: false   # replies stop half way
//	      reset_mid_reply: false   # half a reply, then RST
//	      drip: 0s                 # 1s: replies at one byte per second
//	      split_delimiter: false   # replies in tiny writes
//	      malformed_xml: false
//	      invalid_utf8: false
//	      wrong_message_id: false
//	      huge_reply: 0            # 200MB, 64MiB, bytes, or true (200MB)
//	      loss: 0                  # probability a reply is never sent
//	      latency: 0s              # delay before each reply
//	      rtt: 0s                  # added round-trip time, every message
//	      rpc_error_on: ""         # get-alarm-information: that RPC fails
//	      backup_aborted: false    # mx-vc, srx-cluster: true or xnm-error
//
// Alarm source is chassis (get-alarm-information, the default) or system
// (get-system-alarm-information). On mx-vc and srx-cluster routers an
// alarm belongs to one member (member: node1), by default the first.
// set_after is when the alarm is raised; zero or negative means active
// from the start with an alarm-time that long before it.
//
// Event kinds that change state: switchover (master and backup of a pair
// swap), re-down (the RE leaves the reply, or shows status; a master hands
// over to its peer first), re-up (the RE comes back as backup, freshly
// booted), reboot (up-time restarts, last-reboot-reason changes; a master
// hands over first, as on the MX960 after its RE0 crashed), panic (the
// kernel's "/kernel: panic: <text>" line, then a reboot with reason
// 0x1000:reboot due to panic), alarm-set and alarm-clear (with alarmd's
// and craftd's lines), commit (mgd's UI_COMMIT and, 3 s later,
// UI_COMMIT_COMPLETED; user defaults to luke and comment to "none" as in
// the samples; redundancy changes the configuration field by field). Events
// do not raise symptom alarms by themselves: write the alarm-set beside the
// re-down, as real routers do it seconds later.
//
// Event kinds that only write lines: fru (chassisd's
// CHASSISD_FRU_OFFLINE_NOTICE and CHASSISD_SNMP_TRAP7/TRAP10 for a PEM, FPC,
// Fan Tray, CB or RE as fpc-fru.log; for an RE also warm-temp, over-temp
// and shutdown, the CHASSISD_RE_* templates, which set the RE table's
// temperature), internal-link-flap (kernel "em0: Link is Down", then "Link
// is up 100 Mbps Half Duplex", with mib2d's SNMP_TRAP_LINK_DOWN/UP ifName
// em0, as KB13389), keepalive-loss (mastership "failed to receive
// keepalives from other RE for the last 20|40|60 sec", one line per 20 s of
// duration), ipc-loss ("event = E_NO_IPC, state = master"), rdp-keepalive
// ("/kernel: %KERN-3: rdp keepalive expired, connection dropped - ..."),
// core-dump, link-flap (a revenue port's SNMP_TRAP_LINK_DOWN/UP),
// rotate-logs (messages becomes messages.0.gz, older ones move up, three
// are kept; the new file starts "<time> <host> newsyslog[pid]: logfile
// turned over"), clear-log (the file is replaced by "<time>
// clear-log[pid]: logfile cleared"), replace-log (the file is replaced by
// its own first keep lines, an older and shorter copy starting with the
// same line; keep is required) and log (text written as is after the
// time and host). No public capture shows dumpd's line; the simulator
// writes "dumpd[<pid>]: Core and context for <process> saved in
// /var/tmp/<process>.core-tarball.<n>.tgz" (the shape devices/junos/RULES.md
// defines), and an agent should match it loosely (process name, "core").
//
// An event at a negative offset is a story that happened before the start;
// it is applied, at its own time, on the first look at the router, and its
// lines are in the logs from the start.
//
// # Faults
//
// A device's faults make it misbehave as real routers and networks do;
// each is tested end to end in schedule/faults_test.go, which names the
// outcome the agent must classify (docs/operations.md). Connection
// faults apply to new connections, reply faults to every reply (the one to
// close-session included, never the hello); Fleet.SetFaults changes them,
// and the RPC faults, at run time, all but refuse and wrong_host_key.
//
//	refuse                 nothing listens; connect gets ECONNREFUSED      refused
//	reject_auth            every authentication fails                      auth
//	wrong_host_key         known_hosts holds another key                   hostkey
//	silent_after_accept    TCP is accepted, SSH never starts               timeout
//	stall_after_handshake  SSH and auth succeed, the netconf subsystem
//	                       starts, no hello is ever sent                   timeout
//	hang_after_hello       hello, then no RPC is answered                  timeout
//	stall_mid_reply        half of each reply, then nothing                timeout
//	reset_mid_reply        half of the reply, then the TCP connection is
//	                       reset (SO_LINGER 0: RST, not FIN)               protocol
//	drip: 1s               replies written one byte per interval           timeout
//	split_delimiter        replies in many small writes, every framing
//	                       delimiter byte (]]>]]>, base:1.1 chunk headers
//	                       in 61-byte chunks, \n##\n) in a write of its own ok
//	malformed_xml          an element opened after <rpc-reply>, never
//	                       closed                                          protocol
//	invalid_utf8           0xE9 0xFF at the start of the first text        protocol
//	wrong_message_id       the previous request's message-id (the first
//	                       request's own with "0" appended)                protocol
//	huge_reply: 200MB      every RPC answered with a well-formed reply of
//	                       that size, generated as it is written (32 KiB
//	                       held), over the client's limit                 too-large
//	loss: 0.5              each reply dropped with that probability        timeout (or partial)
//	latency: 50ms          each reply delayed                              ok below the deadline
//	rtt: 50ms              a WAN link: every message, both directions, the
//	                       SSH handshake included, delayed by half of it
//	                       each way, in order (TCP's SYN exchange is not)  ok below the deadline
//	rpc_error_on: <rpc>    that RPC answers <rpc-error>, others normally   partial (rpc-error)
//	backup_aborted         the members after the first answer with an
//	                       error instead of data                           ok or partial (rpc-error)
//
// Which replies loss drops depends only on the scenario seed, the device
// name and the session's number on the device, so a test sees the same
// losses every run. A dropped reply is handled (the timeline advances) and
// never sent, and the session goes on.
//
// backup_aborted needs an mx-vc or srx-cluster router: every
// multi-routing-engine reply (RE table, alarms, software, uptime) then
// carries the first member's data and, in each other member's item, what
// a member that will not answer says. backup_aborted: true (or output)
// writes the real capture's <output>Aborted! This command can only be used
// on the master routing engine.</output>
// (get-chassis-inventory.error-not-master-output.pyez.xml);
// backup_aborted: xnm-error writes an <xnm:error> in the shape of the real
// capture (get-route-engine-information.error-olive-xnm-error.pyez.xml:
// the xnm 1.1 namespace, a <message>) with the simulator's own message,
// "routing engine not responding (junossim fault backup_aborted)": no
// public capture shows what Junos says for a member it cannot reach. A
// dual-RE chassis answers for both REs from the master's chassisd, without
// members, so it has no such reply.
//
// rpc_error_on answers the named RPC with <rpc-error> (protocol,
// operation-failed, bad-element the RPC, message "junossim: fault
// rpc_error_on: <rpc> failed"). Naming get-log makes the agent fall back
// to file-show.
//
// # Driving a scenario in a test
//
// The testdata/scenarios files each tell one story (a comment at the top
// says which), with the findings the agent should report under expect.
// A test starts a Clock at ClockStart, runs the fleet on it, and audits at
// each of polls:
//
//	sc, _ := junossim.LoadScenario(path)
//	clock := junossim.NewClock(sc.ClockStart())
//	fleet, _ := junossim.Start(ctx, sc, junossim.Options{Clock: clock.Now})
//	for _, p := range sc.Polls {
//		clock.Set(sc.ClockStart().Add(p))
//		// audit the fleet, with the agent's own clock reading clock.Now
//	}
//	// compare the findings per device with Device.Expect: {re, cause, severity}
//
// An absent RE is left out of the reply rather than shown with an Absent
// status: MANIFEST pitfall 7 notes that a powered-off RE's slot can be
// missing entirely, and no capture shows a Routing Engine with status
// Absent. An SRX node or VC member whose REs are all absent is left out of
// multi-routing-engine-results too.
//
// # Imports
//
// The simulator is the one package of devices that imports netconf: it
// serves its routers through netconf/netconftest, the NETCONF-over-SSH
// test server. That is the only import across the tree's layers, and it
// is allowed because junossim is a test fixture (used by tests, the demo
// and the bench), never a dependency of the agent's own packages.
package junossim

// Scenario timezones must load on machines without a zoneinfo database.
import _ "time/tzdata"

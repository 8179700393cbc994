package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// agent names the process that began a run: host, boot and process ID, as
// "host/boot/pid". A run left unfinished by an agent that is gone (killed,
// crashed, the machine rebooted) can then be told from one still going —
// another agent's, or another command's on the same database.
type agent struct {
	host, boot string
	pid        int
	// instance is random per opened store. Host, boot and PID tell a live
	// process from a dead one; they do not tell agents apart: two stores
	// opened by one process, or two containers on one kernel that share a
	// hostname and both run as PID 1, look alike. Claims need that.
	instance string
}

// thisAgent describes the current process.
func thisAgent() agent {
	host, _ := os.Hostname() // empty on error: such runs are never judged dead
	var nonce [8]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails on supported platforms
	return agent{host: host, boot: bootID(), pid: os.Getpid(), instance: hex.EncodeToString(nonce[:])}
}

// claimant names this agent in poll claims: the process and the store
// instance, so that no two agents can mistake each other's claim for
// their own.
func (a agent) claimant() string { return a.String() + "/" + a.instance }

func (a agent) String() string {
	return fmt.Sprintf("%s/%s/%d", a.host, a.boot, a.pid)
}

func parseAgent(s string) (agent, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return agent{}, false
	}
	pid, err := strconv.Atoi(parts[2])
	if err != nil || pid <= 0 {
		return agent{}, false
	}
	return agent{host: parts[0], boot: parts[1], pid: pid}, true
}

// gone reports whether the agent a, as seen from the agent me, surely no
// longer runs: it ran on this host and either the host has rebooted since
// or its process is gone. Agents of other hosts are never judged (that is
// for leases shared through the database), nor is anything unsure.
func (me agent) gone(a agent) bool {
	if a.host == "" || a.host != me.host {
		return false
	}
	if a.boot != "" && me.boot != "" && a.boot != me.boot {
		return true
	}
	if a.pid == me.pid {
		return false
	}
	return !processAlive(a.pid)
}

// bootID is Linux's random ID of this boot, empty elsewhere.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

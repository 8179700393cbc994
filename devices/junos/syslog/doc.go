// Package syslog reads the log files a Junos router keeps: the syslog
// files under /var/log (messages, and files an operator configured) and
// /var/log/mastership, which the chassis daemon writes in its own shape.
//
// ParseLine splits one line into its time, host, process, tag and message
// in every shape the real captures show (classic BSD syslog without a
// year, structured-data, ISO timestamps, PFE component prefixes). Lines
// without a year are dated against the device's own clock (DeviceClock),
// never the agent's. TakeNewLines finds, in a file read again, the lines
// past the cursor the previous poll left, and recognises a rotated or
// truncated file by the fingerprints the cursor keeps.
//
// The package does no I/O and keeps no state: it is pure, and each
// function is fuzzed.
package syslog

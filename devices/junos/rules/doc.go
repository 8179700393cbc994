// Package rules gives Junos log lines their meaning: the alive-set,
// mastership, keepalive, IPC, alarm, FRU, link, commit, core dump and
// panic events that devices/correlate reasons about.
//
// A rule matches a parsed line (see devices/junos/syslog) on its message,
// tag, process and facility with RE2 regular expressions, and fills the
// event's RE, change and subject from named groups through templates. The
// built-in rules (rules_builtin.yaml) come from real captures; an operator's
// rule file replaces them or, with "extends: builtin", runs before them.
// Rule files are read through devices/strictyaml, so every mistake is
// reported with its file, line and field.
package rules

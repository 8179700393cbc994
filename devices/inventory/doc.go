// Package inventory reads the fleet's inventory file: which routers to
// poll, how to reach them (port, jump hosts, ssh_config) and how to log in.
//
// A device inherits the file's defaults, then each of its groups in
// order, then its own fields, so code that dials or schedules sees only
// resolved Devices. The file is read through devices/strictyaml: unknown
// keys, wrong kinds and bad values are all reported at once, each with
// its file, line and field.
//
// The inventory holds where secrets are (an environment variable, a
// file), never the secrets: Auth.Password and Auth.Passphrase read them at
// each call as devices.Secret, which prints as <secret>. Jump host strings
// use OpenSSH's ProxyJump syntax, which netconf parses.
package inventory

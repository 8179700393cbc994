// Package junos turns Junos NETCONF replies into the devices model. It
// does no I/O: the netconf package sends the request bodies below and hands
// the raw reply bytes to the Decode functions, which are pure and safe for
// concurrent use.
//
// The decoders are deliberately lenient about the envelope and strict about
// the data. A reply may be a whole <rpc-reply> (prefixed nc:rpc-reply or
// not), a bare payload element (napalm-style captures, collector
// fragments), and may wrap its payload in
// <multi-routing-engine-results> (virtual chassis, SRX clusters, TX Matrix,
// "invoke-on all-routing-engines"). Elements and attributes are matched by
// local name only, because Junos puts its release number in every namespace
// URI and some captures strip or leave undeclared the junos: prefix. Values
// that are present but malformed (a slot that is not a number, a
// junos:seconds that is not an integer) are errors, not zeros: a wrong RE
// name or up-time would invent reboots and switchovers downstream.
package junos

// Request bodies for the RPCs this package decodes. Each goes inside
// <rpc>…</rpc>; the matching decoder reads the reply.
const (
	// RPCRouteEngine is "show chassis routing-engine"; see DecodeRouteEngines.
	RPCRouteEngine = "<get-route-engine-information/>"
	// RPCChassisAlarms is "show chassis alarms"; see DecodeAlarms with
	// devices.AlarmChassis.
	RPCChassisAlarms = "<get-alarm-information/>"
	// RPCSystemAlarms is "show system alarms"; see DecodeAlarms with
	// devices.AlarmSystem.
	RPCSystemAlarms = "<get-system-alarm-information/>"
	// RPCSoftware is "show version"; see DecodeSoftware.
	RPCSoftware = "<get-software-information/>"
	// RPCSystemUptime is "show system uptime"; see DecodeSystemUptime.
	RPCSystemUptime = "<get-system-uptime-information/>"
)

package junos

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// routeEngineInformation is <route-engine-information>.
type routeEngineInformation struct {
	RouteEngines []routeEngineXML `xml:"route-engine"`
	inlineErrors
}

// hasData is false for an element without a single <route-engine>: a
// device always has one, so an empty table is an answer without data, not
// a device whose REs are all gone.
func (r routeEngineInformation) hasData() bool { return len(r.RouteEngines) > 0 }

// routeEngineXML is one <route-engine>. Elements the agent does not use
// (CPU and memory figures, load averages) are not decoded.
type routeEngineXML struct {
	Slot               string     `xml:"slot"`
	MastershipState    string     `xml:"mastership-state"`
	MastershipPriority string     `xml:"mastership-priority"`
	Status             string     `xml:"status"`
	Model              string     `xml:"model"`
	SerialNumber       string     `xml:"serial-number"`
	StartTime          junosValue `xml:"start-time"`
	UpTime             junosValue `xml:"up-time"`
	LastRebootReason   string     `xml:"last-reboot-reason"`
	Temperature        junosValue `xml:"temperature"`
	CPUTemperature     junosValue `xml:"cpu-temperature"`
}

// DecodeRouteEngines decodes a reply to RPCRouteEngine into one
// RouteEngine per Routing Engine, in the order the device listed them.
//
// Names follow docs/domain.md. A plain reply gives "re<slot>" ("re0" when the
// single RE reports no slot). In a multi-routing-engine reply the item's
// re-name goes first: "member0-re1", "node1-re0", and "node0" for an SRX
// cluster node without a slot. Item names that already end in -reN (TX
// Matrix "lcc0-re0", "scc-re0", node slicing "gnf1-re1") stand for the
// whole chassis, so the suffix is replaced by the reported slot. Items
// named "re0"/"re1" (invoke-on all-routing-engines) and "localre" (a
// single-member EX virtual chassis) add no prefix. When several items
// report the same RE, the one whose item name is the RE's own name wins,
// else the first: an RE is the best witness of its own state.
//
// A reply without any <route-engine> (only <output>, an <xnm:error>, ...)
// is a *NoDataError; malformed XML or a malformed value is an error naming
// the RE.
func DecodeRouteEngines(reply []byte) ([]devices.RouteEngine, error) {
	return routeEngines(decodeReplyFast[routeEngineInformation](reply, routeEngineElement))
}

// decodeRouteEnginesXML is DecodeRouteEngines on encoding/xml alone: the
// reference its fast path is held to.
func decodeRouteEnginesXML(reply []byte) ([]devices.RouteEngine, error) {
	return routeEngines(decodeReply[routeEngineInformation](reply, routeEngineElement))
}

const routeEngineElement = "route-engine-information"

// routeEngines is DecodeRouteEngines once the sections are found.
func routeEngines(sections []section[routeEngineInformation], err error) ([]devices.RouteEngine, error) {
	const element = routeEngineElement
	partial, err := memberErrorOf(err)
	if err != nil {
		return nil, err
	}
	var out []devices.RouteEngine
	index := make(map[string]int)
	for _, s := range sections {
		for _, x := range s.data.RouteEngines {
			re, err := x.routeEngine(s.member)
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", element, err)
			}
			i, seen := index[re.Name]
			switch {
			case !seen:
				index[re.Name] = len(out)
				out = append(out, re)
			case re.Member == re.Name && out[i].Member != out[i].Name:
				out[i] = re
			}
		}
	}
	return out, partial.orNil()
}

// routeEngine converts one <route-engine> reported under the
// multi-routing-engine item member ("" in a plain reply).
func (x routeEngineXML) routeEngine(member string) (devices.RouteEngine, error) {
	re := devices.RouteEngine{
		Member:             member,
		MastershipState:    strings.TrimSpace(x.MastershipState),
		MastershipPriority: strings.TrimSpace(x.MastershipPriority),
		Status:             strings.TrimSpace(x.Status),
		Model:              strings.TrimSpace(x.Model),
		Serial:             strings.TrimSpace(x.SerialNumber),
		LastRebootReason:   strings.TrimSpace(x.LastRebootReason),
	}
	slot, err := parseSlot(x.Slot)
	if err != nil {
		return re, fmt.Errorf("%sroute-engine: %w", memberPrefix(member), err)
	}
	re.Slot = slot
	re.Name = reName(member, slot)
	if re.StartTime, err = x.StartTime.timestamp(); err != nil {
		return re, fmt.Errorf("%s start-time: %w", re.Name, err)
	}
	if re.UpTime, err = upTime(x.UpTime); err != nil {
		return re, fmt.Errorf("%s up-time: %w", re.Name, err)
	}
	if re.TemperatureC, err = x.Temperature.celsius(); err != nil {
		return re, fmt.Errorf("%s temperature: %w", re.Name, err)
	}
	if re.CPUTemperatureC, err = x.CPUTemperature.celsius(); err != nil {
		return re, fmt.Errorf("%s cpu-temperature: %w", re.Name, err)
	}
	return re, nil
}

// parseSlot returns nil for an absent or blank <slot>: single-RE platforms
// (MX80, vMX vmhost, SRX nodes) report none.
func parseSlot(s string) (*int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := parseCount(s, math.MaxInt32)
	if err != nil {
		return nil, fmt.Errorf("slot %q: %w", s, err)
	}
	slot := int(n)
	return &slot, nil
}

// reName names the RE in slot (nil when not reported) of the
// multi-routing-engine item member; see DecodeRouteEngines for the rules.
func reName(member string, slot *int) string {
	re := "re0"
	if slot != nil {
		re = "re" + strconv.Itoa(*slot)
	}
	switch {
	case member == "" || member == "localre":
		return re
	case slot == nil:
		return member
	case isREName(member):
		return re
	}
	if i := strings.LastIndex(member, "-re"); i > 0 && isREName(member[i+1:]) {
		member = member[:i]
	}
	return member + "-" + re
}

// isREName reports whether s is "re" followed by a slot number.
func isREName(s string) bool {
	digits, ok := strings.CutPrefix(s, "re")
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// upTime prefers junos:seconds. Only a reply without it (a hand-made
// sample, a collector that dropped attributes) has its text parsed.
func upTime(v junosValue) (*time.Duration, error) {
	d, ok, err := v.duration()
	if err != nil {
		return nil, err
	}
	if !ok {
		text := strings.TrimSpace(v.Text)
		if text == "" {
			return nil, nil
		}
		if d, err = parseUpTimeText(text); err != nil {
			return nil, err
		}
	}
	return &d, nil
}

// parseUpTimeText parses the CLI form of an RE up-time: comma-separated
// "<n> <unit>" parts where any unit may be missing ("9 days, 22 hours, 27
// minutes, 12 seconds", "16 hours, 52 minutes", "267 days, 48 minutes, 40
// seconds", "1 day, 1 hour").
func parseUpTimeText(s string) (time.Duration, error) {
	var total time.Duration
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Fields(part)
		if len(f) != 2 {
			return 0, fmt.Errorf("text %q: want \"N days, N hours, N minutes, N seconds\"", s)
		}
		unit, ok := upTimeUnit(f[1])
		if !ok {
			return 0, fmt.Errorf("text %q: unknown unit %q", s, f[1])
		}
		n, err := parseCount(f[0], math.MaxInt64/int64(unit))
		if err != nil {
			return 0, fmt.Errorf("text %q: %q: %w", s, f[0], err)
		}
		d := time.Duration(n) * unit
		if d > math.MaxInt64-total {
			return 0, fmt.Errorf("text %q: out of range", s)
		}
		total += d
	}
	return total, nil
}

func upTimeUnit(word string) (time.Duration, bool) {
	switch strings.TrimSuffix(word, "s") {
	case "week":
		return 7 * 24 * time.Hour, true
	case "day":
		return 24 * time.Hour, true
	case "hour":
		return time.Hour, true
	case "minute":
		return time.Minute, true
	case "second":
		return time.Second, true
	}
	return 0, false
}

package junos

import (
	"fmt"
	"strings"
	"time"
)

// SystemUptime is what <get-system-uptime-information/> says about the
// clock of the RE (or multi-routing-engine member) that answered. Times
// are UTC, taken from junos:seconds; the text forms ("4w5d 14:59",
// "1:11PM", local zone abbreviations) are never parsed.
type SystemUptime struct {
	// Member is the multi-routing-engine item's re-name ("localre",
	// "node0", ...), empty for a plain reply.
	Member string
	// CurrentTime is the device's clock when it answered: what syslog
	// lines without a year are dated against. Always set.
	CurrentTime time.Time
	// TimeSource is "NTP CLOCK", "LOCAL CLOCK", ...; empty when absent.
	TimeSource string
	// BootTime is when the system booted, nil when absent.
	BootTime *time.Time
	// ProtocolsStarted is when the routing protocols started, nil when
	// absent.
	ProtocolsStarted *time.Time
	// LastConfigured is the last commit, nil when absent (never committed)
	// and LastConfiguredBy the user who made it.
	LastConfigured   *time.Time
	LastConfiguredBy string
	// UpTime is uptime-information/up-time, nil when absent.
	UpTime *time.Duration
	// Location is the device's time zone at CurrentTime, as a fixed offset
	// named by the zone abbreviation Junos printed ("PDT", "CET"): the
	// offset between the wall-clock text and junos:seconds. Syslog lines
	// are written in this zone with no offset of their own. UTC when the
	// text gives nothing to compare.
	Location *time.Location
}

// systemUptimeInformation is <system-uptime-information>.
type systemUptimeInformation struct {
	CurrentTime      junosValue `xml:"current-time>date-time"`
	TimeSource       string     `xml:"time-source"`
	BootTime         junosValue `xml:"system-booted-time>date-time"`
	ProtocolsStarted junosValue `xml:"protocols-started-time>date-time"`
	LastConfigured   junosValue `xml:"last-configured-time>date-time"`
	LastConfiguredBy string     `xml:"last-configured-time>user"`
	// ReplyTime is the same instant as CurrentTime, shown as "1:11PM"; it
	// stands in when current-time is missing.
	ReplyTime junosValue `xml:"uptime-information>date-time"`
	UpTime    junosValue `xml:"uptime-information>up-time"`
	inlineErrors
}

// hasData is true when the element tells the device's current time, the
// one thing a caller cannot do without.
func (s systemUptimeInformation) hasData() bool { return s.currentTime().Seconds != "" }

func (s systemUptimeInformation) currentTime() junosValue {
	if strings.TrimSpace(s.CurrentTime.Seconds) != "" {
		return s.CurrentTime
	}
	if strings.TrimSpace(s.ReplyTime.Seconds) != "" {
		return s.ReplyTime
	}
	return junosValue{}
}

// DecodeSystemUptime decodes a reply to RPCSystemUptime. In a
// multi-routing-engine reply it returns the first member that reported its
// current time: members of one system keep their clocks in step, and the
// caller needs one "now" to date log lines by.
//
// A reply without a current time (only <output>, an <xnm:error>, ...) is a
// *NoDataError; malformed XML or a malformed junos:seconds is an error.
func DecodeSystemUptime(reply []byte) (SystemUptime, error) {
	return systemUptime(decodeReplyFast[systemUptimeInformation](reply, uptimeElement))
}

// decodeSystemUptimeXML is DecodeSystemUptime on encoding/xml alone: the
// reference its fast path is held to.
func decodeSystemUptimeXML(reply []byte) (SystemUptime, error) {
	return systemUptime(decodeReply[systemUptimeInformation](reply, uptimeElement))
}

const uptimeElement = "system-uptime-information"

// systemUptime is DecodeSystemUptime once the sections are found.
func systemUptime(sections []section[systemUptimeInformation], err error) (SystemUptime, error) {
	const element = uptimeElement
	partial, err := memberErrorOf(err)
	if err != nil {
		return SystemUptime{}, err
	}
	s := sections[0]
	u, err := s.data.systemUptime(s.member)
	if err != nil {
		return SystemUptime{}, fmt.Errorf("decode %s: %s%w", element, memberPrefix(s.member), err)
	}
	return u, partial.orNil()
}

func (x systemUptimeInformation) systemUptime(member string) (SystemUptime, error) {
	u := SystemUptime{
		Member:           member,
		TimeSource:       strings.TrimSpace(x.TimeSource),
		LastConfiguredBy: strings.TrimSpace(x.LastConfiguredBy),
	}
	now, err := x.currentTime().timestamp()
	if err != nil {
		return u, fmt.Errorf("current-time: %w", err)
	}
	u.CurrentTime = *now
	u.Location = deviceZone(x.CurrentTime.Text, *now)
	if u.BootTime, err = x.BootTime.timestamp(); err != nil {
		return u, fmt.Errorf("system-booted-time: %w", err)
	}
	if u.ProtocolsStarted, err = x.ProtocolsStarted.timestamp(); err != nil {
		return u, fmt.Errorf("protocols-started-time: %w", err)
	}
	if u.LastConfigured, err = x.LastConfigured.timestamp(); err != nil {
		return u, fmt.Errorf("last-configured-time: %w", err)
	}
	d, ok, err := x.UpTime.duration()
	if err != nil {
		return u, fmt.Errorf("up-time: %w", err)
	}
	if ok {
		u.UpTime = &d
	}
	return u, nil
}

// deviceZone reads the device's UTC offset from current-time's text
// ("2017-06-29 16:59:47 PDT") against the same instant in UTC. Abbreviations
// are ambiguous (CST, IST), so the offset is computed, never looked up.
// Offsets are whole quarter hours; anything else means the text is not the
// same instant (or not a time) and UTC is safer.
func deviceZone(text string, now time.Time) *time.Location {
	fields := strings.Fields(text)
	if len(fields) < 2 {
		return time.UTC
	}
	wall, err := time.Parse("2006-01-02 15:04:05", fields[0]+" "+fields[1])
	if err != nil {
		return time.UTC
	}
	offset := wall.Sub(now.UTC().Truncate(time.Second))
	if offset%(15*time.Minute) != 0 || offset > 14*time.Hour || offset < -12*time.Hour {
		return time.UTC
	}
	name := "UTC"
	if len(fields) > 2 {
		name = fields[2]
	}
	if offset == 0 && name == "UTC" {
		return time.UTC
	}
	return time.FixedZone(name, int(offset.Seconds()))
}

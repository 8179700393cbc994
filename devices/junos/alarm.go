package junos

import (
	"fmt"
	"strings"

	"github.com/mastership/mastership/devices"
)

// alarmInformation is <alarm-information>, the answer to both
// RPCChassisAlarms and RPCSystemAlarms.
type alarmInformation struct {
	Summary *alarmSummary    `xml:"alarm-summary"`
	Details []alarmDetailXML `xml:"alarm-detail"`
	inlineErrors
}

// alarmSummary is decoded only to know it was there: its
// active-alarm-count is not trusted (captures exist with a count of 2 and
// one alarm-detail), the details are counted instead.
type alarmSummary struct{}

// hasData is true when the device listed alarms or summarised them; an
// <alarm-summary><no-active-alarms/></alarm-summary> is the normal "no
// alarms" answer and is data.
func (a alarmInformation) hasData() bool { return a.Summary != nil || len(a.Details) > 0 }

type alarmDetailXML struct {
	Time             junosValue `xml:"alarm-time"`
	Class            string     `xml:"alarm-class"`
	Description      string     `xml:"alarm-description"`
	ShortDescription string     `xml:"alarm-short-description"`
	Type             string     `xml:"alarm-type"`
}

// DecodeAlarms decodes a reply to RPCChassisAlarms (src
// devices.AlarmChassis) or RPCSystemAlarms (src devices.AlarmSystem) into
// one Alarm per <alarm-detail>, in the device's order, each tagged with src
// and, in a multi-routing-engine reply, the item's re-name as Member.
//
// <no-active-alarms/> gives an empty, non-nil slice and no error. Time
// comes from alarm-time junos:seconds (UTC) and is zero when the attribute
// is absent. Alarms are not deduplicated: the same alarm in both tables is
// devices.DedupeAlarms' business.
//
// A reply without an <alarm-information> that says anything is a
// *NoDataError; malformed XML or a malformed alarm-time is an error.
func DecodeAlarms(reply []byte, src devices.AlarmSource) ([]devices.Alarm, error) {
	sections, err := decodeReplyFast[alarmInformation](reply, alarmElement)
	return alarms(sections, err, src)
}

// decodeAlarmsXML is DecodeAlarms on encoding/xml alone: the reference
// its fast path is held to.
func decodeAlarmsXML(reply []byte, src devices.AlarmSource) ([]devices.Alarm, error) {
	sections, err := decodeReply[alarmInformation](reply, alarmElement)
	return alarms(sections, err, src)
}

const alarmElement = "alarm-information"

// alarms is DecodeAlarms once the sections are found.
func alarms(sections []section[alarmInformation], err error, src devices.AlarmSource) ([]devices.Alarm, error) {
	const element = alarmElement
	partial, err := memberErrorOf(err)
	if err != nil {
		return nil, err
	}
	out := []devices.Alarm{}
	for _, s := range sections {
		for i, x := range s.data.Details {
			a, err := x.alarm(src, s.member)
			if err != nil {
				return nil, fmt.Errorf("decode %s: %s: %w", element, detailName(s.member, i), err)
			}
			out = append(out, a)
		}
	}
	return out, partial.orNil()
}

func (x alarmDetailXML) alarm(src devices.AlarmSource, member string) (devices.Alarm, error) {
	a := devices.Alarm{
		Source:           src,
		Member:           member,
		Class:            strings.TrimSpace(x.Class),
		Type:             strings.TrimSpace(x.Type),
		Description:      strings.TrimSpace(x.Description),
		ShortDescription: strings.TrimSpace(x.ShortDescription),
	}
	t, err := x.Time.timestamp()
	if err != nil {
		return a, fmt.Errorf("alarm-time: %w", err)
	}
	if t != nil {
		a.Time = *t
	}
	return a, nil
}

// detailName says which alarm-detail an error is about, counting from 1
// as a person reading the reply would.
func detailName(member string, i int) string {
	return withMember(member, fmt.Sprintf("alarm-detail %d", i+1))
}

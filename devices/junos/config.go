package junos

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// RPCRedundancyConfig asks for the configuration statements that decide
// how a device's REs fail over; see DecodeRedundancyConfig.
//
// Two attributes go beyond a plain filter, both for correctness:
// database="committed" reads the configuration in effect, not the
// candidate, which holds whatever someone is editing and has not committed
// (Junos' default for get-configuration is the candidate); inherit="inherit"
// expands configuration groups, so that "set groups re0 chassis redundancy
// graceful-switchover" plus apply-groups is seen as configured, which it
// is.
const RPCRedundancyConfig = `<get-configuration database="committed" inherit="inherit">` +
	`<configuration>` +
	`<chassis><redundancy/></chassis>` +
	`<system><commit><synchronize/></commit></system>` +
	`<routing-options><nonstop-routing/></routing-options>` +
	`</configuration>` +
	`</get-configuration>`

// maxKeepaliveTime bounds chassis redundancy keepalive-time. Junos
// accepts 2 to 10,000 seconds; a larger value is not a configuration but
// a garbled reply.
const maxKeepaliveTime = 10000

// configNode is one element of a Junos XML configuration, kept generic:
// the decoder walks paths and needs each element's inactive mark.
type configNode struct {
	// XMLName records the element's name; ",any" children keep it only
	// this way. Only its local part is used.
	XMLName xml.Name
	// Inactive is "inactive" on a deactivated statement ("deactivate
	// chassis redundancy graceful-switchover"): it is in the configuration
	// but not in effect, nor is anything under it.
	Inactive string       `xml:"inactive,attr"`
	Text     string       `xml:",chardata"`
	Children []configNode `xml:",any"`
}

// configuration is the <configuration> element of a reply. It does not
// embed configNode: encoding/xml panics on an XMLName reached through an
// embedded unexported struct.
type configuration struct {
	Children []configNode `xml:",any"`
	inlineErrors
}

// hasData is true for any <configuration>, even an empty one: Junos
// answers a filter that matches nothing with an empty <configuration>, and
// that means "none of this is configured". Only an element that holds
// nothing but an error is not an answer.
func (c configuration) hasData() bool {
	return len(c.Errors) == 0 || len(c.Children) > 0
}

// child returns the first active child called name, nil if none.
func (n *configNode) child(name string) *configNode {
	for i := range n.Children {
		c := &n.Children[i]
		if c.XMLName.Local == name && c.Inactive == "" {
			return c
		}
	}
	return nil
}

// path follows names down through active elements.
func (n *configNode) path(names ...string) *configNode {
	for _, name := range names {
		if n = n.child(name); n == nil {
			return nil
		}
	}
	return n
}

// DecodeRedundancyConfig decodes a reply to RPCRedundancyConfig.
//
// Junos leaves out what is not configured, so every setting is off (and
// KeepaliveTime 0) unless its element is present; an empty
// <configuration/> is a device with none of them, Known true. Deactivated
// statements (inactive="inactive", on the statement or any element above
// it) are not in effect and count as absent. Elements are matched by local
// name; <routing-engine> and other redundancy statements are ignored. When
// a reply holds several <configuration> elements, the first is used.
//
// A reply without a <configuration> — an empty <rpc-reply/>, only <ok/>,
// an <rpc-error> or <xnm:error> — is a *NoDataError and Known false: "the
// device said nothing" must not read as "nothing configured", which would
// make the device differ from its fleet. A keepalive-time that is not a
// number of seconds from 1 to 10,000 is an error.
func DecodeRedundancyConfig(reply []byte) (devices.RedundancyConfig, error) {
	const element = "configuration"
	sections, err := decodeReply[configuration](reply, element)
	partial, err := memberErrorOf(err)
	if err != nil {
		return devices.RedundancyConfig{}, err
	}
	cfg := &configNode{Children: sections[0].data.Children}
	out := devices.RedundancyConfig{Known: true}
	if r := cfg.path("chassis", "redundancy"); r != nil {
		out.GracefulSwitchover = r.child("graceful-switchover") != nil
		if k := r.child("keepalive-time"); k != nil {
			s := strings.TrimSpace(k.Text)
			n, err := parseCount(s, maxKeepaliveTime)
			if err != nil || n == 0 {
				if err == nil {
					err = errors.New("out of range")
				}
				return devices.RedundancyConfig{}, fmt.Errorf("decode %s: chassis redundancy keepalive-time %q: %w", element, truncate(s, 64), err)
			}
			out.KeepaliveTime = time.Duration(n) * time.Second
		}
		out.FailoverOnLossOfKeepalives = r.path("failover", "on-loss-of-keepalives") != nil
		out.FailoverOnDiskFailure = r.path("failover", "on-disk-failure") != nil
	}
	out.CommitSynchronize = cfg.path("system", "commit", "synchronize") != nil
	out.NonstopRouting = cfg.path("routing-options", "nonstop-routing") != nil
	return out, partial.orNil()
}

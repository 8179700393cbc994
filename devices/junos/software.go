package junos

import (
	"strings"

	"github.com/mastership/mastership/devices"
)

// RPCSoftwareAllREs is "show version invoke-on all-routing-engines": the
// plain RPCSoftware answers for the RE the session landed on only, this
// form for every RE, each in a <multi-routing-engine-item> named after it
// ("re0", "re1"). DecodeSoftware reads both. Switchover readiness needs
// it: a backup on another release cannot take over gracefully.
const RPCSoftwareAllREs = "<get-software-information><invoke-on>all-routing-engines</invoke-on></get-software-information>"

// softwareInformation is <software-information>.
type softwareInformation struct {
	HostName     string       `xml:"host-name"`
	ProductModel string       `xml:"product-model"`
	JunosVersion string       `xml:"junos-version"`
	Packages     []packageXML `xml:"package-information"`
	inlineErrors
}

type packageXML struct {
	Name    string `xml:"name"`
	Comment string `xml:"comment"`
}

func (s softwareInformation) hasData() bool {
	return strings.TrimSpace(s.HostName) != "" ||
		strings.TrimSpace(s.ProductModel) != "" ||
		s.version() != ""
}

// DecodeSoftware decodes a reply to RPCSoftware into one Software per
// multi-routing-engine item (Member is the item's re-name: "re0", "node1",
// "lcc0-re0", "localre"), or a single one with an empty Member for a plain
// reply.
//
// A reply without a <software-information> that names a host, model or
// version is a *NoDataError; malformed XML is an error.
func DecodeSoftware(reply []byte) ([]devices.Software, error) {
	return software(decodeReplyFast[softwareInformation](reply, softwareElement))
}

// decodeSoftwareXML is DecodeSoftware on encoding/xml alone: the
// reference its fast path is held to.
func decodeSoftwareXML(reply []byte) ([]devices.Software, error) {
	return software(decodeReply[softwareInformation](reply, softwareElement))
}

const softwareElement = "software-information"

// software is DecodeSoftware once the sections are found.
func software(sections []section[softwareInformation], err error) ([]devices.Software, error) {
	partial, err := memberErrorOf(err)
	if err != nil {
		return nil, err
	}
	out := make([]devices.Software, 0, len(sections))
	for _, s := range sections {
		out = append(out, devices.Software{
			Member:   s.member,
			Hostname: strings.TrimSpace(s.data.HostName),
			Model:    strings.TrimSpace(s.data.ProductModel),
			Version:  s.data.version(),
		})
	}
	return out, partial.orNil()
}

// version returns the Junos release. Since about 13.x it is its own
// <junos-version> element; before that it appears only in package
// comments: "Junos: 14.2R4" on the junos-version package, "JUNOS Base OS
// boot [12.3R6.6]" on the junos package ("JUNOS Software Release
// [12.1X46-D15.3]" on SRX). Empty when none of these is present.
func (s softwareInformation) version() string {
	if v := strings.TrimSpace(s.JunosVersion); v != "" {
		return v
	}
	if v, ok := strings.CutPrefix(s.packageComment("junos-version"), "Junos:"); ok {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return bracketed(s.packageComment("junos"))
}

// packageComment returns the trimmed comment of the first package called
// name, "" when there is none.
func (s softwareInformation) packageComment(name string) string {
	for _, p := range s.Packages {
		if strings.TrimSpace(p.Name) == name {
			return strings.TrimSpace(p.Comment)
		}
	}
	return ""
}

// bracketed returns the trimmed text between the last "[" and the "]"
// that ends s, or "" when s does not end that way.
func bracketed(s string) string {
	rest, ok := strings.CutSuffix(s, "]")
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(rest, '[')
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(rest[i+1:])
}

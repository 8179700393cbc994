package netconftest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	capBase10 = "urn:ietf:params:netconf:base:1.0"
	capBase11 = "urn:ietf:params:netconf:base:1.1"
	// junosNS is the envelope's junos namespace of the release the hello
	// sample comes from (17.3R3).
	junosNS = "http://xml.juniper.net/junos/17.3R3/junos"
)

// junosCapabilities are the capabilities a Junos 17.3R3 router advertises
// (shared/junos-samples/netconf/hello.junos-17.3R3.wire.xml) after
// base:1.0 (and base:1.1 when enabled), one per line. A constant, so no
// test can change what another server sends.
const junosCapabilities = `
urn:ietf:params:netconf:capability:candidate:1.0
urn:ietf:params:netconf:capability:confirmed-commit:1.0
urn:ietf:params:netconf:capability:validate:1.0
urn:ietf:params:netconf:capability:url:1.0?protocol=http,ftp,file
urn:ietf:params:xml:ns:netconf:base:1.0
urn:ietf:params:xml:ns:netconf:capability:candidate:1.0
urn:ietf:params:xml:ns:netconf:capability:confirmed-commit:1.0
urn:ietf:params:xml:ns:netconf:capability:validate:1.0
urn:ietf:params:xml:ns:netconf:capability:url:1.0?protocol=http,ftp,file
urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring
http://xml.juniper.net/netconf/junos/1.0
http://xml.juniper.net/dmi/system/1.0
`

// hello renders the server hello the way Junos writes it: optional
// comments first, nc: prefix, Junos' indentation, and no XML declaration
// (ncclient's Junos handler fails on one).
func (s *Server) hello(sessionID int64) []byte {
	var b bytes.Buffer
	for _, c := range s.cfg.HelloComments {
		// "--" cannot appear inside an XML comment.
		b.WriteString("<!-- " + strings.ReplaceAll(c, "--", "- -") + " -->\n")
	}
	b.WriteString(`<nc:hello xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">` + "\n")
	b.WriteString("   <nc:capabilities>\n")
	capability := func(c string) {
		b.WriteString("    <nc:capability>")
		_ = xml.EscapeText(&b, []byte(c))
		b.WriteString("</nc:capability>\n")
	}
	capability(capBase10)
	if s.cfg.Base11 {
		capability(capBase11)
	}
	for c := range strings.FieldsSeq(junosCapabilities) {
		capability(c)
	}
	for _, c := range s.cfg.Capabilities {
		capability(c)
	}
	b.WriteString("  </nc:capabilities>\n")
	b.WriteString("  <nc:session-id>" + strconv.FormatInt(sessionID, 10) + "</nc:session-id>\n")
	b.WriteString("</nc:hello>\n")
	return b.Bytes()
}

// parseClientHello checks the client's hello and reports whether it
// advertises base:1.1. An XML declaration before it is fine.
func parseClientHello(msg []byte) (base11 bool, err error) {
	var h struct {
		XMLName      xml.Name
		Capabilities []string `xml:"capabilities>capability"`
		SessionID    string   `xml:"session-id"`
	}
	if err := xml.Unmarshal(msg, &h); err != nil {
		return false, fmt.Errorf("parse client hello: %w", err)
	}
	if h.XMLName.Local != "hello" {
		return false, fmt.Errorf("expected <hello>, got <%s>", h.XMLName.Local)
	}
	if strings.TrimSpace(h.SessionID) != "" {
		// RFC 6241 8.1: a client must not send a session-id.
		return false, errors.New("client hello carries a session-id")
	}
	base := false
	for _, c := range h.Capabilities {
		switch strings.TrimSpace(c) {
		case capBase10:
			base = true
		case capBase11:
			base, base11 = true, true
		}
	}
	if !base {
		return false, errors.New("client hello advertises neither base:1.0 nor base:1.1")
	}
	return base11, nil
}

// parseRequest parses an <rpc>. On error the returned Request still
// carries whatever message-id was found, so the error reply can echo it.
func parseRequest(msg []byte, user string) (*Request, error) {
	req := &Request{User: user}
	d := xml.NewDecoder(bytes.NewReader(msg))
	depth := 0
	var bodyStart int64
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return req, errors.New("incomplete <rpc>")
		}
		if err != nil {
			return req, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				for _, a := range t.Attr {
					if a.Name.Local == "message-id" {
						req.MessageID = a.Value
					}
				}
				if t.Name.Local != "rpc" {
					return req, fmt.Errorf("expected <rpc>, got <%s>", t.Name.Local)
				}
				bodyStart = d.InputOffset()
			}
			if depth == 2 && req.Operation == "" {
				req.Operation = t.Name.Local
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				req.Body = bytes.Clone(msg[bodyStart:before])
				if req.Operation == "" {
					return req, errors.New("empty <rpc>")
				}
				return req, nil
			}
		}
	}
}

// Reply wraps inner, the content of the reply, in an <rpc-reply> that
// echoes req's message-id, with the namespaces Junos declares. A nil req
// gives a reply without message-id.
func Reply(req *Request, inner string) []byte {
	var b bytes.Buffer
	b.Grow(len(inner) + 256)
	writeReplyStart(&b, req)
	b.WriteString(inner)
	if !strings.HasSuffix(inner, "\n") {
		b.WriteString("\n")
	}
	b.WriteString("</rpc-reply>\n")
	return b.Bytes()
}

// writeReplyStart writes the <rpc-reply> start tag Reply uses, and a
// newline.
func writeReplyStart(b *bytes.Buffer, req *Request) {
	b.WriteString(`<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="` + junosNS + `"`)
	if req != nil && req.MessageID != "" {
		b.WriteString(` message-id="`)
		_ = xml.EscapeText(b, []byte(req.MessageID))
		b.WriteString(`"`)
	}
	b.WriteString(">\n")
}

// ErrorReply is a Reply carrying one <rpc-error> of severity error, as
// Junos sends for an unknown or failing RPC.
func ErrorReply(req *Request, tag, message string) []byte {
	var b strings.Builder
	b.WriteString("<rpc-error>\n<error-type>protocol</error-type>\n<error-tag>")
	_ = xml.EscapeText(&b, []byte(tag))
	b.WriteString("</error-tag>\n<error-severity>error</error-severity>\n<error-message>\n")
	_ = xml.EscapeText(&b, []byte(message))
	b.WriteString("\n</error-message>\n")
	if req != nil && req.Operation != "" {
		b.WriteString("<error-info>\n<bad-element>")
		_ = xml.EscapeText(&b, []byte(req.Operation))
		b.WriteString("</bad-element>\n</error-info>\n")
	}
	b.WriteString("</rpc-error>")
	return Reply(req, b.String())
}

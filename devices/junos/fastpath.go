package junos

import "strings"

// The fast path of each decoder: the scanner of scan.go reads the reply
// into the same payload structs encoding/xml would fill, following
// encoding/xml's rules for them (elements and attributes matched by local
// name under any prefix; a string or chardata field holds the element's
// own character data, the last occurrence winning; a struct field met
// twice is filled twice, attributes kept unless given again; a slice
// field gains one entry per element). From there, both paths share the
// code that turns sections into results, so the two agree as long as
// scanSections and findSections do.

// scannable is a payload struct the scanner can fill: scan reads the rest
// of the element whose start tag was just read.
type scannable[T any] interface {
	*T
	scan(s *scanner) bool
}

// scanSections is findSections on the scanner: the same sections and
// notes, or ok false when the scanner declined the reply (then only
// findSections can tell what it holds, or what is wrong with it).
func scanSections[T any, P scannable[T]](reply []byte, name string) (sections []section[T], notes []note, ok bool) {
	s := newScanner(reply)
	var (
		items      []openItem
		sawElement bool
	)
	for {
		switch s.next() {
		case tokBad:
			return nil, nil, false
		case tokEOF:
			if !sawElement {
				return nil, nil, false // findSections' error
			}
			return sections, notes, true
		case tokEnd:
			if string(s.endLocal) == "multi-routing-engine-item" && len(items) > 0 {
				closeItem(sections, items[len(items)-1])
				items = items[:len(items)-1]
			}
		case tokStart:
			sawElement = true
			member := ""
			if len(items) > 0 {
				member = items[len(items)-1].name
			}
			switch local := string(s.local); local {
			case name:
				sections = append(sections, section[T]{member: member})
				if !P(&sections[len(sections)-1].data).scan(s) {
					return nil, nil, false
				}
			case "multi-routing-engine-item":
				items = append(items, openItem{first: len(sections)})
			case "re-name":
				var v string
				if !s.str(&v) {
					return nil, nil, false
				}
				if len(items) > 0 {
					items[len(items)-1].name = strings.TrimSpace(v)
				}
			case "output", "error", "rpc-error":
				var e errorElement
				if !e.scan(s) {
					return nil, nil, false
				}
				if msg := e.text(); msg != "" {
					notes = append(notes, note{member, msg})
				}
			}
		}
	}
}

// decodeReplyFast is decodeReply on the scanner, falling back to
// decodeReply (encoding/xml) when the scanner declines.
func decodeReplyFast[T payload, P interface {
	scannable[T]
	payload
}](reply []byte, name string) ([]section[T], error) {
	found, notes, ok := scanSections[T, P](reply, name)
	if !ok {
		return decodeReply[T](reply, name)
	}
	return keepSections(found, notes, name)
}

func (e *errorElement) scan(s *scanner) bool {
	var text textAcc
	ok := s.children(&text, func(local []byte) bool {
		switch string(local) {
		case "message":
			return s.str(&e.Message)
		case "error-message":
			return s.str(&e.RPCMessage)
		}
		return s.skip()
	})
	e.Text = text.string(s)
	return ok
}

// scanError reads an <error> nested in a payload.
func (ie *inlineErrors) scanError(s *scanner) bool {
	ie.Errors = append(ie.Errors, errorElement{})
	return ie.Errors[len(ie.Errors)-1].scan(s)
}

func (v *junosValue) scan(s *scanner) bool {
	s.eachAttr(func(a attr) {
		switch string(a.local) {
		case "seconds":
			v.Seconds = s.value(a)
		case "celsius":
			v.Celsius = s.value(a)
		}
	})
	var text textAcc
	if !s.children(&text, s.skipChild) {
		return false
	}
	v.Text = text.string(s)
	return true
}

func (r *routeEngineInformation) scan(s *scanner) bool {
	return s.children(nil, func(local []byte) bool {
		switch string(local) {
		case "route-engine":
			r.RouteEngines = append(r.RouteEngines, routeEngineXML{})
			return r.RouteEngines[len(r.RouteEngines)-1].scan(s)
		case "error":
			return r.scanError(s)
		}
		return s.skip()
	})
}

func (x *routeEngineXML) scan(s *scanner) bool {
	return s.children(nil, func(local []byte) bool {
		switch string(local) {
		case "slot":
			return s.str(&x.Slot)
		case "mastership-state":
			return s.str(&x.MastershipState)
		case "mastership-priority":
			return s.str(&x.MastershipPriority)
		case "status":
			return s.str(&x.Status)
		case "model":
			return s.str(&x.Model)
		case "serial-number":
			return s.str(&x.SerialNumber)
		case "start-time":
			return x.StartTime.scan(s)
		case "up-time":
			return x.UpTime.scan(s)
		case "last-reboot-reason":
			return s.str(&x.LastRebootReason)
		case "temperature":
			return x.Temperature.scan(s)
		case "cpu-temperature":
			return x.CPUTemperature.scan(s)
		}
		return s.skip()
	})
}

func (a *alarmInformation) scan(s *scanner) bool {
	return s.children(nil, func(local []byte) bool {
		switch string(local) {
		case "alarm-summary":
			if a.Summary == nil {
				a.Summary = &alarmSummary{}
			}
			return s.skip()
		case "alarm-detail":
			a.Details = append(a.Details, alarmDetailXML{})
			return a.Details[len(a.Details)-1].scan(s)
		case "error":
			return a.scanError(s)
		}
		return s.skip()
	})
}

func (x *alarmDetailXML) scan(s *scanner) bool {
	return s.children(nil, func(local []byte) bool {
		switch string(local) {
		case "alarm-time":
			return x.Time.scan(s)
		case "alarm-class":
			return s.str(&x.Class)
		case "alarm-description":
			return s.str(&x.Description)
		case "alarm-short-description":
			return s.str(&x.ShortDescription)
		case "alarm-type":
			return s.str(&x.Type)
		}
		return s.skip()
	})
}

func (v *softwareInformation) scan(s *scanner) bool {
	return s.children(nil, func(local []byte) bool {
		switch string(local) {
		case "host-name":
			return s.str(&v.HostName)
		case "product-model":
			return s.str(&v.ProductModel)
		case "junos-version":
			return s.str(&v.JunosVersion)
		case "package-information":
			v.Packages = append(v.Packages, packageXML{})
			return v.Packages[len(v.Packages)-1].scan(s)
		case "error":
			return v.scanError(s)
		}
		return s.skip()
	})
}

func (p *packageXML) scan(s *scanner) bool {
	return s.children(nil, func(local []byte) bool {
		switch string(local) {
		case "name":
			return s.str(&p.Name)
		case "comment":
			return s.str(&p.Comment)
		}
		return s.skip()
	})
}

// scan follows the struct's paths ("current-time>date-time"): a parent
// element is descended into, and only the children its paths name are
// read; several parents of one name fill the same fields.
func (x *systemUptimeInformation) scan(s *scanner) bool {
	return s.children(nil, func(local []byte) bool {
		switch string(local) {
		case "current-time":
			return s.dateTimeIn(&x.CurrentTime)
		case "time-source":
			return s.str(&x.TimeSource)
		case "system-booted-time":
			return s.dateTimeIn(&x.BootTime)
		case "protocols-started-time":
			return s.dateTimeIn(&x.ProtocolsStarted)
		case "last-configured-time":
			return s.children(nil, func(local []byte) bool {
				switch string(local) {
				case "date-time":
					return x.LastConfigured.scan(s)
				case "user":
					return s.str(&x.LastConfiguredBy)
				}
				return s.skip()
			})
		case "uptime-information":
			return s.children(nil, func(local []byte) bool {
				switch string(local) {
				case "date-time":
					return x.ReplyTime.scan(s)
				case "up-time":
					return x.UpTime.scan(s)
				}
				return s.skip()
			})
		case "error":
			return x.scanError(s)
		}
		return s.skip()
	})
}

// dateTimeIn reads a parent element whose <date-time> child goes into v.
func (s *scanner) dateTimeIn(v *junosValue) bool {
	return s.children(nil, func(local []byte) bool {
		if string(local) == "date-time" {
			return v.scan(s)
		}
		return s.skip()
	})
}

func (f *fileContent) scan(s *scanner) bool {
	s.eachAttr(func(a attr) {
		switch string(a.local) {
		case "filename":
			f.Filename = s.value(a)
		case "encoding":
			f.Encoding = s.value(a)
		}
	})
	var text textAcc
	ok := s.children(&text, func(local []byte) bool {
		if string(local) == "error" {
			return f.scanError(s)
		}
		return s.skip()
	})
	f.Text = text.string(s)
	return ok
}

func (o *outputText) scan(s *scanner) bool {
	var text textAcc
	if !s.children(&text, s.skipChild) {
		return false
	}
	o.Text = text.string(s)
	return true
}

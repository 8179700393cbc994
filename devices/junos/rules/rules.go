package rules

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"

	"github.com/mastership/mastership/devices/strictyaml"

	"gopkg.in/yaml.v3"

	"github.com/mastership/mastership/devices"
)

// builtinRulesYAML is the rule set used when the user gives none. It is a
// string, not a []byte, so that nothing can change it at run time.
//
//go:embed rules_builtin.yaml
var builtinRulesYAML string

const (
	// BuiltinRulesName is the name the built-in rules go by in errors and
	// in Rules.Source.
	BuiltinRulesName = "rules_builtin.yaml"
	// builtinExtends is the value of extends that selects them.
	builtinExtends = "builtin"
)

// KindIgnore is the rule kind that stops matching without an event.
const KindIgnore devices.EventKind = "ignore"

// ruleKinds lists the kinds a rule may have, in the order error messages
// show them. It and the tables below are functions, not variables, so
// that nothing can change them.
func ruleKinds() []devices.EventKind {
	return []devices.EventKind{
		devices.EventAliveSet, devices.EventMastership, devices.EventKeepaliveLoss, devices.EventIPCLoss,
		devices.EventAlarmSet, devices.EventAlarmCleared, devices.EventFRU, devices.EventInternalLink,
		devices.EventLinkFlap, devices.EventCommit, devices.EventCoreDump, devices.EventPanic, KindIgnore,
		// The switchover ledger (issue 15).
		devices.EventSwitchoverCommand,
		// RE disk and storage errors (issue 15, class 4).
		devices.EventDiskError,
	}
}

// ruleChangeWords are the values a literal change may have: the ones the
// correlation understands (see devices.Event.Change).
func ruleChangeWords() []string {
	return []string{"left", "joined", "master", "backup", "giveup", "set", "cleared", "down", "up"}
}

// ruleKeys are the keys of one rule, in the order the docs list them.
func ruleKeys() []string {
	return []string{"name", "kind", "file", "process", "tag", "facility", "message", "exclude", "re", "change", "subject", "class"}
}

// maxRuleFileSize bounds LoadRules: a rule file is written by hand, and a
// huge file is a wrong path, not rules.
const maxRuleFileSize = 1 << 20

// Rules is a compiled, ordered rule set that turns log lines into
// devices.Events. It is immutable and safe for concurrent use; build it once
// (BuiltinRules, LoadRules, ParseRules) and keep it, because compiling costs
// far more than classifying.
//
// # Rule files
//
// A rule file is YAML. In its plain form it is a list of rules, and it
// REPLACES the built-in set:
//
//	# rules.yml
//	- name: em0-down              # unique; shown in every event it makes
//	  kind: internal-link         # what the event means (see Kinds)
//	  file: "messages*"           # optional glob on the log file name
//	  process: "/?kernel"         # optional regexp, whole field
//	  tag: "SNMP_TRAP_LINK_(?P<change>DOWN|UP)"  # optional regexp, whole field
//	  facility: DAEMON            # optional regexp, whole field
//	  message: 'ifName (?P<ifname>em\d+)'        # required regexp, searched
//	  exclude: 'admin'            # optional regexp; a match vetoes the rule
//	  re: self                    # self, other, re0, or a template
//	  change: "{change}"          # left joined master backup giveup set cleared down up
//	  subject: "{ifname}"         # template: the FRU, interface, alarm text
//	  class: Major                # template: the alarm class
//
// Its other form EXTENDS the built-in set; its rules run first, then the
// built-in ones, so a rule here takes precedence over a built-in rule that
// matches the same line:
//
//	extends: builtin
//	rules:
//	  - name: ignore-lab-fpc
//	    kind: ignore
//	    message: '^fpc9 '
//
// Matching. Rules are tried in order and the first rule whose conditions
// all hold wins; later rules never see the line. All conditions are RE2
// regular expressions (https://golang.org/s/re2syntax) except file, which
// is a glob (path.Match) tried on the file name and on its last path
// element. process, tag and facility must match the whole field; message
// and exclude are searched (anchor them with ^ and $ when needed). A
// condition that is left out always holds.
//
// The fields a rule sees are the devices.LogLine fields, tidied so that the
// same line matches whichever way it was parsed:
//   - message is LogLine.Message trimmed; when the line has no message (it
//     did not parse), it is LogLine.Raw;
//   - a leading Junos explicit-priority prefix ("%DAEMON-4:",
//     "%DAEMON-3-CHASSISD_FPC_ASIC_ERROR:", "%PFE-3:", "%KERN-3:") is taken
//     off the message; its facility (DAEMON, PFE, KERN) is the facility
//     field and its tag, if any, is the tag when LogLine.Tag is empty. When
//     the message has no prefix, the facility is read from such a prefix in
//     LogLine.Raw before the message;
//   - when the line still has no tag and the message begins with a tag
//     and a colon ("UI_COMMIT: …", "mcontrol_ore_alive_set: re1 removed
//     …"), that is the tag and the rest is the message. Tags have the
//     shape ParseLine gives them: upper case with underscores, or
//     mcontrol_ore_alive_set; "bgp_recv:" and "tcp_auth_ok:" are function
//     names and stay in the message.
//
// Outputs. Named groups ((?P<name>…)) of the process, tag, facility and
// message regexps can be used in the re, change, subject and class
// templates as {name}; {{ and }} stand for literal braces. A name may be
// used by several groups (alternatives, or several fields): its value is
// the first of them that matched text, taking the message first, then tag,
// process, facility. A group that did not take part gives "". Templates
// are checked when the file is loaded: naming a group the rule's regexps do
// not have is an error. re may also be the literal self (the RE that wrote
// the line) or other (the other RE of a pair: re0 and re1, memberN-re0 and
// memberN-re1, node0 and node1); the writer is the RE named in the line's
// host ("re0-abc", "router_RE1", "jtac-mx480-re0"), else the one the
// caller says served the log (ClassifyFrom), else unknown, which gives an
// empty RE. RE values are lower-cased and "RE 0"/"re_0" become "re0";
// change is lower-cased; subject and class have runs of spaces collapsed.
//
// Kinds. The kinds are the devices.EventKind values — alive-set, mastership,
// keepalive-loss, ipc-loss, alarm-set, alarm-cleared, fru, internal-link,
// link-flap, commit, core-dump, panic, switchover-command, disk-error —
// plus ignore: a line an ignore rule matches gives no event, which is how
// an extending file silences a built-in rule. alive-set and mastership
// rules must give a change, and a literal change must be one of the words
// listed above.
//
// Every mistake in a rule file — YAML syntax, an unknown key, a missing
// name, kind or message, an unknown kind, a duplicate name, an invalid
// regexp or glob, a template naming a missing group — is a *RuleError
// "file:line: rules[3] (name): field: problem"; several are joined with
// errors.Join.
type Rules struct {
	source string
	rules  []*rule
}

// Source says where the rules came from: a file name, "… extends
// builtin", or the built-in file's name.
func (r *Rules) Source() string { return r.source }

// Names returns the rule names in matching order.
func (r *Rules) Names() []string {
	if r == nil {
		return nil
	}
	out := make([]string, len(r.rules))
	for i, ru := range r.rules {
		out[i] = ru.name
	}
	return out
}

// BuiltinRules returns the built-in rule set (rules_builtin.yaml, embedded
// in the binary). It is parsed on every call, so callers keep the result.
// The error is never non-nil in a released binary: a test parses the
// embedded file.
func BuiltinRules() (*Rules, error) {
	return parseRules(BuiltinRulesName, []byte(builtinRulesYAML), false)
}

// LoadRules reads and parses a rule file; see ParseRules.
func LoadRules(file string) (*Rules, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRuleFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if len(data) > maxRuleFileSize {
		return nil, &RuleError{File: file, Msg: fmt.Sprintf("larger than %d bytes; is this a rule file?", maxRuleFileSize)}
	}
	return ParseRules(file, data)
}

// ParseRules parses a rule file; name is the file name errors carry. A
// plain list replaces the built-in rules; {extends: builtin, rules: […]}
// puts its rules before the built-in ones. Errors are *RuleError, one or
// several joined with errors.Join (at most 20 shown).
func ParseRules(name string, data []byte) (*Rules, error) {
	return parseRules(name, data, true)
}

func parseRules(name string, data []byte, mayExtend bool) (*Rules, error) {
	p := &ruleParser{Reader: strictyaml.Reader{File: name}, mayExtend: mayExtend}
	rs := p.parse(data)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return rs, nil
}

// RuleError is one problem in a rule file, as one self-contained line:
// file, line, which rule and field (e.g. "rules[3] (em0-down): message"),
// what is wrong.
type RuleError = strictyaml.Error

// Classify gives line a meaning with the first rule that matches it. ok is
// false when no rule matches or an ignore rule does. The event carries
// the device, the line's time, the rule's name and the line itself.
// "self" and "other" are resolved from the line's host name alone; use
// ClassifyFrom when the caller knows which RE served the log.
func (r *Rules) Classify(device string, line devices.LogLine) (devices.Event, bool) {
	return r.ClassifyFrom(device, "", line)
}

// ClassifyFrom is Classify for a line read from the log of RE loggedBy
// ("re0", "member1-re0"): that is the writer "self" and "other" refer to
// when the line's host does not name an RE. /var/log/mastership lines have
// no host at all, so without it their "other RE" is unknown.
func (r *Rules) ClassifyFrom(device, loggedBy string, line devices.LogLine) (devices.Event, bool) {
	if r == nil {
		return devices.Event{}, false
	}
	v := newRuleLineView(line)
	for _, ru := range r.rules {
		m, ok := ru.match(&v)
		if !ok {
			continue
		}
		if ru.kind == KindIgnore {
			return devices.Event{}, false
		}
		ev := devices.Event{
			Device:  device,
			Kind:    ru.kind,
			Time:    line.Time,
			Change:  strings.ToLower(strings.TrimSpace(ru.change.expand(m))),
			Subject: ruleCollapseSpaces(ru.subject.expand(m)),
			Class:   ruleCollapseSpaces(ru.class.expand(m)),
			Rule:    ru.name,
			Line:    line,
		}
		switch ru.reMode {
		case reFromSelf:
			ev.RE = ruleWriterRE(line.Host, loggedBy)
		case reFromOther:
			ev.RE = ruleOtherRE(ruleWriterRE(line.Host, loggedBy))
		default:
			ev.RE = ruleNormalizeRE(ru.re.expand(m))
		}
		return ev, true
	}
	return devices.Event{}, false
}

// Matching.

// Fields of a line a rule can put conditions on, in the order templates
// look for a group's value.
const (
	condMessage = iota
	condTag
	condProcess
	condFacility
	numConds
)

var condNames = [numConds]string{"message", "tag", "process", "facility"}

var (
	// ruleExplicitPriority is the prefix Junos writes with "explicit-priority"
	// syslog: "%DAEMON-4:", "%DAEMON-3-CHASSISD_FPC_ASIC_ERROR:", "%PFE-3:".
	ruleExplicitPriority = regexp.MustCompile(`^%([A-Z][A-Z0-9]*)-[0-7](?:-([A-Za-z][A-Za-z0-9_]*))?:\s*`)
	// rulePriorityInRaw finds that prefix in a raw line whose parser already
	// removed it from the message.
	rulePriorityInRaw = regexp.MustCompile(`(?:^|\s)%([A-Z][A-Z0-9]*)-[0-7](?:-[A-Za-z][A-Za-z0-9_]*)?:`)
	// ruleLeadingTag is a tag left at the start of the message, with the
	// shape ParseLine gives tags: upper case with underscores, or the one
	// known lower-case tag. Lower-case words with underscores are C
	// function names ("bgp_recv:", "tcp_auth_ok:") and stay in the message.
	ruleLeadingTag = regexp.MustCompile(`^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|mcontrol_ore_alive_set):\s+`)
)

// ruleLineView is a log line's fields as rules see them.
type ruleLineView struct {
	file, base string
	fields     [numConds]string
}

func newRuleLineView(line devices.LogLine) ruleLineView {
	v := ruleLineView{file: line.File}
	if line.File != "" {
		v.base = path.Base(line.File)
	}
	msg := strings.TrimSpace(line.Message)
	tag := strings.TrimSpace(line.Tag)
	facility := ""
	if msg == "" {
		msg = line.Raw
	} else {
		// The cheap string tests spare most lines the regexps: this runs
		// for every line of every log read.
		if m := explicitPriorityOf(msg); m != nil {
			facility = m[1]
			if tag == "" {
				tag = m[2]
			}
			msg = msg[len(m[0]):]
		} else {
			before := line.Raw
			if i := strings.Index(line.Raw, msg); i >= 0 {
				before = line.Raw[:i]
			}
			if strings.Contains(before, "%") {
				if m := rulePriorityInRaw.FindStringSubmatch(before); m != nil {
					facility = m[1]
				}
			}
		}
		if tag == "" && strings.Contains(msg, ":") {
			if m := ruleLeadingTag.FindStringSubmatch(msg); m != nil {
				tag = m[1]
				msg = msg[len(m[0]):]
			}
		}
	}
	v.fields[condMessage] = msg
	v.fields[condTag] = tag
	v.fields[condProcess] = strings.TrimSpace(line.Process)
	v.fields[condFacility] = facility
	return v
}

func explicitPriorityOf(msg string) []string {
	if !strings.HasPrefix(msg, "%") {
		return nil
	}
	return ruleExplicitPriority.FindStringSubmatch(msg)
}

// ruleMatch holds the submatches of a rule's capturing regexps for one line.
type ruleMatch [numConds][]string

// ruleGroupRef is one group a template name refers to.
type ruleGroupRef struct{ field, index int }

type rule struct {
	name string
	kind devices.EventKind
	file string // glob; "" = any
	// conds are the field regexps (nil = no condition); process, tag and
	// facility are anchored. capture says which ones have named groups and
	// so need submatches.
	conds   [numConds]*regexp.Regexp
	capture [numConds]bool
	exclude *regexp.Regexp
	// literal is text every message the message regexp matches contains
	// ("" if none is known). Most lines fail this cheap test, and Go's
	// regexps are slow at searching unanchored patterns.
	literal string

	reMode              int
	re, change, subject ruleTemplate
	class               ruleTemplate
}

const (
	reFromTemplate = iota
	reFromSelf
	reFromOther
)

// match reports whether the rule holds for v, with the submatches its
// templates need. Cheap conditions go first: most rules fail on the file,
// tag or process before their message regexp runs.
func (ru *rule) match(v *ruleLineView) (ruleMatch, bool) {
	var m ruleMatch
	if ru.file != "" {
		ok1, _ := path.Match(ru.file, v.file)
		ok2, _ := path.Match(ru.file, v.base)
		if !ok1 && !ok2 {
			return m, false
		}
	}
	for _, f := range [...]int{condFacility, condProcess, condTag, condMessage} {
		re := ru.conds[f]
		if re == nil {
			continue
		}
		if f == condMessage && !strings.Contains(v.fields[f], ru.literal) {
			return m, false
		}
		if ru.capture[f] {
			m[f] = re.FindStringSubmatch(v.fields[f])
			if m[f] == nil {
				return m, false
			}
		} else if !re.MatchString(v.fields[f]) {
			return m, false
		}
	}
	if ru.exclude != nil && ru.exclude.MatchString(v.fields[condMessage]) {
		return m, false
	}
	return m, true
}

// ruleTemplate is a compiled output template: literal text and group
// references, in order.
type ruleTemplate struct {
	parts []ruleTemplatePart
}

type ruleTemplatePart struct {
	lit  string
	refs []ruleGroupRef // nil for a literal part
}

func (t ruleTemplate) expand(m ruleMatch) string {
	if len(t.parts) == 1 && t.parts[0].refs == nil {
		return t.parts[0].lit
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.refs == nil {
			b.WriteString(p.lit)
			continue
		}
		for _, r := range p.refs {
			if sub := m[r.field]; r.index < len(sub) && sub[r.index] != "" {
				b.WriteString(sub[r.index])
				break
			}
		}
	}
	return b.String()
}

func ruleCollapseSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

// RE names.

var (
	// ruleHostRE finds an RE name in a syslog host field: "re0-abc",
	// "re0.vmx01", "jtac-mx480-r2014-re0", "HCM001CGI01_RE1".
	ruleHostRE = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])((?:(?:member|lcc|scc|sfc|gnf|bsys)[0-9]+-)?re[0-9]+)(?:$|[^a-z0-9])`)
	// ruleSpacedRE is an RE name as rules capture it from text: "re1",
	// "RE 0", "re_1", "member0-re1".
	ruleSpacedRE = regexp.MustCompile(`^(?:([a-z]+[0-9]+)[-_ ]?)?re[-_ ]?([0-9]+)$`)
	// rulePairRE is an RE with a partner: re0/re1 (with a member prefix or
	// not), or an SRX cluster's node0/node1.
	rulePairRE = regexp.MustCompile(`^((?:[a-z]+[0-9]+-)?re|node)([01])$`)
	// ruleREName is what a literal re must look like.
	ruleREName = regexp.MustCompile(`^(?:[a-z]+[0-9]+-)?re[0-9]+$|^node[0-9]+$`)
)

// ruleNormalizeRE writes an RE name the way the model does ("re0",
// "member0-re1"); text that is not an RE name is only lower-cased.
func ruleNormalizeRE(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if m := ruleSpacedRE.FindStringSubmatch(s); m != nil {
		n := strings.TrimLeft(m[2], "0")
		if n == "" {
			n = "0"
		}
		if m[1] != "" {
			return m[1] + "-re" + n
		}
		return "re" + n
	}
	return s
}

// ruleWriterRE is the RE that wrote a line: the one its host names, else the
// caller's, else "".
func ruleWriterRE(host, loggedBy string) string {
	if m := ruleHostRE.FindStringSubmatch(host); m != nil {
		return ruleNormalizeRE(m[1])
	}
	return ruleNormalizeRE(loggedBy)
}

// ruleOtherRE is the partner of re in a redundant pair, "" when it has none
// or re is unknown.
func ruleOtherRE(re string) string {
	m := rulePairRE.FindStringSubmatch(re)
	if m == nil {
		return ""
	}
	if m[2] == "0" {
		return m[1] + "1"
	}
	return m[1] + "0"
}

// Parsing.

type ruleParser struct {
	strictyaml.Reader
	mayExtend bool
}

func (p *ruleParser) parse(data []byte) *Rules {
	root, empty := p.Document(data, "a rule file")
	if empty {
		p.Errorf(1, "", "empty: give a list of rules, or extends: builtin and rules")
	}
	if root == nil {
		return nil
	}
	switch root.Kind {
	case yaml.SequenceNode:
		if len(root.Content) == 0 {
			p.Errorf(root.Line, "", "empty list: a plain list replaces the built-in rules, so it needs at least one rule")
			return nil
		}
		rules := p.ruleList(root, nil)
		return &Rules{source: p.File, rules: rules}
	case yaml.MappingNode:
		return p.extending(root)
	default:
		p.Errorf(root.Line, "", "want a list of rules, or a mapping with extends and rules, got %s", strictyaml.Kind(root))
		return nil
	}
}

// extending parses the {extends: builtin, rules: […]} form.
func (p *ruleParser) extending(root *yaml.Node) *Rules {
	var extendsNode, rulesNode *yaml.Node
	p.EachKey(root, "", func(key string, k, v *yaml.Node) {
		switch key {
		case "extends":
			extendsNode = v
		case "rules":
			rulesNode = v
		default:
			p.UnknownKey(k, "", key, []string{"extends", "rules"}, "unknown top-level key")
		}
	})
	if extendsNode == nil {
		if len(p.Errs) == 0 {
			p.Errorf(root.Line, "extends", "missing: a mapping extends the built-in rules (extends: builtin); give a plain list to replace them")
		}
		return nil
	}
	if extendsNode.Kind != yaml.ScalarNode || extendsNode.ShortTag() != "!!str" || extendsNode.Value != builtinExtends {
		what := strictyaml.Kind(extendsNode)
		if extendsNode.Kind == yaml.ScalarNode {
			what = strictyaml.Quote(extendsNode.Value)
		}
		p.Errorf(extendsNode.Line, "extends", "%s is not %s, the only rule set a file can extend", what, builtinExtends)
		return nil
	}
	if !p.mayExtend {
		p.Errorf(extendsNode.Line, "extends", "the built-in rules cannot extend themselves")
		return nil
	}
	builtin, err := BuiltinRules()
	if err != nil {
		p.Errs = append(p.Errs, err)
		return nil
	}
	reserved := map[string]bool{}
	for _, n := range builtin.Names() {
		reserved[n] = true
	}
	var rules []*rule
	if rulesNode != nil && !strictyaml.IsNull(rulesNode) {
		if seq := p.Sequence(rulesNode, "rules"); seq != nil {
			rules = p.ruleList(seq, reserved)
		}
	}
	return &Rules{
		source: p.File + " extends " + builtinExtends,
		rules:  append(rules, builtin.rules...),
	}
}

func (p *ruleParser) ruleList(seq *yaml.Node, reserved map[string]bool) []*rule {
	firstLine := map[string]int{}
	var out []*rule
	for i, item := range seq.Content {
		if ru := p.rule(i, strictyaml.Resolve(item), firstLine, reserved); ru != nil {
			out = append(out, ru)
		}
	}
	return out
}

// rule parses rules[i]. It reports every problem of the rule, not only the
// first, and returns nil if there was any.
func (p *ruleParser) rule(i int, n *yaml.Node, firstLine map[string]int, reserved map[string]bool) *rule {
	ctx := fmt.Sprintf("rules[%d]", i)
	if n.Kind != yaml.MappingNode {
		p.Errorf(n.Line, ctx, "want a mapping with name, kind and message, got %s", strictyaml.Kind(n))
		return nil
	}
	before := len(p.Errs)
	keyErrors := false
	// The name goes into the context of the rule's other errors, so read
	// it first.
	for j := 0; j+1 < len(n.Content); j += 2 {
		if k := strictyaml.Resolve(n.Content[j]); k.Kind == yaml.ScalarNode && k.Value == "name" {
			if v := strictyaml.Resolve(n.Content[j+1]); v.Kind == yaml.ScalarNode && !strictyaml.IsNull(v) && v.Value != "" {
				ctx += " (" + strictyaml.Show(v.Value) + ")"
			}
			break
		}
	}
	vals := map[string]string{}
	lines := map[string]int{}
	p.EachKey(n, ctx, func(key string, k, v *yaml.Node) {
		// Each return below reports an error, after which "missing"
		// errors would only be its consequence (a misspelt message key
		// also leaves the message missing).
		keyErrs := len(p.Errs)
		defer func() { keyErrors = keyErrors || len(p.Errs) > keyErrs }()
		if !slices.Contains(ruleKeys(), key) {
			p.UnknownKey(k, ctx, key, ruleKeys(), "unknown key")
			return
		}
		if strictyaml.IsNull(v) {
			return // "subject:" with nothing after it is not set
		}
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
			p.Errorf(v.Line, strictyaml.JoinField(ctx, key), "want a string, got %s", strictyaml.Kind(v))
			return
		}
		vals[key] = v.Value
		lines[key] = v.Line
	})
	lineOf := func(key string) int {
		if l, ok := lines[key]; ok {
			return l
		}
		return n.Line
	}
	missing := func(key, format string, args ...any) {
		if !keyErrors {
			p.Errorf(lineOf(key), strictyaml.JoinField(ctx, key), format, args...)
		}
	}
	ru := &rule{}

	// name
	if name, ok := vals["name"]; !ok || name == "" {
		missing("name", "missing")
	} else if !validRuleName(name) {
		p.Errorf(lineOf("name"), strictyaml.JoinField(ctx, "name"), "%s: use letters, digits, '-', '_' and '.', starting with a letter or digit", strictyaml.Quote(name))
	} else if reserved[name] {
		p.Errorf(lineOf("name"), strictyaml.JoinField(ctx, "name"), "a built-in rule has this name; choose another (this file's rules run before the built-in ones, so yours already takes precedence)")
	} else if first, dup := firstLine[name]; dup {
		p.Errorf(lineOf("name"), strictyaml.JoinField(ctx, "name"), "duplicate rule name (first at line %d)", first)
	} else {
		firstLine[name] = lineOf("name")
		ru.name = name
	}

	// kind
	if kind, ok := vals["kind"]; !ok || kind == "" {
		missing("kind", "missing; one of %s", ruleKindList())
	} else if !slices.Contains(ruleKinds(), devices.EventKind(kind)) {
		if best := strictyaml.Closest(kind, ruleKindNames()); best != "" {
			p.Errorf(lineOf("kind"), strictyaml.JoinField(ctx, "kind"), "%s is not a rule kind; did you mean %s?", strictyaml.Quote(kind), best)
		} else {
			p.Errorf(lineOf("kind"), strictyaml.JoinField(ctx, "kind"), "%s is not a rule kind; one of %s", strictyaml.Quote(kind), ruleKindList())
		}
	} else {
		ru.kind = devices.EventKind(kind)
	}

	// file
	if g, ok := vals["file"]; ok {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			p.Errorf(lineOf("file"), strictyaml.JoinField(ctx, "file"), "invalid glob %s", strictyaml.Quote(g))
		} else {
			ru.file = g
		}
	}

	// conditions
	groups := map[string][]ruleGroupRef{}
	var groupNames []string
	badRegexp := false
	for f, key := range condNames {
		expr, ok := vals[key]
		if !ok {
			if f == condMessage {
				missing("message", "missing: every rule needs a message regexp (use '.' to match any message)")
			}
			continue
		}
		re := p.regexp(lineOf(key), strictyaml.JoinField(ctx, key), expr, f != condMessage)
		if re == nil {
			badRegexp = true
			continue
		}
		ru.conds[f] = re
		if f == condMessage {
			ru.literal = requiredLiteral(expr)
		}
		for idx, g := range re.SubexpNames() {
			if g == "" {
				continue
			}
			if _, seen := groups[g]; !seen {
				groupNames = append(groupNames, g)
			}
			groups[g] = append(groups[g], ruleGroupRef{field: f, index: idx})
			ru.capture[f] = true
		}
	}
	// Template lookups take the message first, then tag, process, facility:
	// sort each name's refs by field (stable keeps in-regexp order).
	for _, refs := range groups {
		slices.SortStableFunc(refs, func(a, b ruleGroupRef) int { return a.field - b.field })
	}
	if expr, ok := vals["exclude"]; ok {
		ru.exclude = p.regexp(lineOf("exclude"), strictyaml.JoinField(ctx, "exclude"), expr, false)
	}

	// outputs
	if ru.kind == KindIgnore {
		for _, key := range []string{"re", "change", "subject", "class"} {
			if _, ok := vals[key]; ok {
				p.Errorf(lineOf(key), strictyaml.JoinField(ctx, key), "an ignore rule gives no event; remove %s", key)
			}
		}
	}
	tmpl := func(key string) ruleTemplate {
		t, err := compileRuleTemplate(vals[key], groups, groupNames)
		// A group missing from a regexp that did not compile is only a
		// consequence of that error.
		if err != nil && !badRegexp {
			p.Errorf(lineOf(key), strictyaml.JoinField(ctx, key), "%v", err)
		}
		return t
	}
	switch reVal := vals["re"]; reVal {
	case "self":
		ru.reMode = reFromSelf
	case "other":
		ru.reMode = reFromOther
	default:
		ru.re = tmpl("re")
		if reVal != "" && !strings.ContainsAny(reVal, "{}") && !ruleREName.MatchString(ruleNormalizeRE(reVal)) {
			p.Errorf(lineOf("re"), strictyaml.JoinField(ctx, "re"), "%s is not self, other, an RE name like re0, or a template like {re}", strictyaml.Quote(reVal))
		}
	}
	ru.change = tmpl("change")
	if c, ok := vals["change"]; ok && !strings.ContainsAny(c, "{}") && !slices.Contains(ruleChangeWords(), strings.ToLower(strings.TrimSpace(c))) {
		p.Errorf(lineOf("change"), strictyaml.JoinField(ctx, "change"), "%s is not one of %s (or a template like {change})", strictyaml.Quote(c), strings.Join(ruleChangeWords(), ", "))
	}
	if _, ok := vals["change"]; !ok && (ru.kind == devices.EventAliveSet || ru.kind == devices.EventMastership) {
		missing("change", "missing: rules of kind %s must say which way the RE went (left, joined, master, backup, giveup)", ru.kind)
	}
	ru.subject = tmpl("subject")
	ru.class = tmpl("class")

	if len(p.Errs) > before {
		return nil
	}
	return ru
}

// regexp compiles expr; whole makes it match the whole field.
func (p *ruleParser) regexp(line int, field, expr string, whole bool) *regexp.Regexp {
	if expr == "" {
		p.Errorf(line, field, "empty regexp (leave the key out to match anything)")
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		msg := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			msg = fmt.Sprintf("%s: %s", se.Code, strictyaml.Quote(se.Expr))
		}
		p.Errorf(line, field, "invalid regexp: %s", msg)
		return nil
	}
	if whole {
		// The wrapper adds no capturing group, so group indexes stay.
		re = regexp.MustCompile(`^(?:` + expr + `)$`)
	}
	return re
}

// requiredLiteral returns the longest case-sensitive literal that every
// match of expr contains, "" when it finds none. It only looks through
// captures, concatenations and repetitions of at least one, so what it
// returns is certain.
func requiredLiteral(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	return requiredLiteralOf(re)
}

func requiredLiteralOf(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return ""
		}
		return string(re.Rune)
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteralOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteralOf(re.Sub[0])
		}
	case syntax.OpConcat:
		best := ""
		for _, sub := range re.Sub {
			if l := requiredLiteralOf(sub); len(l) > len(best) {
				best = l
			}
		}
		return best
	}
	return ""
}

// compileRuleTemplate parses s, whose {name}s must be among groups.
func compileRuleTemplate(s string, groups map[string][]ruleGroupRef, names []string) (ruleTemplate, error) {
	var t ruleTemplate
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, ruleTemplatePart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return ruleTemplate{}, errors.New(`unmatched "}" (write "}}" for a literal brace)`)
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return ruleTemplate{}, errors.New(`unclosed "{" (write "{{" for a literal brace)`)
			}
			name := s[i+1 : i+1+end]
			refs, ok := groups[name]
			if !ok {
				have := "the rule's regexps have no named groups"
				if len(names) > 0 {
					have = "groups: " + strings.Join(names, ", ")
				}
				return ruleTemplate{}, fmt.Errorf("{%s} is not a named group of the rule's regexps (%s)", name, have)
			}
			flush()
			t.parts = append(t.parts, ruleTemplatePart{refs: refs})
			i += end + 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return t, nil
}

func validRuleName(s string) bool {
	for i, r := range s {
		ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("-_.", r)))
		if !ok {
			return false
		}
	}
	return s != ""
}

func ruleKindNames() []string {
	s := make([]string, len(ruleKinds()))
	for i, k := range ruleKinds() {
		s[i] = string(k)
	}
	return s
}

func ruleKindList() string { return strings.Join(ruleKindNames(), ", ") }

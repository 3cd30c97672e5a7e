package sieve

import (
	"fmt"
	"strings"
)

// enotify (RFC 5435) with the mailto method (RFC 5436): the notify
// command, the valid_notify_method and notify_method_capability tests.
// The engine records a [Notify] action; sending it is the caller's job.
// It is on by default, as in Pigeonhole.
//
// (The :encodeurl modifier of set is declared with the variables
// extension, gated by this capability.)

// Notify asks for a notification through Method (a URI, e.g.
// "mailto:alice@example.com").
type Notify struct {
	At         Position
	Method     string
	From       string   // :from, empty when absent
	Importance int      // 1 high, 2 normal (default), 3 low
	Options    []string // :options
	Message    string   // :message, empty when absent
}

func (a *Notify) Kind() string  { return "notify" }
func (a *Notify) Pos() Position { return a.At }

func enotifyExtension() *extension {
	return &extension{name: "enotify", specs: []*spec{
		{
			name: "notify",
			tags: []tagSpec{
				{name: "from", arg: tString}, {name: "importance", arg: tString},
				{name: "options", arg: tStringList}, {name: "message", arg: tString},
			},
			args: []argType{tString}, argNames: []string{"method"},
			check: checkNotify, exec: execNotify,
		},
		{
			name: "valid_notify_method", test: true,
			args: []argType{tStringList}, argNames: []string{"notification-uris"},
			eval: func(r *run, n *node) (bool, error) {
				for _, uri := range r.strings(n.args[0]) {
					if _, err := parseNotifyURI(uri); err != nil {
						return false, nil
					}
				}
				return true, nil
			},
		},
		{
			name: "notify_method_capability", test: true, match: true,
			args: []argType{tString, tString, tStringList}, argNames: []string{"notification-uri", "notification-capability", "key-list"},
			eval: evalNotifyCapability,
		},
	}}
}

// mailtoURI is a parsed mailto: URI.
type mailtoURI struct {
	to      []string
	headers [][2]string
	subject string
	body    string
}

// reservedMailtoHeaders are header fields a mailto: URI may not set for a
// notification (RFC 5436 §2.2); they are ignored.
var reservedMailtoHeaders = map[string]bool{
	"auto-submitted": true, "received": true, "message-id": true, "data": true,
	"bcc": true, "in-reply-to": true, "references": true, "resent-date": true,
	"resent-from": true, "resent-sender": true, "resent-to": true, "resent-cc": true,
	"resent-bcc": true, "resent-msg-id": true, "from": true, "sender": true,
}

// parseNotifyURI checks a notification method URI; only mailto: is known.
func parseNotifyURI(uri string) (*mailtoURI, error) {
	colon := strings.IndexByte(uri, ':')
	if colon <= 0 || !validScheme(uri[:colon]) {
		return nil, fmt.Errorf("invalid scheme part for method URI '%s'", sanitize(uri, 80))
	}
	if scheme := strings.ToLower(uri[:colon]); scheme != "mailto" {
		return nil, fmt.Errorf("invalid method '%s'", sanitize(scheme, 80))
	}
	return parseMailto(uri[colon+1:])
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

func parseMailto(s string) (*mailtoURI, error) {
	u := &mailtoURI{}
	path, query, _ := strings.Cut(s, "?")
	addTo := func(list string) error {
		for _, raw := range strings.Split(list, ",") {
			if raw == "" {
				continue
			}
			addr, err := pctDecode(raw)
			if err != nil {
				return err
			}
			a, ok := parseAddress(addr)
			if !ok || a.local == "" || a.domain == "" {
				return fmt.Errorf("invalid recipient '%s'", sanitize(addr, 80))
			}
			u.to = append(u.to, a.String())
		}
		return nil
	}
	if err := addTo(path); err != nil {
		return nil, err
	}
	if query != "" {
		for _, hf := range strings.Split(query, "&") {
			rawName, rawValue, _ := strings.Cut(hf, "=")
			name, err := pctDecode(rawName)
			if err != nil {
				return nil, err
			}
			value, err := pctDecode(rawValue)
			if err != nil {
				return nil, err
			}
			if !validFieldName(name) {
				return nil, fmt.Errorf("invalid header field name")
			}
			switch low := strings.ToLower(name); {
			case low == "to":
				if err := addTo(value); err != nil {
					return nil, err
				}
			case low == "subject":
				u.subject = value
			case low == "body":
				u.body = value
			case !reservedMailtoHeaders[low]:
				u.headers = append(u.headers, [2]string{name, value})
			}
		}
	}
	if len(u.to) == 0 {
		return nil, fmt.Errorf("notification URI specifies no recipients")
	}
	return u, nil
}

// pctDecode decodes %XX escapes.
func pctDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("invalid %% encoding")
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("invalid %% encoding")
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func checkNotify(c *checker, n *node) {
	if v := n.tagValue("importance"); v != nil {
		if s := v.strs[0]; s.parts == nil && s.lit != "1" && s.lit != "2" && s.lit != "3" {
			c.errorf(s.pos, "invalid :importance value for notify command: %s", sanitize(s.lit, 80))
		}
	}
	if v := n.tagValue("from"); v != nil {
		if s := v.strs[0]; s.parts == nil {
			if a, ok := parseAddress(s.lit); !ok || a.local == "" || a.domain == "" {
				c.errorf(s.pos, "notify command: specified :from address '%s' is invalid for the mailto method", sanitize(s.lit, 128))
			}
		}
	}
	m := n.args[0].strs[0]
	if m.parts != nil {
		return
	}
	if _, err := parseNotifyURI(m.lit); err != nil {
		c.errorf(m.pos, "notify command: %v", err)
		return
	}
	if v := n.tagValue("options"); v != nil {
		for _, o := range v.strs {
			if o.parts == nil {
				if err := checkNotifyOption(o.lit); err != nil {
					c.errorf(o.pos, "notify command: %v", err)
				}
			}
		}
	}
}

// checkNotifyOption checks an option "name=value" (RFC 5435 §3.3).
func checkNotifyOption(o string) error {
	if o == "" {
		return fmt.Errorf("empty option specified")
	}
	name, _, ok := strings.Cut(o, "=")
	if !ok || name == "" || !isAlpha(name[0]) {
		return fmt.Errorf("invalid option name specified in option '%s'", sanitize(o, 80))
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(isAlpha(c) || isDigit(c) || strings.IndexByte("-_.", c) >= 0) {
			return fmt.Errorf("invalid option name specified in option '%s'", sanitize(o, 80))
		}
	}
	return nil
}

func execNotify(r *run, n *node) error {
	a := &Notify{At: n.pos, Method: r.string(n.args[0]), Importance: 2}
	if _, err := parseNotifyURI(a.Method); err != nil {
		return r.errorf(n.pos, "%v", err)
	}
	if v := n.tagValue("importance"); v != nil {
		switch r.string(v) {
		case "1":
			a.Importance = 1
		case "3":
			a.Importance = 3
		}
	}
	if v := n.tagValue("from"); v != nil {
		a.From = r.string(v)
		if ad, ok := parseAddress(a.From); !ok || ad.local == "" || ad.domain == "" {
			return r.errorf(n.pos, "specified :from address '%s' is invalid for the mailto method", sanitize(a.From, 128))
		}
	}
	if v := n.tagValue("message"); v != nil {
		a.Message = r.string(v)
	}
	for _, o := range r.strings(n.tagValue("options")) {
		if err := checkNotifyOption(o); err != nil {
			return r.errorf(n.pos, "%v", err)
		}
		a.Options = append(a.Options, o)
	}
	// Identical notifications are sent once.
	for _, o := range r.res.Actions {
		if p, ok := o.(*Notify); ok && p.Method == a.Method && p.From == a.From && p.Message == a.Message && p.Importance == a.Importance {
			return nil
		}
	}
	return r.addAction(a)
}

// evalNotifyCapability answers "online" for mailto: it cannot be known.
func evalNotifyCapability(r *run, n *node) (bool, error) {
	if _, err := parseNotifyURI(r.string(n.args[0])); err != nil {
		return false, nil
	}
	if !strings.EqualFold(r.string(n.args[1]), "online") {
		return false, nil
	}
	return r.match(n, []string{"maybe"}, r.strings(n.args[2]))
}

// mailtoMessages composes the messages a mailto: notification sends, as
// the testsuite captures them.
func (a *Notify) mailtoMessages(msg *Message, env Envelope) ([]*SentMessage, error) {
	u, err := parseNotifyURI(a.Method)
	if err != nil {
		return nil, err
	}
	subject := u.subject
	if subject == "" {
		subject = a.Message
	}
	if subject == "" {
		subject = "Notification of new message"
		if s := msg.HeaderDecoded("subject"); len(s) > 0 {
			subject = "Notification of new message: " + s[0]
		}
	}
	from := a.From
	if from == "" {
		from = "Postmaster <postmaster@invalid>"
		if env.To != "" {
			from = "<" + env.To + ">"
		}
	}
	var out []*SentMessage
	for _, to := range u.to {
		var b strings.Builder
		fmt.Fprintf(&b, "From: %s\r\nTo: <%s>\r\nSubject: %s\r\nAuto-Submitted: auto-notified\r\n", from, to, subject)
		for _, h := range u.headers {
			fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
		}
		switch a.Importance {
		case 1:
			b.WriteString("X-Priority: 1 (Highest)\r\nImportance: High\r\n")
		case 3:
			b.WriteString("X-Priority: 5 (Lowest)\r\nImportance: Low\r\n")
		}
		body := u.body
		if body == "" {
			body = a.Message
		}
		b.WriteString("\r\n" + body + "\r\n")
		out = append(out, &SentMessage{From: "", To: to, Message: []byte(b.String())})
	}
	return out, nil
}

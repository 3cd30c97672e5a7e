package sieve

import (
	"fmt"
	"strings"
)

// enotify (RFC 5435) with the mailto method (RFC 5436): the notify
// command, the valid_notify_method and notify_method_capability tests.
// The engine records a [Notify] action with its URI parsed; composing and
// sending the notification is the caller's job (package notify). Like
// Pigeonhole, it is on by default.
//
// (The :encodeurl modifier of set is declared with the variables
// extension, gated by this capability.)

// Notify asks for a notification through Method (a URI, e.g.
// "mailto:alice@example.com").
type Notify struct {
	At     Position
	Method string
	// From is :from as written, "" when absent; FromAddress is its
	// address (local@domain).
	From, FromAddress string
	Importance        int      // 1 high, 2 normal (default), 3 low
	Options           []string // :options
	// Message is :message; HasMessage says whether it was given.
	Message    string
	HasMessage bool
	// Mailto is the parsed mailto: URI, its recipients already pruned of
	// those an earlier notify action of the run notifies.
	Mailto *Mailto
}

func (a *Notify) Kind() string  { return "notify" }
func (a *Notify) Pos() Position { return a.At }

// Settings of the notify limits, as in Pigeonhole.
const (
	defaultMaxNotifications = 10
	defaultMailtoRecipients = 8
	defaultMailtoHeaders    = 16
	notifyProhibited        = "local policy prohibits the use of a notify action"
)

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
					if _, _, err := r.settings().parseNotifyURI(uri); err != nil {
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

// notifyScheme splits a method URI into its scheme and body; ok is false
// when it has no valid scheme (RFC 3986: ALPHA *(ALPHA / DIGIT / "+" /
// "-" / ".")).
func notifyScheme(uri string) (scheme, body string, ok bool) {
	colon := strings.IndexByte(uri, ':')
	if colon <= 0 || !validScheme(uri[:colon]) {
		return "", "", false
	}
	return strings.ToLower(uri[:colon]), uri[colon+1:], true
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

// parseNotifyURI parses a notification method URI; only mailto: is known.
// Warnings are the URI's ignored parts.
func (s Settings) parseNotifyURI(uri string) (*Mailto, []string, error) {
	scheme, body, ok := notifyScheme(uri)
	if !ok {
		return nil, nil, fmt.Errorf("invalid scheme part for method URI '%s'", sanitize(uri, 80))
	}
	if scheme != "mailto" {
		return nil, nil, fmt.Errorf("invalid method '%s'", sanitize(scheme, 80))
	}
	u, warns, err := parseMailto(body, int(s.Int("sieve_notify_mailto_max_recipients", defaultMailtoRecipients)),
		int(s.Int("sieve_notify_mailto_max_headers", defaultMailtoHeaders)))
	if err != nil {
		return nil, nil, fmt.Errorf("mailto URI: %w", err)
	}
	return u, warns, nil
}

func checkNotify(c *checker, n *node) {
	if v := n.tagValue("importance"); v != nil {
		if s := v.strs[0]; s.parts == nil && s.lit != "1" && s.lit != "2" && s.lit != "3" {
			c.errorf(s.pos, "invalid :importance value for notify command: %s", sanitize(s.lit, 80))
		}
	}
	m := n.args[0].strs[0]
	if m.parts != nil {
		c.checkNotifyLimit(n)
		return
	}
	_, warns, err := c.opts.Settings.parseNotifyURI(m.lit)
	if err != nil {
		c.errorf(m.pos, "notify command: %v", err)
		return
	}
	for _, w := range warns {
		c.warnf(m.pos, "notify command: mailto URI: %s", w)
	}
	if v := n.tagValue("from"); v != nil {
		if s := v.strs[0]; s.parts == nil {
			if _, why := parseSieveAddress(s.lit); why != "" {
				c.errorf(s.pos, "notify command: specified :from address '%s' is invalid for the mailto method: %s", sanitize(s.lit, 128), why)
				return
			}
		}
	}
	if v := n.tagValue("options"); v != nil {
		ok := true
		for _, o := range v.strs {
			if o.parts == nil {
				if err := checkNotifyOption(o.lit); err != nil {
					c.errorf(o.pos, "notify command: %v", err)
					ok = false
				}
			}
		}
		if !ok {
			return
		}
		c.warnf(v.pos, "notify command: method 'mailto' accepts no options")
	}
	c.checkNotifyLimit(n)
}

// checkNotifyLimit refuses notify when sieve_notify_max_notifications is 0.
func (c *checker) checkNotifyLimit(n *node) {
	if c.opts.Settings.Int("sieve_notify_max_notifications", defaultMaxNotifications) == 0 {
		c.errorf(n.pos, "%s", notifyProhibited)
	}
}

// checkNotifyOption checks an option "name=value" (RFC 5435 §3.3).
func checkNotifyOption(o string) error {
	if o == "" {
		return fmt.Errorf("empty option specified")
	}
	name, value, ok := strings.Cut(o, "=")
	if !ok || name == "" || !(isAlpha(name[0]) || isDigit(name[0])) {
		return fmt.Errorf("invalid option name specified in option '%s'", sanitize(o, 80))
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(isAlpha(c) || isDigit(c) || strings.IndexByte("-_.", c) >= 0) {
			return fmt.Errorf("invalid option name specified in option '%s'", sanitize(o, 80))
		}
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("notify command: invalid option value specified in option '%s'", sanitize(o, 80))
	}
	return nil
}

func execNotify(r *run, n *node) error {
	a := &Notify{At: n.pos, Method: r.string(n.args[0]), Importance: 2}
	set := r.settings()
	u, warns, err := set.parseNotifyURI(a.Method)
	if err != nil {
		return r.errorf(n.pos, "%v", err)
	}
	for _, w := range warns {
		r.warnf(n.pos, "notify action: mailto URI: %s", w)
	}
	a.Mailto = u
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
		ad, why := parseSieveAddress(a.From)
		if why != "" {
			return r.errorf(n.pos, "specified :from address '%s' is invalid for the mailto method: %s", sanitize(a.From, 128), why)
		}
		a.FromAddress = ad.smtpString()
	}
	if v := n.tagValue("message"); v != nil {
		a.Message, a.HasMessage = r.string(v), true
	}
	for _, o := range r.strings(n.tagValue("options")) {
		if err := checkNotifyOption(o); err != nil {
			r.softErrorf(n.pos, "notify action: %v", err)
			continue
		}
		a.Options = append(a.Options, o)
	}
	max := set.Int("sieve_notify_max_notifications", defaultMaxNotifications)
	if max == 0 {
		return r.errorf(n.pos, "%s", notifyProhibited)
	}
	// Recipients an earlier notification already reaches are dropped;
	// a notification left with none is not added (RFC 5435 §3.9).
	count := 0
	for _, o := range r.res.Actions {
		p, ok := o.(*Notify)
		if !ok {
			continue
		}
		count++
		if p.Mailto == nil {
			continue
		}
		kept := a.Mailto.Recipients[:0:0]
		for _, rc := range a.Mailto.Recipients {
			dup := false
			for _, prc := range p.Mailto.Recipients {
				if sameSMTPAddress(rc.Address, prc.Address) {
					dup = true
					break
				}
			}
			if !dup {
				kept = append(kept, rc)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		a.Mailto.Recipients = kept
	}
	if len(r.res.Actions) < r.root.limits.Actions && max > 0 && int64(count) >= max {
		return r.errorf(n.pos, "number of notify actions exceeds policy limit (max %d)", max)
	}
	return r.addAction(a)
}

// evalNotifyCapability answers "maybe" for "online": with mailto it
// cannot be known.
func evalNotifyCapability(r *run, n *node) (bool, error) {
	if _, _, err := r.settings().parseNotifyURI(r.string(n.args[0])); err != nil {
		return false, nil
	}
	if !strings.EqualFold(r.string(n.args[1]), "online") {
		return false, nil
	}
	return r.match(n, []string{"maybe"}, r.strings(n.args[2]))
}

package sieve

import "strings"

// fileinto (RFC 5228 §4.1), with :copy (RFC 3894), :flags (RFC 5232) and
// :create (RFC 5490).
func fileintoExtension() *extension {
	return &extension{name: "fileinto", specs: []*spec{{
		name: "fileinto",
		tags: append(flagsTags(), tagSpec{name: "copy", ext: "copy"}, tagSpec{name: "create", ext: "mailbox"},
			tagSpec{name: "specialuse", arg: tString, ext: "special-use"}),
		args: []argType{tString}, argNames: []string{"folder"},
		check: func(c *checker, n *node) {
			if v := n.tagValue("specialuse"); v != nil {
				if f := v.strs[0]; f.parts == nil && !validSpecialUseFlag(f.lit) {
					c.errorf(f.pos, "specialuse tag: invalid special-use flag '%s' specified", sanitize(f.lit, 64))
				}
			}
			s := n.args[0].strs[0]
			if s.parts == nil && !utf8Valid(s.lit) {
				c.errorf(n.pos, "fileinto command: invalid folder name '%s' specified: invalid utf-8", sanitize(strings.ToValidUTF8(s.lit, "?"), 256))
			}
		},
		exec: func(r *run, n *node) error {
			box := r.string(n.args[0])
			if !utf8Valid(box) {
				return r.errorf(n.pos, "fileinto command: invalid folder name '%s' specified: invalid utf-8", strings.ToValidUTF8(box, "?"))
			}
			a := &FileInto{At: n.pos, Mailbox: box, Flags: r.actionFlags(n), Copy: n.has("copy"), Create: n.has("create")}
			if v := n.tagValue("specialuse"); v != nil {
				a.SpecialUse = r.string(v)
				if !validSpecialUseFlag(a.SpecialUse) {
					r.warnf(n.pos, "fileinto command: invalid special-use flag '%s' specified", sanitize(a.SpecialUse, 64))
					a.SpecialUse = ""
				}
			}
			return r.addAction(a)
		},
	}}}
}

// validMailboxName accepts any non-empty UTF-8 name without control
// characters.
func validMailboxName(s string) bool {
	if s == "" || !utf8Valid(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// envelope (RFC 5228 §5.4).
func envelopeExtension() *extension {
	return &extension{name: "envelope", specs: []*spec{{
		name: "envelope", test: true, match: true, addrPart: true,
		args: []argType{tStringList, tStringList}, argNames: []string{"envelope part", "key list"},
		check: func(c *checker, n *node) {
			notAddress := ""
			for _, s := range n.args[0].strs {
				if s.parts != nil {
					continue
				}
				switch strings.ToLower(s.lit) {
				case "from", "to":
				case "auth":
					notAddress = "auth"
				default:
					c.errorf(s.pos, "specified envelope part '%s' is not supported by the envelope test", sanitize(strings.ToValidUTF8(s.lit, "?"), 64))
					return
				}
			}
			if notAddress == "" {
				return
			}
			for _, t := range n.tags {
				if tg, ok := c.findTag(n.spec, t.name); ok && tg.group == "address-part" {
					c.errorf(t.pos, "address part ':%s' specified while non-address envelope part '%s' is tested with the envelope test", t.name, notAddress)
					return
				}
			}
		},
		eval: evalEnvelope,
	}}}
}

func evalEnvelope(r *run, n *node) (bool, error) {
	keys := r.strings(n.args[1])
	var vals []string
	for _, part := range r.strings(n.args[0]) {
		var raw string
		switch strings.ToLower(part) {
		case "from":
			raw = r.env.Envelope.From
		case "to":
			// As in Pigeonhole, "to" is the original recipient (ORCPT)
			// when the envelope has one, else the final recipient.
			raw = r.env.Envelope.OrigTo
			if raw == "" {
				raw = r.env.Envelope.To
			}
		case "auth":
			raw = r.env.Envelope.Auth
			if raw == "" {
				continue
			}
			if n.ap == apAll {
				vals = append(vals, raw)
				continue
			}
		default:
			continue
		}
		a, null, ok := parseSMTPPath(strings.TrimSpace(raw))
		switch {
		case !ok:
			// An unparsable path yields nothing, as in Pigeonhole.
		case null:
			// The null reverse-path is "" for every address part.
			vals = append(vals, "")
		case n.ap == apAll:
			vals = append(vals, a.smtpString())
		default:
			if v, ok := r.addressPart(n.ap, a); ok {
				vals = append(vals, v)
			}
		}
	}
	if n.mt != mtCount && len(vals) == 0 {
		return false, nil
	}
	return r.match(n, vals, keys)
}

// reject and ereject (RFC 5429).
func rejectExtension() *extension {
	return &extension{name: "reject", specs: []*spec{rejectSpec("reject", false)}}
}

func erejectExtension() *extension {
	return &extension{name: "ereject", specs: []*spec{rejectSpec("ereject", true)}}
}

func rejectSpec(name string, extended bool) *spec {
	return &spec{
		name: name, args: []argType{tString}, argNames: []string{"reason"},
		exec: func(r *run, n *node) error {
			return r.addAction(&Reject{At: n.pos, Reason: r.string(n.args[0]), Extended: extended})
		},
	}
}

package sieve

import (
	"strconv"
	"strings"
)

// The base language (RFC 5228): control commands, actions and tests.

func coreExtension() *extension {
	return &extension{name: "", specs: []*spec{
		{name: "if", tests: oneTest, block: needBlock, exec: execIf},
		{name: "elsif", tests: oneTest, block: needBlock, exec: execIf},
		{name: "else", block: needBlock, exec: execIf},
		{name: "stop", exec: func(r *run, n *node) error { r.stopped = true; return nil }},
		{name: "keep", tags: flagsTags(), exec: execKeep},
		{name: "discard", exec: func(r *run, n *node) error { return r.addAction(&Discard{At: n.pos}) }},
		{name: "redirect", tags: []tagSpec{{name: "copy", ext: "copy"}, {name: "list", arg: tString, ext: "extlists", param: redirectListTag}},
			args: []argType{tString}, argNames: []string{"address"}, check: checkRedirect, exec: execRedirect},

		{name: "true", test: true, eval: func(r *run, n *node) (bool, error) { return true, nil }},
		{name: "false", test: true, eval: func(r *run, n *node) (bool, error) { return false, nil }},
		{name: "not", test: true, tests: oneTest, eval: func(r *run, n *node) (bool, error) {
			ok, err := r.eval(n.tests[0])
			return !ok, err
		}},
		{name: "allof", test: true, tests: testList, eval: func(r *run, n *node) (bool, error) {
			for _, t := range n.tests {
				if ok, err := r.eval(t); err != nil || !ok {
					return false, err
				}
			}
			return true, nil
		}},
		{name: "anyof", test: true, tests: testList, eval: func(r *run, n *node) (bool, error) {
			for _, t := range n.tests {
				if ok, err := r.eval(t); err != nil || ok {
					return ok, err
				}
			}
			return false, nil
		}},
		{name: "exists", test: true, tags: mimeTags(), args: []argType{tStringList}, argNames: []string{"header names"}, check: checkHeaderNames, eval: evalExists},
		{name: "size", test: true, tags: []tagSpec{{name: "over", group: "size", dupErr: sizeDupErr}, {name: "under", group: "size", dupErr: sizeDupErr}},
			args: []argType{tNumber}, argNames: []string{"limit"}, check: checkSize, eval: evalSize},
		{name: "header", test: true, match: true, tags: headerTags(), args: []argType{tStringList, tStringList},
			argNames: []string{"header names", "key list"}, check: checkHeaderNames, eval: evalHeader},
		{name: "address", test: true, match: true, addrPart: true, tags: append(indexTags(), mimeTags()...), args: []argType{tStringList, tStringList},
			argNames: []string{"header list", "key list"}, check: checkAddressHeaders, eval: evalAddress},
	}}
}

func flagsTags() []tagSpec {
	return []tagSpec{{name: "flags", arg: tStringList, ext: "imap4flags"}}
}

func indexTags() []tagSpec {
	return []tagSpec{{name: "index", arg: tNumber, ext: "index", param: checkIndexParam}, {name: "last", ext: "index"}}
}

// checkIndexParam rejects :index 0 while the tags are checked, as
// Pigeonhole does; other parameter errors are reported generically.
func checkIndexParam(c *checker, s *spec, tag string, a *arg) bool {
	if a != nil && a.kind == argNumber && a.num == 0 {
		c.errorf(a.pos, "the :index tag for the %s %s cannot be zero", s.name, s.kindName())
		return false
	}
	return true
}

func execIf(r *run, n *node) error {
	for b := n; b != nil; b = b.alt {
		if len(b.tests) == 0 { // else
			return r.exec(b.block)
		}
		ok, err := r.eval(b.tests[0])
		if err != nil {
			return err
		}
		if ok {
			return r.exec(b.block)
		}
		if err := r.step(); err != nil {
			return err
		}
	}
	return nil
}

// actionFlags returns the flags for keep/fileinto: :flags when given, else
// the internal flag variable when imap4flags is in use.
func (r *run) actionFlags(n *node) []string {
	if v := n.tagValue("flags"); v != nil {
		return parseFlags(r.strings(v))
	}
	if r.script.caps["imap4flags"] {
		return append([]string{}, r.flags...)
	}
	return nil
}

// parseFlags splits flag strings on spaces and removes duplicates
// (case-insensitive), as imap4flags requires.
func parseFlags(list []string) []string {
	var out []string
	for _, s := range list {
		for _, f := range strings.Fields(s) {
			out = mergeFlags(out, []string{f})
		}
	}
	return out
}

func execKeep(r *run, n *node) error {
	return r.addAction(&Keep{At: n.pos, Flags: r.actionFlags(n)})
}

func checkRedirect(c *checker, n *node) {
	s := n.args[0].strs[0]
	if s.parts != nil {
		return
	}
	if _, why := parseSieveAddress(s.lit); why != "" {
		c.errorf(s.pos, "specified redirect address '%s' is invalid: %s", sanitize(s.lit, 128), why)
	}
}

// parseRedirectAddress validates a redirect target and returns it as the
// SMTP envelope will carry it.
func parseRedirectAddress(s string) (string, string) {
	a, why := parseSieveAddress(s)
	if why != "" {
		return "", why
	}
	return a.smtpString(), ""
}

func execRedirect(r *run, n *node) error {
	raw := r.string(n.args[0])
	addr, why := parseRedirectAddress(raw)
	if why != "" {
		return r.errorf(n.pos, "specified redirect address '%s' is invalid: %s", sanitize(raw, 128), why)
	}
	return r.addAction(&Redirect{At: n.pos, Address: addr, Copy: n.has("copy")})
}

const sizeDupErr = "exactly one of the ':under' or ':over' tags must be specified for the size test, but more were found"

func checkSize(c *checker, n *node) {
	if !n.has("over") && !n.has("under") {
		c.errorf(n.pos, "the size test requires either the :under or the :over tag to be specified")
	}
}

func evalSize(r *run, n *node) (bool, error) {
	limit := n.args[0].num
	size := uint64(r.msg.Size)
	if n.has("over") {
		return size > limit, nil
	}
	return size < limit, nil
}

// checkHeaderNames warns about literal header names that are not valid
// field names (Pigeonhole accepts them; they never match).
func checkHeaderNames(c *checker, n *node) {
	for _, s := range n.args[0].strs {
		if s.parts != nil {
			continue
		}
		if !validFieldName(s.lit) {
			c.warnf(s.pos, "specified header field name '%s' is invalid", sanitize(strings.ToValidUTF8(s.lit, "?"), 80))
			break
		}
	}
	checkIndex(c, n)
}

func checkIndex(c *checker, n *node) {
	checkMimeTags(c, n)
	if t, ok := n.tag("last"); ok && !n.has("index") {
		c.errorf(t.pos, "the :last tag for the %s %s cannot be specified without the :index tag", n.spec.name, n.spec.kindName())
	}
}

func evalExists(r *run, n *node) (bool, error) {
	for _, h := range r.strings(n.args[0]) {
		if len(r.testHeader(n, h, false)) == 0 {
			return false, nil
		}
	}
	return true, nil
}

// headerValues returns the decoded values of the named headers, honouring
// :index/:last.
func (r *run) headerValues(n *node, names []string, decode bool) []string {
	var vals []string
	for _, h := range names {
		vs := applyIndex(n, r.testHeader(n, h, decode))
		vals = append(vals, r.mimeOption(n, h, vs)...)
	}
	return vals
}

// applyIndex selects one value for :index N [:last] (RFC 5260 §6).
func applyIndex(n *node, vs []string) []string {
	v := n.tagValue("index")
	if v == nil {
		return vs
	}
	idx := int(v.num)
	if idx <= 0 || idx > len(vs) {
		return nil
	}
	if n.has("last") {
		return vs[len(vs)-idx : len(vs)-idx+1]
	}
	return vs[idx-1 : idx]
}

func evalHeader(r *run, n *node) (bool, error) {
	vals := r.headerValues(n, r.strings(n.args[0]), true)
	keys := r.strings(n.args[1])
	if n.mt != mtCount && len(vals) == 0 {
		return false, nil
	}
	return r.match(n, vals, keys)
}

// addressHeaders are the fields the address test may inspect: Pigeonhole's
// list (RFC 5228 §5.1 requires from, to, cc, bcc, sender, resent-from and
// resent-to; the rest are other address fields in common use).
var addressHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "sender": true, "resent-from": true, "resent-to": true,
	"reply-to": true, "resent-reply-to": true, "resent-sender": true, "resent-cc": true, "resent-bcc": true,
	"for-approval": true, "for-handling": true, "for-comment": true, "apparently-to": true,
	"errors-to": true, "delivered-to": true, "return-receipt-to": true, "x-admin": true,
	"read-receipt-to": true, "x-confirm-reading-to": true, "return-receipt-requested": true,
	"registered-mail-reply-requested-by": true, "mail-followup-to": true,
	"mail-reply-to": true, "abuse-reports-to": true, "x-complaints-to": true,
	"x-report-abuse-to": true, "x-beenthere": true, "x-original-from": true, "x-original-to": true,
}

func checkAddressHeaders(c *checker, n *node) {
	for _, s := range n.args[0].strs {
		if s.parts == nil && !validFieldName(s.lit) {
			c.warnf(s.pos, "specified header field name '%s' is invalid", sanitize(strings.ToValidUTF8(s.lit, "?"), 80))
			break
		}
	}
	for _, s := range n.args[0].strs {
		if s.parts == nil && !addressHeaders[strings.ToLower(s.lit)] {
			c.errorf(s.pos, "specified header '%s' is not allowed for the address test", sanitize(s.lit, 64))
			return
		}
	}
	checkIndex(c, n)
}

func evalAddress(r *run, n *node) (bool, error) {
	keys := r.strings(n.args[1])
	var vals []string
	for _, h := range r.strings(n.args[0]) {
		fields := applyIndex(n, r.testHeader(n, h, false))
		for _, f := range fields {
			vals = append(vals, r.addressValues(n.ap, f)...)
		}
	}
	if n.mt != mtCount && len(vals) == 0 {
		return false, nil
	}
	return r.match(n, vals, keys)
}

// addressValues extracts the address parts of a header value as
// Pigeonhole does: an empty field yields "" for every part, invalid list
// elements are skipped, and a field without any valid address is matched
// whole by :all only.
func (r *run) addressValues(ap addrPart, raw string) []string {
	if strings.TrimSpace(raw) == "" {
		return []string{""}
	}
	addrs, _ := parseAddressList(raw)
	var out []string
	valid := 0
	for _, a := range addrs {
		if a.local == "" || a.domain == "" {
			continue
		}
		valid++
		if v, ok := r.addressPart(ap, a); ok {
			out = append(out, v)
		}
	}
	if valid == 0 && ap == apAll {
		return []string{strings.TrimSpace(raw)}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

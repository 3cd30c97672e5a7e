package sieve

import "strings"

// vnd.dovecot.report: the report command asks for an abuse/feedback
// report (RFC 5965) about the message to be sent to an address. The
// engine records a [Report] action; package notify composes the report.
// Off by default, as in Pigeonhole.

// Report asks for a feedback report of the message to Address.
type Report struct {
	At           Position
	FeedbackType string // e.g. "abuse", trimmed
	Message      string // the human-readable part
	Address      string // local@domain
	HeadersOnly  bool   // :headers_only: only the header of the message
}

func (a *Report) Kind() string  { return "report" }
func (a *Report) Pos() Position { return a.At }

func vndReportExtension() *extension {
	return &extension{name: "vnd.dovecot.report", specs: []*spec{{
		name: "report", tags: []tagSpec{{name: "headers_only"}},
		args: []argType{tString, tString, tString}, argNames: []string{"feedback-type", "message", "address"},
		check: checkReport, exec: execReport,
	}}}
}

// feedbackType trims a feedback type and checks it is one MIME token.
func feedbackType(s string) (string, bool) {
	t := strings.Trim(s, " \t")
	if t == "" {
		return "", false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= 0x20 || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return "", false
		}
	}
	return t, true
}

func checkReport(c *checker, n *node) {
	if s := n.args[0].strs[0]; s.parts == nil {
		if _, ok := feedbackType(s.lit); !ok {
			c.errorf(s.pos, "specified feedback type '%s' is invalid", sanitize(s.lit, 128))
			return
		}
	}
	if s := n.args[2].strs[0]; s.parts == nil {
		if _, why := parseSieveAddress(s.lit); why != "" {
			c.errorf(s.pos, "specified report address '%s' is invalid: %s", sanitize(s.lit, 128), why)
		}
	}
}

func execReport(r *run, n *node) error {
	raw := r.string(n.args[0])
	ft, ok := feedbackType(raw)
	if !ok {
		return r.errorf(n.pos, "specified report feedback type '%s' is invalid", sanitize(raw, 256))
	}
	to := r.string(n.args[2])
	a, why := parseSieveAddress(to)
	if why != "" {
		return r.errorf(n.pos, "specified report address '%s' is invalid: %s", sanitize(to, 128), why)
	}
	rep := &Report{At: n.pos, FeedbackType: ft, Message: r.string(n.args[1]), Address: a.smtpString(), HeadersOnly: n.has("headers_only")}
	// A second report to the same address is dropped.
	for _, o := range r.res.Actions {
		if p, ok := o.(*Report); ok && sameSMTPAddress(p.Address, rep.Address) {
			return nil
		}
	}
	return r.addAction(rep)
}

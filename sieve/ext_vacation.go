package sieve

import (
	"strconv"
	"strings"
	"time"
)

// vacation (RFC 5230) and vacation-seconds (RFC 6131). The engine records
// the request; whether and how to reply is package vacation's job.
func vacationExtension() *extension {
	return &extension{name: "vacation", specs: []*spec{{
		name: "vacation",
		tags: []tagSpec{
			{name: "days", arg: tNumber, group: "period"},
			{name: "seconds", arg: tNumber, group: "period", ext: "vacation-seconds"},
			{name: "subject", arg: tString},
			{name: "from", arg: tString},
			{name: "addresses", arg: tStringList},
			{name: "mime"},
			{name: "handle", arg: tString},
		},
		args: []argType{tString}, argNames: []string{"reason"},
		check: checkVacation, exec: execVacation,
	}}}
}

func vacationSecondsExtension() *extension {
	return &extension{name: "vacation-seconds", implies: []string{"vacation"}}
}

// vacationData is computed at compile time.
type vacationData struct {
	handle string // synthesized handle when :handle is absent
}

func checkVacation(c *checker, n *node) {
	checkVacationPeriod(c, n)
	if v := n.tagValue("from"); v != nil {
		s := v.strs[0]
		if s.parts == nil {
			if _, why := parseSieveAddress(s.lit); why != "" {
				c.errorf(s.pos, "specified :from address '%s' is invalid for vacation action: %s", sanitize(s.lit, 128), why)
			}
		}
	}
	// :addresses items are not checked here: Pigeonhole ignores invalid
	// ones when the vacation action runs.
	// RFC 5230 §4.2: without :handle, the handle is derived from the
	// arguments as written (before variable expansion).
	var b strings.Builder
	field := func(name string, v *value) {
		b.WriteString(name)
		b.WriteByte(0)
		if v != nil && len(v.strs) > 0 {
			b.WriteString(strconv.Itoa(len(v.strs[0].lit)))
			b.WriteByte(':')
			b.WriteString(v.strs[0].lit)
		}
		b.WriteByte(0)
	}
	field("reason", n.args[0])
	field("subject", n.tagValue("subject"))
	field("from", n.tagValue("from"))
	b.WriteString("mime\x00")
	if n.has("mime") {
		b.WriteString("1")
	}
	n.data = &vacationData{handle: b.String()}
}

func execVacation(r *run, n *node) error {
	a := &Vacation{At: n.pos, Reason: r.string(n.args[0]), Mime: n.has("mime")}
	if v := n.tagValue("subject"); v != nil {
		a.Subject = r.string(v)
	}
	if v := n.tagValue("from"); v != nil {
		a.From = r.string(v)
	}
	if v := n.tagValue("addresses"); v != nil {
		a.Addresses = r.strings(v)
	}
	if v := n.tagValue("handle"); v != nil {
		a.Handle = r.string(v)
	} else {
		a.Handle = n.data.(*vacationData).handle
	}
	if v := n.tagValue("days"); v != nil {
		a.Period, a.PeriodSet = time.Duration(v.num)*24*time.Hour, true
	}
	if v := n.tagValue("seconds"); v != nil {
		a.Period, a.PeriodSet, a.Seconds = time.Duration(v.num)*time.Second, true, true
	}
	return r.addAction(a)
}

// checkVacationPeriod warns, like Pigeonhole, when :days or :seconds is
// outside sieve_vacation_min_period (1d) .. sieve_vacation_max_period
// (60d); the responder clamps it at run time.
func checkVacationPeriod(c *checker, n *node) {
	min := c.opts.Settings.Duration("sieve_vacation_min_period", 24*time.Hour)
	max := c.opts.Settings.Duration("sieve_vacation_max_period", 60*24*time.Hour)
	for _, name := range []string{"days", "seconds"} {
		v := n.tagValue(name)
		if v == nil {
			continue
		}
		secs := v.num
		if name == "days" {
			if secs > (1<<63-1)/86400 {
				secs = 1<<63 - 1
			} else {
				secs *= 86400
			}
		}
		switch {
		case secs < uint64(min/time.Second):
			c.warnf(v.pos, "specified :%s value '%d' is under the minimum", name, v.num)
		case max > 0 && secs > uint64(max/time.Second):
			c.warnf(v.pos, "specified :%s value '%d' is over the maximum", name, v.num)
		}
	}
}

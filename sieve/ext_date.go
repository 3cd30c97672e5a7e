package sieve

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// date and currentdate (RFC 5260 §4, §5): match parts of a date taken
// from a header field or from the run's clock (Env.Now). :index/:last
// (RFC 5260 §6) select the header field as for header and address.

func dateExtension() *extension {
	zoneTags := func(original bool) []tagSpec {
		t := []tagSpec{{name: "zone", arg: tString, group: "zone"}}
		if original {
			t = append(t, tagSpec{name: "originalzone", group: "zone"})
		}
		return t
	}
	return &extension{name: "date", specs: []*spec{
		{
			name: "date", test: true, match: true,
			tags:     append(indexTags(), zoneTags(true)...),
			args:     []argType{tString, tString, tStringList},
			argNames: []string{"header name", "date part", "key list"},
			check: func(c *checker, n *node) {
				checkHeaderNames(c, n)
				checkDateArgs(c, n, n.args[1])
			},
			eval: evalDate,
		},
		{
			name: "currentdate", test: true, match: true,
			tags:     zoneTags(false),
			args:     []argType{tString, tStringList},
			argNames: []string{"date part", "key list"},
			check:    func(c *checker, n *node) { checkDateArgs(c, n, n.args[0]) },
			eval:     evalCurrentDate,
		},
	}}
}

// checkDateArgs warns, as Pigeonhole does, about a literal :zone that is
// not "+hhmm"/"-hhmm" and a literal date part that is not known; the test
// then uses the local zone, or is false.
func checkDateArgs(c *checker, n *node, part *value) {
	if v := n.tagValue("zone"); v != nil && v.strs[0].parts == nil {
		if _, ok := parseZoneOffset(v.strs[0].lit); !ok {
			c.warnf(v.pos, "specified :zone argument '%s' is not a valid timezone", truncateUTF8(v.strs[0].lit, 40))
		}
	}
	if p := part.strs[0]; p.parts == nil && !knownDatePart(p.lit) {
		c.warnf(p.pos, "specified date part '%s' is not known", truncateUTF8(p.lit, 80))
	}
}

func knownDatePart(name string) bool {
	p := strings.ToLower(name)
	for _, known := range dateParts {
		if p == known {
			return true
		}
	}
	return false
}

// dateZone is the zone a date test converts to.
type dateZone struct {
	original bool // :originalzone
	offset   int  // minutes east of UTC, when !original
}

// wantedZone resolves :zone/:originalzone for a run; the default is the
// local zone, the zone of the run's clock.
func (r *run) wantedZone(n *node) dateZone {
	if n.has("originalzone") {
		return dateZone{original: true}
	}
	local := localOffset(r.now)
	v := n.tagValue("zone")
	if v == nil {
		return dateZone{offset: local}
	}
	z := r.string(v)
	off, ok := parseZoneOffset(z)
	if !ok {
		// A bad literal zone is only a compile-time warning in
		// Pigeonhole; either way the local zone is used.
		if v.strs[0].parts != nil {
			r.warnf(v.pos, "specified :zone argument '%s' is not a valid timezone (using local zone)", truncateUTF8(z, 40))
		}
		return dateZone{offset: local}
	}
	return dateZone{offset: off}
}

func localOffset(t time.Time) int {
	_, sec := t.Zone()
	return sec / 60
}

// parseZoneOffset parses "+hhmm" or "-hhmm" into minutes east of UTC.
func parseZoneOffset(s string) (int, bool) {
	if len(s) != 5 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	for i := 1; i < 5; i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
	}
	off := (int(s[1]-'0')*10+int(s[2]-'0'))*60 + int(s[3]-'0')*10 + int(s[4]-'0')
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

func evalDate(r *run, n *node) (bool, error) {
	part, ok := r.datePart(n, r.string(n.args[1]))
	if !ok {
		return false, nil
	}
	zone := r.wantedZone(n)
	fields := applyIndex(n, r.msg.Header(r.string(n.args[0])))
	var vals []string
	// Like Pigeonhole, only the first (selected) field is looked at.
	if len(fields) > 0 {
		if t, orig, ok := parseFieldDate(fields[0]); ok {
			off := zone.offset
			if zone.original {
				off = orig
			}
			vals = append(vals, formatDatePart(part, t, off))
		}
	}
	keys := r.strings(n.args[2])
	if n.mt != mtCount && len(vals) == 0 {
		return false, nil
	}
	return r.match(n, vals, keys)
}

func evalCurrentDate(r *run, n *node) (bool, error) {
	part, ok := r.datePart(n, r.string(n.args[0]))
	if !ok {
		return false, nil
	}
	off := r.wantedZone(n).offset
	vals := []string{formatDatePart(part, r.now, off)}
	return r.match(n, vals, r.strings(n.args[1]))
}

// datePart looks up a date part name (case-insensitive); an unknown one
// makes the test false with a warning, as in Pigeonhole.
func (r *run) datePart(n *node, name string) (string, bool) {
	if knownDatePart(name) {
		return strings.ToLower(name), true
	}
	r.warnf(n.pos, "specified date part argument '%s' is not known", truncateUTF8(name, 40))
	return "", false
}

var dateParts = []string{"year", "month", "day", "date", "julian", "hour", "minute",
	"second", "time", "iso8601", "std11", "zone", "weekday"}

// formatDatePart renders part of instant t seen in the zone offset (in
// minutes east of UTC).
func formatDatePart(part string, t time.Time, offset int) string {
	lt := t.In(time.FixedZone("", offset*60))
	switch part {
	case "year":
		return fmt.Sprintf("%04d", lt.Year())
	case "month":
		return fmt.Sprintf("%02d", int(lt.Month()))
	case "day":
		return fmt.Sprintf("%02d", lt.Day())
	case "date":
		return fmt.Sprintf("%04d-%02d-%02d", lt.Year(), int(lt.Month()), lt.Day())
	case "julian":
		// Modified Julian Day: days since 1858-11-17 (MJD 40587 is
		// 1970-01-01).
		d := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC)
		return strconv.FormatInt(floorDiv(d.Unix(), 86400)+40587, 10)
	case "hour":
		return fmt.Sprintf("%02d", lt.Hour())
	case "minute":
		return fmt.Sprintf("%02d", lt.Minute())
	case "second":
		return fmt.Sprintf("%02d", lt.Second())
	case "time":
		return fmt.Sprintf("%02d:%02d:%02d", lt.Hour(), lt.Minute(), lt.Second())
	case "iso8601":
		s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", lt.Year(), int(lt.Month()), lt.Day(), lt.Hour(), lt.Minute(), lt.Second())
		if offset == 0 {
			return s + "Z"
		}
		z := zoneString(offset)
		return s + z[:3] + ":" + z[3:]
	case "std11":
		return fmt.Sprintf("%s, %02d %s %04d %02d:%02d:%02d %s", lt.Weekday().String()[:3], lt.Day(),
			lt.Month().String()[:3], lt.Year(), lt.Hour(), lt.Minute(), lt.Second(), zoneString(offset))
	case "zone":
		return zoneString(offset)
	case "weekday":
		return strconv.Itoa(int(lt.Weekday()))
	}
	return ""
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// zoneString renders an offset in minutes as "+hhmm"/"-hhmm"; zero is
// "+0000".
func zoneString(offset int) string {
	sign := byte('+')
	if offset < 0 {
		sign = '-'
		offset = -offset
	}
	return fmt.Sprintf("%c%02d%02d", sign, offset/60, offset%60)
}

// parseFieldDate extracts the date of a header field value: the text after
// the last ';' when there is one (Received:), else the whole value.
func parseFieldDate(v string) (time.Time, int, bool) {
	if i := strings.LastIndexByte(v, ';'); i >= 0 {
		v = v[i+1:]
	}
	return parseMessageDate(v)
}

var monthNames = map[string]time.Month{
	"jan": time.January, "feb": time.February, "mar": time.March, "apr": time.April,
	"may": time.May, "jun": time.June, "jul": time.July, "aug": time.August,
	"sep": time.September, "oct": time.October, "nov": time.November, "dec": time.December,
}

// obsolete zone names (RFC 5322 §4.3), in minutes east of UTC.
var zoneNames = map[string]int{
	"ut": 0, "gmt": 0, "z": 0,
	"est": -5 * 60, "edt": -4 * 60, "cst": -6 * 60, "cdt": -5 * 60,
	"mst": -7 * 60, "mdt": -6 * 60, "pst": -8 * 60, "pdt": -7 * 60,
}

// parseMessageDate parses an RFC 5322 date-time (with the obsolete forms:
// comments, two-digit years, named zones, optional seconds). It returns the
// instant and the zone written in the value, in minutes east of UTC.
func parseMessageDate(s string) (time.Time, int, bool) {
	toks := dateTokens(s)
	i := 0
	// Optional day-of-week followed by ','.
	if len(toks) > 1 && toks[1] == "," {
		if !isAlphaString(toks[0]) {
			return time.Time{}, 0, false
		}
		i = 2
	}
	if len(toks)-i < 4 {
		return time.Time{}, 0, false
	}
	day, err := strconv.Atoi(toks[i])
	if err != nil || len(toks[i]) > 2 || day < 1 {
		return time.Time{}, 0, false
	}
	mt := strings.ToLower(toks[i+1])
	if len(mt) < 3 {
		return time.Time{}, 0, false
	}
	mon, ok := monthNames[mt[:3]]
	if !ok {
		return time.Time{}, 0, false
	}
	ys := toks[i+2]
	if (len(ys) != 2 && len(ys) != 4) || !allDigits(ys) {
		return time.Time{}, 0, false
	}
	year, _ := strconv.Atoi(ys)
	switch {
	case len(ys) == 2 && year < 70:
		year += 2000
	case len(ys) == 2:
		year += 1900
	case year < 1900:
		return time.Time{}, 0, false
	}
	hour, min, sec, ok := parseClock(toks[i+3])
	if !ok {
		return time.Time{}, 0, false
	}
	zone := 0
	if len(toks) > i+4 {
		zone = parseZoneName(toks[i+4])
	}
	if day > daysIn(mon, year) {
		return time.Time{}, 0, false
	}
	t := time.Date(year, mon, day, hour, min, sec, 0, time.FixedZone("", zone*60))
	return t, zone, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseClock parses h[h]:mm[:ss]; a leap second reads as :59.
func parseClock(s string) (h, m, sec int, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, false
	}
	var n [3]int
	for i, p := range parts {
		if (len(p) != 2 && (i > 0 || len(p) != 1)) || !allDigits(p) {
			return 0, 0, 0, false
		}
		n[i], _ = strconv.Atoi(p)
	}
	if n[0] > 23 || n[1] > 59 || n[2] > 60 {
		return 0, 0, 0, false
	}
	if n[2] == 60 {
		n[2] = 59
	}
	return n[0], n[1], n[2], true
}

// parseZoneName reads a zone: "+hhmm"/"-hhmm", an obsolete name or a
// military letter (RFC 5322 §4.3). Anything else means an unknown zone,
// read as +0000, as Dovecot does.
func parseZoneName(z string) int {
	if off, ok := parseZoneOffset(z); ok {
		return off
	}
	if off, ok := zoneNames[strings.ToLower(z)]; ok {
		return off
	}
	if len(z) == 1 {
		switch c := z[0] | 0x20; {
		case c >= 'a' && c <= 'i':
			return int(c-'a'+1) * 60
		case c >= 'k' && c <= 'm':
			return int(c-'k'+10) * 60
		case c >= 'n' && c <= 'y':
			return -int(c-'n'+1) * 60
		}
	}
	return 0
}

// dateTokens splits a date into words, dropping comments and white space;
// ',' is a token of its own.
func dateTokens(s string) []string {
	var toks []string
	depth := 0
	start := -1
	flush := func(i int) {
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			flush(i)
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			flush(i)
		case c == ',':
			flush(i)
			toks = append(toks, ",")
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
	return toks
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isAlphaString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlpha(s[i]) {
			return false
		}
	}
	return s != ""
}

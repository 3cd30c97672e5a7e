package sieve

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// spamtest, spamtestplus and virustest (RFC 5235). The tests match a score
// derived from a header field the spam/virus scanner added, configured as
// in Pigeonhole (shown for spamtest; virustest uses sieve_virustest_*):
//
//	sieve_spamtest_status_header     "Name" or "Name: regex" (group 1 is the status)
//	sieve_spamtest_status_type       score (default), strlen or text
//	sieve_spamtest_score_max_header  "Name" or "Name: regex": the maximum, per message
//	sieve_spamtest_score_max_value   the maximum as a number
//	                                 (Pigeonhole 2.3: sieve_spamtest_max_header/max_value)
//	sieve_spamtest_text_valueN       (also sieve_spamtest_text_value/N) the text of value N
//
// The default comparator is i;ascii-casemap, as in Pigeonhole.
// spamtest yields "0" when the extension is not configured or the message
// has no usable status, else 1..10 (virustest 1..5); spamtest :percent
// (spamtestplus) yields 0..100.

func spamtestExtension() *extension {
	return &extension{name: "spamtest", specs: []*spec{
		scoreTestSpec("spamtest", true),
	}}
}

func spamtestplusExtension() *extension {
	return &extension{name: "spamtestplus", implies: []string{"spamtest"}}
}

func virustestExtension() *extension {
	return &extension{name: "virustest", specs: []*spec{
		scoreTestSpec("virustest", false),
	}}
}

func scoreTestSpec(name string, spam bool) *spec {
	s := &spec{
		name: name, test: true, match: true,
		args: []argType{tString}, argNames: []string{"value"},
		eval: func(r *run, n *node) (bool, error) {
			v := r.scannerScore(n, name, n.has("percent"))
			return r.match(n, []string{v}, []string{r.string(n.args[0])})
		},
	}
	if spam {
		s.tags = []tagSpec{{name: "percent"}}
		s.check = func(c *checker, n *node) {
			if t, ok := n.tag("percent"); ok && !c.requires("spamtestplus") {
				c.errorf(t.pos, "the spamtest test only accepts the :percent argument when the spamtestplus extension is active")
			}
		}
	}
	return s
}

// headerSpec is a parsed "Name" or "Name: regex" setting.
type headerSpec struct {
	name string
	re   *regexp.Regexp // nil: the whole value
}

func parseHeaderSpec(v string) (headerSpec, error) {
	s := strings.TrimLeft(v, " \t")
	if s == "" {
		return headerSpec{}, fmt.Errorf("empty header specification")
	}
	i := strings.IndexAny(s, ": \t")
	if i < 0 {
		return headerSpec{name: s}, nil
	}
	hs := headerSpec{name: s[:i]}
	rest := strings.TrimLeft(s[i:], " \t")
	if rest == "" {
		return hs, nil
	}
	if rest[0] != ':' {
		return headerSpec{}, fmt.Errorf("expecting ':', but found '%c'", rest[0])
	}
	pat := strings.TrimLeft(rest[1:], " \t")
	re, err := regexp.Compile("(?i)" + pat)
	if err != nil {
		return headerSpec{}, fmt.Errorf("failed to compile regular expression '%s': %v", pat, err)
	}
	hs.re = re
	return hs, nil
}

// extract returns the (first) field's value, or the regex's first group.
func (h headerSpec) extract(m *Message) (string, bool) {
	vals := m.HeaderDecoded(h.name)
	if len(vals) == 0 {
		return "", false
	}
	if h.re == nil {
		return vals[0], true
	}
	sm := h.re.FindStringSubmatch(vals[0])
	if len(sm) < 2 {
		return "", false
	}
	return sm[1], true
}

// scannerConfig is the configuration of spamtest or virustest.
type scannerConfig struct {
	status   headerSpec
	typ      string // score, strlen, text
	maxHdr   *headerSpec
	maxValue float64
	text     map[int]string
}

// scannerSettings reads the configuration of ext ("spamtest" or
// "virustest"); ok is false when the extension is not configured.
func scannerSettings(set Settings, ext string) (cfg scannerConfig, ok bool, err error) {
	prefix := "sieve_" + ext + "_"
	status := set.String(prefix+"status_header", "")
	if status == "" {
		return cfg, false, nil
	}
	if cfg.status, err = parseHeaderSpec(status); err != nil {
		return cfg, false, fmt.Errorf("invalid status header specification '%s': %v", status, err)
	}
	cfg.typ = set.String(prefix+"status_type", "score")
	switch cfg.typ {
	case "", "score":
		cfg.typ = "score"
	case "strlen", "text":
	default:
		return cfg, false, fmt.Errorf("invalid status type '%s'", cfg.typ)
	}
	if cfg.typ == "text" {
		maxText := 10
		if ext == "virustest" {
			maxText = 5
		}
		cfg.text = map[int]string{}
		for i := 0; i <= maxText; i++ {
			for _, k := range []string{fmt.Sprintf("%stext_value%d", prefix, i), fmt.Sprintf("%stext_value/%d", prefix, i)} {
				if v, ok := set[k]; ok {
					cfg.text[i] = v
				}
			}
		}
		return cfg, true, nil
	}
	// Pigeonhole 2.3 names these sieve_*_max_header/max_value; 2.4
	// sieve_*_score_max_header/score_max_value.
	maxHdr := set.String(prefix+"score_max_header", set.String(prefix+"max_header", ""))
	maxVal := set.String(prefix+"score_max_value", set.String(prefix+"max_value", ""))
	switch {
	case maxHdr != "" && maxVal != "":
		return cfg, false, fmt.Errorf("sieve_%s_score_max_header and sieve_%s_score_max_value cannot both be configured", ext, ext)
	case maxHdr != "":
		hs, err := parseHeaderSpec(maxHdr)
		if err != nil {
			return cfg, false, fmt.Errorf("invalid max score header specification '%s': %v", maxHdr, err)
		}
		cfg.maxHdr = &hs
	case maxVal != "":
		if cfg.maxValue, err = parseDecimal(maxVal); err != nil {
			return cfg, false, fmt.Errorf("invalid max score value specification '%s': %v", maxVal, err)
		}
	default:
		return cfg, false, fmt.Errorf("none of sieve_%s_score_max_header or sieve_%s_score_max_value is configured", ext, ext)
	}
	return cfg, true, nil
}

// scannerScore computes the value spamtest/virustest match: "0" when not
// configured or not determinable.
func (r *run) scannerScore(n *node, ext string, percent bool) string {
	cfg, ok, err := scannerSettings(r.settings(), ext)
	if err != nil {
		r.warnf(n.pos, "%s: extension not configured, tests will always match against \"0\": %v", ext, err)
		return "0"
	}
	if !ok {
		return "0"
	}
	ratio, ok := cfg.ratio(r.msg, ext)
	if !ok {
		return "0"
	}
	var score int
	switch {
	case percent:
		score = int(ratio*100 + 0.001)
	case ext == "virustest":
		score = int(ratio*4 + 1.001)
	default:
		score = int(ratio*9 + 1.001)
	}
	return strconv.Itoa(score)
}

// ratio is the status over the maximum, clamped to [0, 1].
func (cfg *scannerConfig) ratio(m *Message, ext string) (float64, bool) {
	max := cfg.maxValue
	switch {
	case cfg.typ == "text":
		max = 10
		if ext == "virustest" {
			max = 5
		}
	case cfg.maxHdr != nil:
		v, ok := cfg.maxHdr.extract(m)
		if !ok {
			return 0, false
		}
		var err error
		if max, err = parseDecimal(v); err != nil {
			return 0, false
		}
	}
	if max == 0 {
		return 0, false
	}
	status, ok := cfg.status.extract(m)
	if !ok {
		return 0, false
	}
	var val float64
	switch cfg.typ {
	case "score":
		var err error
		if val, err = parseDecimal(status); err != nil {
			return 0, false
		}
	case "strlen":
		for i := 1; i < len(status); i++ {
			if status[i] != status[0] {
				return 0, false
			}
		}
		val = float64(len(status))
	case "text":
		found := false
		for i := 0; i <= int(max); i++ {
			if t, ok := cfg.text[i]; ok && t == status {
				val, found = float64(i), true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	switch {
	case val < 0:
		return 0, true
	case val > max:
		return 1, true
	}
	return val / max, true
}

// parseDecimal parses a scanner's decimal number: an optional sign, at most
// five digits before and after the point ('.' or ',').
func parseDecimal(s string) (float64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty value")
	}
	p := s
	sign := 1.0
	if p[0] == '+' || p[0] == '-' {
		if p[0] == '-' {
			sign = -1
		}
		p = p[1:]
	}
	i := 0
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	if i > 5 {
		return 0, fmt.Errorf("decimal value has too many digits before radix point: %s", s)
	}
	intPart, frac := p[:i], ""
	p = p[i:]
	if p != "" && (p[0] == '.' || p[0] == ',') {
		j := 1
		for j < len(p) && isDigit(p[j]) {
			j++
		}
		frac = p[1:j]
		if len(frac) > 5 {
			return 0, fmt.Errorf("decimal value has too many digits after radix point: %s", s)
		}
		p = p[j:]
	}
	if p != "" {
		return 0, fmt.Errorf("invalid decimal point value: %s", s)
	}
	v, _ := strconv.ParseFloat("0"+intPart+"."+frac+"0", 64)
	return sign * v, nil
}

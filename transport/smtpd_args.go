package transport

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/vacationd/vacationd/mailaddr"
)

// The arguments of MAIL FROM and RCPT TO (RFC 5321 section 4.1.2, with
// the parameters of the extensions the server offers).

// pathArg parses the argument of MAIL or RCPT: keyword ("FROM:", "TO:",
// in any case), the path (see parsePath) and the rest, the parameters.
func pathArg(arg, keyword string, null bool) (addr, params string, ok bool) {
	rest, ok := cutPrefixFold(arg, keyword)
	if !ok {
		return "", "", false
	}
	return parsePath(strings.TrimSpace(rest), null)
}

// parsePath reads the path at the start of s: "<local@domain>" (the
// brackets may be left out, as Postfix allows), "<>" when null is
// allowed, a source route dropped. The local part is a dot-string or a
// quoted string; the domain runs to the next space or '>'. It returns
// the address with a quoted local part unquoted (mailaddr.Quote writes
// it as the envelope carries it) and the rest of s, the parameters.
func parsePath(s string, null bool) (addr, rest string, ok bool) {
	if null && strings.HasPrefix(s, "<>") {
		return "", s[2:], true
	}
	i := 0
	bracket := strings.HasPrefix(s, "<")
	if bracket {
		i++
	}
	if i < len(s) && s[i] == '@' { // a source route, @a,@b:
		j := strings.IndexByte(s[i:], ':')
		if j < 0 {
			return "", "", false
		}
		i += j + 1
	}
	start := i
	if i < len(s) && s[i] == '"' {
		for i++; ; i++ {
			if i >= len(s) {
				return "", "", false
			}
			if s[i] == '\\' {
				i++
				continue
			}
			if s[i] == '"' {
				i++
				break
			}
		}
		if i == start+2 {
			return "", "", false // ""@domain
		}
	} else {
		for ; i < len(s) && s[i] != '@'; i++ {
			if strings.IndexByte("()<>[]:;\\,\" \t", s[i]) >= 0 {
				return "", "", false
			}
		}
		if i == start {
			return "", "", false
		}
	}
	if i >= len(s) || s[i] != '@' {
		return "", "", false
	}
	local := s[start:i]
	i++
	ds := i
	for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '>' {
		i++
	}
	if i == ds {
		return "", "", false
	}
	domain := s[ds:i]
	if bracket {
		if i >= len(s) || s[i] != '>' {
			return "", "", false
		}
		i++
	}
	return mailaddr.UnquoteLocal(local) + "@" + domain, s[i:], true
}

// mailParams are the MAIL FROM parameters the session keeps.
type mailParams struct {
	size int64 // SIZE, 0 if none
	utf8 bool  // SMTPUTF8
}

// paramErr answers a bad parameter.
func paramErr(code int, text string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 5, 4}, Message: text}
}

// eachParam calls each with the keys (upper case) and values of
// "KEY=VALUE KEY ...".
func eachParam(s string, each func(key, value string) error) error {
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		if strings.Contains(v, "=") && !strings.EqualFold(k, "ORCPT") && !strings.EqualFold(k, "ENVID") {
			return paramErr(501, "Bad parameter syntax: "+f)
		}
		if err := each(strings.ToUpper(k), v); err != nil {
			return err
		}
	}
	return nil
}

// parseMailParams reads the parameters of MAIL FROM: SIZE (over max is
// 552), BODY, SMTPUTF8, and DSN's RET and ENVID, which are checked and
// not kept (the server sends no DSN).
func parseMailParams(s string, max int64) (mailParams, error) {
	var mp mailParams
	err := eachParam(s, func(k, v string) error {
		switch k {
		case "SIZE":
			n, err := strconv.ParseUint(v, 10, 63)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return paramErr(501, "Bad SIZE parameter: "+v)
			}
			if err != nil || int64(n) > max { // too many digits is too large too
				return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
					Message: "Message size exceeds the limit of " + strconv.FormatInt(max, 10) + " octets"}
			}
			mp.size = int64(n)
		case "BODY":
			switch strings.ToUpper(v) {
			case "7BIT", "8BITMIME":
			default:
				return paramErr(501, "Bad BODY parameter: "+v)
			}
		case "SMTPUTF8":
			if v != "" {
				return paramErr(501, "SMTPUTF8 takes no value")
			}
			mp.utf8 = true
		case "RET":
			switch strings.ToUpper(v) {
			case "FULL", "HDRS":
			default:
				return paramErr(501, "Bad RET parameter: "+v)
			}
		case "ENVID":
			if id, ok := decodeXtext(v); !ok || id == "" || !printableASCII(id) {
				return paramErr(501, "Bad ENVID parameter")
			}
		default:
			return paramErr(555, "Unsupported MAIL FROM parameter: "+k)
		}
		return nil
	})
	return mp, err
}

// parseRcptParams reads the parameters of RCPT TO: DSN's NOTIFY (checked)
// and ORCPT, whose address it returns decoded.
func parseRcptParams(s string) (orcpt string, err error) {
	err = eachParam(s, func(k, v string) error {
		switch k {
		case "NOTIFY":
			if !validNotify(v) {
				return paramErr(501, "Bad NOTIFY parameter: "+v)
			}
		case "ORCPT":
			a, ok := decodeORCPT(v)
			if !ok {
				return paramErr(501, "Bad ORCPT parameter")
			}
			orcpt = a
		default:
			return paramErr(555, "Unsupported RCPT TO parameter: "+k)
		}
		return nil
	})
	return orcpt, err
}

// validNotify checks NOTIFY's value (RFC 3461 section 4.1): NEVER alone,
// or some of SUCCESS, FAILURE and DELAY, each once.
func validNotify(v string) bool {
	seen := map[string]bool{}
	for _, n := range strings.Split(strings.ToUpper(v), ",") {
		switch n {
		case "NEVER", "SUCCESS", "FAILURE", "DELAY":
		default:
			return false
		}
		if seen[n] {
			return false
		}
		seen[n] = true
	}
	return !seen["NEVER"] || len(seen) == 1
}

// decodeORCPT decodes ORCPT's "type;address": xtext for rfc822 (RFC 3461
// section 4.2), RFC 6533's utf-8-addr-xtext or -unitext for utf-8.
func decodeORCPT(v string) (string, bool) {
	typ, a, ok := strings.Cut(v, ";")
	if !ok || a == "" {
		return "", false
	}
	switch strings.ToLower(typ) {
	case "rfc822":
		a, ok = decodeXtext(a)
		return a, ok && a != "" && printableASCII(a)
	case "utf-8":
		return decodeUnitext(a)
	}
	return "", false
}

// decodeXtext decodes xtext: "+XX" is the octet of hex XX.
func decodeXtext(s string) (string, bool) {
	if !strings.Contains(s, "+") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '+' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil || strings.ToUpper(s[i+1:i+3]) != s[i+1:i+3] {
			return "", false
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), true
}

// decodeUnitext decodes RFC 6533's utf-8-addr forms: "\x{HEX}" is the
// character of code point HEX; UTF-8 stands for itself; controls, space,
// '+', '=' and a lone '\' are not allowed.
func decodeUnitext(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			rest, ok := strings.CutPrefix(s[i:], `\x{`)
			end := strings.IndexByte(rest, '}')
			if !ok || end < 1 || end > 6 {
				return "", false
			}
			n, err := strconv.ParseUint(rest[:end], 16, 32)
			if err != nil || !utf8.ValidRune(rune(n)) {
				return "", false
			}
			b.WriteRune(rune(n))
			i += 3 + end + 1
		case c <= ' ' || c == 0x7f || c == '+' || c == '=':
			return "", false
		default:
			b.WriteByte(c)
			i++
		}
	}
	a := b.String()
	return a, a != "" && utf8.ValidString(a)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// cutPrefixFold is strings.CutPrefix ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

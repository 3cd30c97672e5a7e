package sieve

import (
	"strings"
)

// The mime extension (RFC 5703 §4): the :mime and :anychild tags of the
// header, address and exists tests, and the :type, :subtype, :contenttype
// and :param options of the header test. With :mime the tests look at the
// header of the current MIME part (foreverypart, ext_foreverypart.go) or,
// outside a loop, at the message header; :anychild adds the headers of
// every part below it (as Pigeonhole reckons them: see subtreeEnd).

func mimeExtension() *extension { return &extension{name: "mime"} }

// mimeTags are the tags mime adds to header, address and exists.
func mimeTags() []tagSpec {
	return []tagSpec{{name: "mime", ext: "mime"}, {name: "anychild", ext: "mime"}}
}

const mimeOptDupErr = "the :type, :subtype, :contenttype, and :param arguments for the header test are mutually exclusive, but more than one was specified"

// headerTags are the header test's tags: :index/:last, :mime/:anychild
// and the mime options.
func headerTags() []tagSpec {
	tags := append(indexTags(), mimeTags()...)
	for _, name := range mimeOptions {
		t := tagSpec{name: name, ext: "mime", group: "mimeopt", dupErr: mimeOptDupErr}
		if name == "param" {
			t.arg = tStringList
		}
		tags = append(tags, t)
	}
	return tags
}

// mimeOptions are the header test's value extraction options.
var mimeOptions = []string{"type", "subtype", "contenttype", "param"}

// checkMimeTags reports mime option tags used without :mime.
func checkMimeTags(c *checker, n *node) {
	if n.has("mime") {
		return
	}
	for _, t := range n.tags {
		if t.name == "anychild" || t.name == "type" || t.name == "subtype" || t.name == "contenttype" || t.name == "param" {
			c.errorf(t.pos, "the :%s tag for the %s %s cannot be specified without the :mime tag", t.name, n.spec.name, n.spec.kindName())
			return
		}
	}
}

// testHeader returns the unfolded values of the fields called name that
// test n looks at, RFC 2047 decoded when decode is set.
func (r *run) testHeader(n *node, name string, decode bool) []string {
	var vals []string
	switch {
	case !n.has("mime"):
		vals = r.msg.Header(name)
	case !n.has("anychild"):
		if p := r.currentPart(); p != nil {
			vals = fieldValues(p.fields, name)
		} else {
			vals = r.msg.Header(name)
		}
	default:
		parts, from, to := r.bodyParts(), 0, 0
		to = len(parts)
		if l := r.currentLoop(); l != nil {
			parts, from, to = l.parts, l.idx, subtreeEnd(l.parts, l.idx)
		}
		for _, p := range parts[from:to] {
			if !p.epilogue {
				vals = append(vals, fieldValues(p.fields, name)...)
			}
		}
	}
	if decode {
		for i, v := range vals {
			vals[i] = DecodeWords(v)
		}
	}
	return vals
}

func fieldValues(fields []Field, name string) []string {
	var out []string
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, Unfold(f.Value))
		}
	}
	return out
}

// mimeOption applies the header test's :type, :subtype, :contenttype or
// :param option to the values of field name, as Pigeonhole does: fields
// other than Content-Type and Content-Disposition, and invalid values,
// yield "", and :param yields "" for a value without any of the wanted
// parameters.
func (r *run) mimeOption(n *node, name string, vals []string) []string {
	opt := ""
	for _, o := range mimeOptions {
		if n.has(o) {
			opt = o
		}
	}
	if opt == "" {
		return vals
	}
	var wanted []string
	if opt == "param" {
		wanted = r.strings(n.tagValue("param"))
	}
	isType := strings.EqualFold(name, "content-type")
	isDisp := strings.EqualFold(name, "content-disposition")
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if !isType && !isDisp {
			out = append(out, "")
			continue
		}
		typ, params, ok := parseContentHeader(v, isType)
		switch {
		case !ok:
			out = append(out, "")
		case opt == "param":
			found := false
			for _, w := range wanted {
				if pv, has := params[strings.ToLower(w)]; has {
					out = append(out, pv)
					found = true
				}
			}
			if !found {
				out = append(out, "")
			}
		case opt == "type":
			main, _, _ := strings.Cut(typ, "/")
			out = append(out, main)
		case opt == "subtype":
			_, sub, _ := strings.Cut(typ, "/")
			out = append(out, sub)
		default:
			out = append(out, typ)
		}
	}
	return out
}

// parseContentHeader reads a Content-Type ("type/subtype") or, when
// ctype is false, a Content-Disposition (a single token) value and its
// parameters; ok is false when the value is invalid.
func parseContentHeader(v string, ctype bool) (typ string, params map[string]string, ok bool) {
	if ctype {
		typ, params = parseContentType(v)
		return typ, params, typ != ""
	}
	tok, rest, semi := strings.Cut(v, ";")
	tok = strings.Trim(tok, " \t")
	if !isMIMEToken(tok) {
		return "", nil, false
	}
	if semi {
		_, params = parseContentType("x/x;" + rest)
	}
	return tok, params, true
}

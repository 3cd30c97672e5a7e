package sieve

import "strings"

// The body extension (RFC 5173): the body test with the :raw, :content and
// :text transforms. Parts are found by bodyParts (ext_body_mime.go); HTML is
// reduced to text by htmlToText (ext_body_html.go).

func bodyExtension() *extension {
	return &extension{name: "body", specs: []*spec{
		{name: "body", test: true, match: true,
			tags:     []tagSpec{{name: "raw"}, {name: "content", arg: tStringList}, {name: "text"}},
			args:     []argType{tStringList},
			argNames: []string{"key list"},
			check:    checkBody, eval: evalBody},
	}}
}

// bodyTransforms are the body test's mutually exclusive transform tags.
var bodyTransforms = []string{"raw", "content", "text"}

func checkBody(c *checker, n *node) {
	seen := 0
	for _, t := range n.tags {
		for _, name := range bodyTransforms {
			if t.name != name {
				continue
			}
			seen++
			if seen > 1 {
				c.errorf(t.pos, "the :raw, :content and :text arguments for the body test are mutually exclusive, but more than one was specified")
				return
			}
		}
	}
}

// bodyState caches the parsed parts of the message a run looks at; it is
// rebuilt when editheader replaces the message.
type bodyState struct {
	msg   *Message
	parts []*mimePart
}

func (r *run) bodyParts() []*mimePart {
	st, _ := r.ext["body"].(*bodyState)
	if st == nil || st.msg != r.msg {
		st = &bodyState{msg: r.msg, parts: parseMIMEParts(r.msg)}
		r.ext["body"] = st
	}
	return st.parts
}

func evalBody(r *run, n *node) (bool, error) {
	keys := r.strings(n.args[0])
	var vals []string
	switch {
	case n.has("raw"):
		if len(r.msg.Body) > 0 {
			vals = []string{string(r.msg.Body)}
		}
	case n.has("content"):
		types := r.strings(n.tagValue("content"))
		for _, p := range r.bodyParts() {
			if p.hasBody && wantedContentType(types, p.ctype) {
				vals = append(vals, p.content)
			}
		}
	default: // :text, the default transform in Pigeonhole
		for _, p := range r.bodyParts() {
			if !p.hasBody || !wantedContentType(textContentTypes, p.ctype) {
				continue
			}
			if isHTMLType(p.ctype) {
				vals = append(vals, htmlToText(p.content))
			} else {
				vals = append(vals, p.content)
			}
		}
	}
	// RFC 5173 §6: the body test does not set match variables.
	saved := append([]string(nil), r.matchVals...)
	ok, err := r.match(n, vals, keys)
	r.matchVals = saved
	return ok, err
}

// textContentTypes are the parts :text extracts text from.
var textContentTypes = []string{"application/xhtml+xml", "text"}

func isHTMLType(t string) bool {
	return strings.EqualFold(t, "text/html") || strings.EqualFold(t, "application/xhtml+xml")
}

// wantedContentType reports whether a part of type ctype ("type/subtype",
// or "" when its Content-Type is invalid) matches one of the :content
// types (RFC 5173 §5.2): "" matches everything, "type" any subtype of
// type, "type/subtype" exactly that type; anything else matches nothing.
func wantedContentType(wanted []string, ctype string) bool {
	main := ctype
	if i := strings.IndexByte(ctype, '/'); i >= 0 {
		main = ctype[:i]
	}
	for _, w := range wanted {
		if w == "" {
			return true
		}
		if strings.IndexByte(w, '/') < 0 {
			if strings.EqualFold(w, main) {
				return true
			}
		} else if strings.EqualFold(w, ctype) {
			return true
		}
	}
	return false
}

package sieve

// The extracttext extension (RFC 5703 §7): extracttext [MODIFIER]
// [":first" number] <varname> stores the text of the current MIME part
// of a foreverypart loop in a variable. As in Pigeonhole, a part with
// parts below it (multipart, message/rfc822) has no text, HTML is
// reduced to text, and :first keeps that many octets.

func extracttextExtension() *extension {
	return &extension{name: "extracttext", validate: validateExtracttextRequire, specs: []*spec{
		{name: "extracttext", tags: append(modifierTags(), tagSpec{name: "first", arg: tNumber}),
			args: []argType{tString}, argNames: []string{"varname"},
			check: checkExtracttext, exec: execExtracttext},
	}}
}

func validateExtracttextRequire(c *checker, p Position) {
	switch {
	case !c.requires("variables"):
		c.errorf(p, "extracttext extension cannot be used without variables extension")
	case !c.requires("foreverypart"):
		c.errorf(p, "extracttext extension cannot be used without foreverypart extension")
	}
}

func checkExtracttext(c *checker, n *node) {
	before := len(c.errs.list)
	c.checkVarName(n.args[0].strs[0], true)
	if len(c.errs.list) > before {
		return
	}
	if len(c.loopScope().loops) == 0 {
		c.errorf(n.pos, "the extracttext command is not placed inside a foreverypart loop")
	}
}

func execExtracttext(r *run, n *node) error {
	p := r.currentPart()
	if p == nil {
		return r.errorf(n.pos, "extracttext outside of a foreverypart loop")
	}
	text := ""
	if !p.children && !p.epilogue {
		text = p.content
		if isHTMLType(p.ctype) && text != "" {
			text = htmlToText(text)
		}
	}
	if v := n.tagValue("first"); v != nil && v.num < uint64(len(text)) {
		text = text[:v.num]
	}
	r.setVar(n.args[0].strs[0].lit, r.modify(n, text))
	return nil
}

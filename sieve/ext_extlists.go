package sieve

import "strings"

// extlists (RFC 6134): the :list match type, which is true when a value is
// an item of one of the named external lists, and the valid_ext_list
// test. Lists come from Env.Lists; without a source no list is known.
// redirect :list is refused, as in Pigeonhole. Off by default.

// ListSource answers extlists. Names are normalized list URIs, e.g.
// "urn:ietf:params:sieve:addrbook:default" or "tag:example.com,2010:x".
type ListSource interface {
	// HasList reports whether the named list is configured.
	HasList(name string) bool
	// ListContains reports whether the list holds item.
	ListContains(name, item string) (bool, error)
}

// sieveURNPrefix expands the ":addrbook:..." shorthand (RFC 6134 §2.2).
const sieveURNPrefix = "urn:ietf:params:sieve"

func extlistsExtension() *extension {
	return &extension{name: "extlists", specs: []*spec{{
		name: "valid_ext_list", test: true,
		args: []argType{tStringList}, argNames: []string{"ext-list-names"},
		eval: func(r *run, n *node) (bool, error) {
			for _, name := range r.strings(n.args[0]) {
				norm, ok := NormalizeListName(name)
				if !ok || r.env.Lists == nil || !r.env.Lists.HasList(norm) {
					return false, nil
				}
			}
			return true, nil
		},
	}}}
}

// NormalizeListName turns an external list name into the URI lists are
// known by: the ":" shorthand expanded, scheme and URN namespace lower
// case. ok is false for a name that is no urn: or tag: URI.
func NormalizeListName(name string) (string, bool) {
	if strings.HasPrefix(name, ":") {
		name = sieveURNPrefix + name
	}
	scheme, rest, ok := strings.Cut(name, ":")
	if !ok || !validScheme(scheme) || rest == "" {
		return "", false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c <= 0x20 || c >= 0x7f {
			return "", false
		}
	}
	switch scheme = strings.ToLower(scheme); scheme {
	case "urn":
		nid, nss, ok := strings.Cut(rest, ":")
		if !ok || nid == "" || nss == "" {
			return "", false
		}
		return "urn:" + strings.ToLower(nid) + ":" + nss, true
	case "tag":
		return "tag:" + rest, true
	}
	return "", false
}

// redirectListTag refuses redirect :list.
func redirectListTag(c *checker, s *spec, tag string, a *arg) bool {
	p := Position{File: c.file}
	if a != nil {
		p = a.pos
	}
	c.errorf(p, "list tag: using :list with redirect is not supported")
	return false
}

// matchList is the :list match: the first value that is an item of one of
// the lists named by keys becomes match value ${0}.
func (r *run) matchList(n *node, values, keys []string) (bool, error) {
	warned := false
	var lists []string
	for _, k := range keys {
		norm, ok := NormalizeListName(k)
		known := ok && r.env.Lists != nil && r.env.Lists.HasList(norm)
		if !known {
			if !warned {
				warned = true
				what := "not a known list name"
				if !ok {
					what = "not a valid list name"
				}
				r.warnf(n.pos, "Key item '%s' for \":list\" match is %s", sanitize(k, 1024), what)
			}
			continue
		}
		lists = append(lists, norm)
	}
	for _, v := range values {
		for _, l := range lists {
			if err := r.step(); err != nil {
				return false, err
			}
			ok, err := r.env.Lists.ListContains(l, v)
			if err != nil {
				return false, r.errorf(n.pos, "\":list\" match: %v", err)
			}
			if ok {
				r.setMatch([]string{v})
				return true, nil
			}
		}
	}
	return false, nil
}

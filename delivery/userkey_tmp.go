package delivery

import "strings"

// userKeyOf is the user an address belongs to (until the pipeline
// restructuring lands its UserKey, which replaces this copy).
func userKeyOf(addr, delims string) string {
	addr = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(addr), "<"), ">"))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	if delims != "" {
		if i := strings.IndexAny(local, delims); i > 0 {
			local = local[:i]
		}
	}
	return local + "@" + domain
}

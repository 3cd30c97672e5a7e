package delivery

import "strings"

// UserKey is the user an address belongs to (temporary copy until the
// pipeline restructuring lands; it holds the one implementation).
func UserKey(addr, delims string) string {
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

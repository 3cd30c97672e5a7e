package postgres

// The schema keeps strings from mail and scripts as bytea (see
// migrations/0001_init.sql); these convert at the boundary.

// by is s as a bytea argument: never nil, which pgx would send as NULL.
func by(s string) []byte { return append([]byte{}, s...) }

func bys(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = by(s)
	}
	return out
}

func strs(bb [][]byte) []string {
	out := make([]string, len(bb))
	for i, b := range bb {
		out[i] = string(b)
	}
	return out
}

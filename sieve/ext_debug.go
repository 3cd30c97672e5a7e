package sieve

// vnd.dovecot.debug: debug_log writes a message to the run's trace (in
// Pigeonhole, to the debug log). Like there, it is off unless enabled; the
// testsuite enables it.
func debugExtension() *extension {
	return &extension{name: "vnd.dovecot.debug", specs: []*spec{{
		name: "debug_log", args: []argType{tString}, argNames: []string{"message"},
		exec: func(r *run, n *node) error {
			r.tracef("%s: DEBUG: %s", n.pos, r.string(n.args[0]))
			return nil
		},
	}}}
}

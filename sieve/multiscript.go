package sieve

import "context"

// RunMulti runs scripts in sequence the way Pigeonhole runs sieve_before,
// the personal script and sieve_after: each script sees the message as the
// previous ones left it (editheader), their actions accumulate under the
// usual merging and conflict rules, and the sequence ends at the first
// script that cancels the implicit keep. The implicit keep of the last
// script that ran decides the final one. A runtime error ends the sequence
// and keeps the message.
func RunMulti(ctx context.Context, scripts []*Script, env *Env) (*Result, error) {
	if len(scripts) == 0 {
		return &Result{ImplicitKeep: true, Message: env.Message}, nil
	}
	e := *env
	if len(scripts) == 1 {
		return scripts[0].Run(ctx, &e)
	}
	total := &Result{ImplicitKeep: true}
	// Pigeonhole executes each script's result before the next script
	// runs, so a later script's actions do not conflict with earlier
	// ones (a second reject is dropped, a fileinto after a reject stays).
	// total.executed marks them while merging; nothing is carried out for
	// real until the caller executes the result.
	defer func() { total.executed = 0 }()
	var flags []string
	flagsInUse := false
	for _, s := range scripts {
		// The imap4flags internal variable lives in the shared result.
		r := s.newRun(ctx, &e)
		r.flags = flags
		res, err := r.finish(r.exec(s.cmds))
		flags = res.ImplicitFlags
		total.Warnings = append(total.Warnings, res.Warnings...)
		total.Duplicates = append(total.Duplicates, res.Duplicates...)
		if err != nil {
			total.ImplicitKeep = true
			total.Err = res.Err
			total.Message = e.Message
			return total, err
		}
		if s.caps["imap4flags"] {
			flagsInUse = true
		} else if flagsInUse {
			implicitFlags(res.Actions, flags)
		}
		total.executed = len(total.Actions)
		merge := &run{ctx: ctx, env: &e, res: total, keep: true, root: s, script: s}
		for _, a := range res.Actions {
			if err := merge.addAction(a); err != nil {
				total.ImplicitKeep = true
				se := err.(*Error)
				total.Err = se
				return total, se
			}
		}
		total.Message = res.Message
		e.Message = res.Message
		total.ImplicitKeep = res.ImplicitKeep
		total.ImplicitFlags = res.ImplicitFlags
		if !res.ImplicitKeep && !hasKeep(res.Actions) {
			break
		}
	}
	return total, nil
}

func hasKeep(acts []Action) bool {
	for _, a := range acts {
		if _, ok := a.(*Keep); ok {
			return true
		}
	}
	return false
}

// implicitFlags gives the stores of a script that does not use imap4flags
// the internal flags an earlier script of the sequence set: in Pigeonhole
// the flags side effect belongs to the shared result.
func implicitFlags(acts []Action, flags []string) {
	for _, a := range acts {
		switch a := a.(type) {
		case *Keep:
			if a.Flags == nil {
				a.Flags = append([]string{}, flags...)
			}
		case *FileInto:
			if a.Flags == nil {
				a.Flags = append([]string{}, flags...)
			}
		}
	}
}

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
	total := &Result{ImplicitKeep: true}
	for _, s := range scripts {
		res, err := s.Run(ctx, &e)
		total.Warnings = append(total.Warnings, res.Warnings...)
		total.Duplicates = append(total.Duplicates, res.Duplicates...)
		if err != nil {
			total.ImplicitKeep = true
			total.Err = res.Err
			total.Message = e.Message
			return total, err
		}
		merge := &run{res: total, keep: true, root: s, script: s}
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

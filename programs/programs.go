// Package programs runs the external programs Sieve scripts name through
// vnd.dovecot.pipe, vnd.dovecot.filter and vnd.dovecot.execute, the way
// Pigeonhole's extprograms plugin does: only executables found in the
// directory configured for the kind (sieve_pipe_bin_dir,
// sieve_filter_bin_dir, sieve_execute_bin_dir), started directly (no
// shell) with the script's arguments, under a timeout
// (sieve_<kind>_exec_timeout, 10s by default, 0 for none), with the input
// converted to the configured line ends (sieve_<kind>_input_eol, crlf by
// default), output bounded, and an environment of USER, HOME, HOST,
// SENDER, RECIPIENT and ORIG_RECIPIENT only.
package programs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/vacationd/vacationd/sieve"
)

// Defaults of the settings.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultMaxOutput = 64 << 20
	// searchPath is the PATH programs get (they are often shell scripts).
	searchPath = "/usr/local/bin:/usr/bin:/bin"
)

// Runner runs programs; it implements sieve.ProgramRunner. The zero value
// is usable.
type Runner struct {
	// Home is HOME of the programs ("/" when empty); Host is HOST when
	// the call names none (the host name when empty).
	Home, Host string
	// MaxOutput bounds what a program may write (DefaultMaxOutput when 0);
	// a program writing more fails.
	MaxOutput int
}

// RunProgram runs call.Name from the bin directory of call.Kind.
func (rn *Runner) RunProgram(ctx context.Context, call *sieve.ProgramCall) ([]byte, error) {
	set := call.Settings
	dir := strings.TrimSpace(set.String("sieve_"+call.Kind+"_bin_dir", ""))
	if dir == "" {
		return nil, fmt.Errorf("%w: sieve_%s_bin_dir is not set", sieve.ErrProgramNotFound, call.Kind)
	}
	if call.Name == "" || strings.ContainsAny(call.Name, "/\x00") || call.Name == "." || call.Name == ".." {
		return nil, fmt.Errorf("%w: invalid name %q", sieve.ErrProgramNotFound, call.Name)
	}
	path := filepath.Join(dir, call.Name)
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("%w: executable path '%s' for program '%s' not found", sieve.ErrProgramNotFound, path, call.Name)
	}

	timeout := set.Duration("sieve_"+call.Kind+"_exec_timeout", DefaultTimeout)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, path, call.Args...)
	cmd.Dir = "/"
	cmd.Env = rn.environ(call)
	ownGroup(cmd)
	cmd.WaitDelay = time.Second
	if call.Input != nil {
		cmd.Stdin = bytes.NewReader(convertEOL(call.Input, set.String("sieve_"+call.Kind+"_input_eol", "crlf")))
	}
	max := rn.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	out := &limitedBuffer{max: max}
	if call.Output {
		cmd.Stdout = out
	}
	err = cmd.Run()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("program '%s' timed out after %v", call.Name, timeout)
	case out.over:
		return nil, fmt.Errorf("program '%s' wrote more than %d bytes", call.Name, max)
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("%w: program '%s' %v", sieve.ErrProgramFailed, call.Name, ee)
		}
		return nil, fmt.Errorf("run program '%s': %w", call.Name, err)
	}
	return out.b.Bytes(), nil
}

// environ is the programs' whole environment.
func (rn *Runner) environ(call *sieve.ProgramCall) []string {
	home, host := rn.Home, call.Host
	if home == "" {
		home = "/"
	}
	if host == "" {
		host = rn.Host
	}
	if host == "" {
		host, _ = os.Hostname()
	}
	env := []string{"PATH=" + searchPath, "USER=" + call.User, "HOME=" + home, "HOST=" + host}
	if call.Envelope.From != "" {
		env = append(env, "SENDER="+call.Envelope.From)
	}
	if call.Envelope.To != "" {
		env = append(env, "RECIPIENT="+call.Envelope.To)
	}
	if call.Envelope.OrigTo != "" {
		env = append(env, "ORIG_RECIPIENT="+call.Envelope.OrigTo)
	}
	return env
}

// convertEOL makes every line end CRLF ("crlf") or LF ("lf").
func convertEOL(b []byte, eol string) []byte {
	lf := bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	if strings.EqualFold(strings.TrimSpace(eol), "lf") {
		return lf
	}
	return bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
}

// limitedBuffer keeps up to max bytes and notes when more were written;
// it never fails a write, so the program is not killed by SIGPIPE.
type limitedBuffer struct {
	b    bytes.Buffer
	max  int
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); len(p) > room {
		l.over = true
		if room > 0 {
			l.b.Write(p[:room])
		}
		return len(p), nil
	}
	return l.b.Write(p)
}

var _ io.Writer = (*limitedBuffer)(nil)

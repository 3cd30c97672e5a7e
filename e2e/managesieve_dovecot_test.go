//go:build e2e

package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// readSession reads testdata/managesieve/session.txt: the commands, with
// \r\n standing for CRLF.
func readSession(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/managesieve/session.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		cmds = append(cmds, strings.ReplaceAll(l, `\r\n`, "\r\n"))
	}
	return cmds
}

// replay runs the session against addr and returns each response,
// normalised by normalise.
func replay(t *testing.T, addr string, cmds []string) (raw, norm []string) {
	t.Helper()
	c, greet := peertest.DialSieve(t, addr)
	raw = append(raw, greet.String())
	norm = append(norm, normalise("", greet))
	for _, cmd := range cmds {
		// Pigeonhole 0.5.19's managesieve panics (cmd-putscript.c:441)
		// when a PUTSCRIPT arrives right after the reply to a failed one:
		// pace the commands as an interactive client would.
		time.Sleep(50 * time.Millisecond)
		r := c.Cmd(cmd)
		raw = append(raw, r.String())
		norm = append(norm, normalise(cmd, r))
	}
	return raw, norm
}

var (
	statusRe = regexp.MustCompile(`^(OK|NO|BYE)( \([^)]*\))?( (.*))?$`)
	capRe    = regexp.MustCompile(`^"([^"]+)"( "(.*)")?$`)
)

// normalise keeps what must agree between two ManageSieve servers: the
// capability names and values (except IMPLEMENTATION's; SIEVE's as a
// set; UNAUTHENTICATE, which Dovecot does not implement, dropped), script
// lists and contents, the status and response code of every status line,
// and the text of literal responses (compile reports, which must carry
// Pigeonhole's wording). Quoted free text is ignored. LISTSCRIPTS lists
// are compared as sets (Dovecot lists in directory order).
func normalise(cmd string, r peertest.Response) string {
	var out []string
	if cmd == "LISTSCRIPTS" {
		lines := append([]string{}, r.Lines...)
		sort.Strings(lines)
		r.Lines = lines
	}
	for _, l := range r.Lines {
		if m := capRe.FindStringSubmatch(l); m != nil && !strings.Contains(l, "\n") {
			switch m[1] {
			case "IMPLEMENTATION":
				l = `"IMPLEMENTATION" ...`
			case "SIEVE":
				f := strings.Fields(m[3])
				sort.Strings(f)
				l = `"SIEVE" "` + strings.Join(f, " ") + `"`
			case "UNAUTHENTICATE":
				continue
			}
		}
		out = append(out, l)
	}
	st := r.Status
	if m := statusRe.FindStringSubmatch(st); m != nil {
		st = m[1] + m[2]
		if strings.HasPrefix(m[4], "{") { // a literal: compile errors or warnings
			st += " " + m[4]
		}
	}
	return strings.Join(append(out, st), "\n")
}

// TestManageSieveAgreesWithDovecot replays one recorded session (every
// command, with good and bad arguments) against Pigeonhole's managesieved
// and against vacationd: the responses must agree, ignoring the
// implementation name and the wording of free text. Both transcripts are
// kept under the test's output directory.
func TestManageSieveAgreesWithDovecot(t *testing.T) {
	needServe(t)
	users := map[string]string{sieveUser: sievePass}
	dc := peertest.StartDovecotSieve(t, startTimeout, users)
	ms := peertest.FreeAddr(t)
	startVacationd(t, nil, "--managesieve", ms, "--auth", "passwd-file:"+sha512CryptUsers(t, users),
		"--managesieve-auth-fail-delay", "10ms", "--extensions", "")
	cmds := readSession(t)
	dRaw, dNorm := replay(t, dc.Addr, cmds)
	vRaw, vNorm := replay(t, ms, cmds)
	dir := artifactDir(t, "managesieve-agreement")
	os.WriteFile(filepath.Join(dir, "dovecot.txt"), []byte(strings.Join(dRaw, "\n----\n")), 0o644)
	os.WriteFile(filepath.Join(dir, "vacationd.txt"), []byte(strings.Join(vRaw, "\n----\n")), 0o644)
	for i := range dNorm {
		cmd := "(greeting)"
		if i > 0 {
			cmd = cmds[i-1]
		}
		if dNorm[i] != vNorm[i] {
			t.Errorf("%q:\ndovecot:\n%s\nvacationd:\n%s", cmd, dRaw[i], vRaw[i])
		}
	}
}

// artifactDir is where a test keeps files for a human to look at:
// $VACATIOND_ARTIFACTS/<name> when set (CI uploads it), else a temporary
// directory kept after the test.
func artifactDir(t *testing.T, name string) string {
	t.Helper()
	base := os.Getenv("VACATIOND_ARTIFACTS")
	if base == "" {
		var err error
		if base, err = os.MkdirTemp("", "vacationd-artifacts-"); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifacts in %s", dir)
	return dir
}

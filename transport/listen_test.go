package transport

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vacationd/vacationd/internal/peertest"
)

// TestListenUnixPermissions: the socket file gets the mode, owner and
// group asked for, by name or number; a bad name fails naming it.
func TestListenUnixPermissions(t *testing.T) {
	gid := strconv.Itoa(os.Getgid())
	tests := []struct {
		name string
		o    ListenOptions
		mode os.FileMode
	}{
		{"mode 0660", ListenOptions{Mode: 0o660}, 0o660},
		{"mode 0666 own group by number", ListenOptions{Mode: 0o666, Group: gid}, 0o666},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "lmtp.sock")
			l, err := ListenWith("unix:"+sock, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			fi, err := os.Stat(sock)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.mode || fi.Mode()&os.ModeSocket == 0 {
				t.Errorf("mode %v, want socket %v", fi.Mode(), tt.mode)
			}
		})
	}
	_, err := ListenWith("unix:"+filepath.Join(t.TempDir(), "s"), ListenOptions{Group: "vacationd-no-such-group"})
	if err == nil || !strings.Contains(err.Error(), "vacationd-no-such-group") {
		t.Errorf("unknown group: err %v", err)
	}
}

// TestListenUnixOtherUser: a client running as another user (as
// Postfix's lmtp client runs as postfix) is refused by the default socket
// (EACCES, the failure) and served once the socket's group and mode
// let it in. It needs root to run the client as nobody.
func TestListenUnixOtherUser(t *testing.T) {
	bin := peertest.Tool(t, "swaks", "swaks")
	if os.Geteuid() != 0 {
		peertest.Missing(t, "running a client as another user needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		peertest.Missing(t, "user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	grp, err := user.LookupGroupId(nobody.Gid)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		o      ListenOptions
		served bool
	}{
		{"default", ListenOptions{}, false},
		{"group and 0660", ListenOptions{Mode: 0o660, Group: grp.Name}, true},
		{"owner and 0600", ListenOptions{Mode: 0o600, Owner: "nobody"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// t.TempDir's parents are private to root: nobody could not
			// reach a socket there whatever its mode.
			sock := filepath.Join(peertest.SharedDir(t, "vacationd-listen-", 0o755), "lmtp.sock")
			l, err := ListenWith("unix:"+sock, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			serveOn(t, Config{Deliverer: downstream()}, l)
			cmd := exec.Command(bin, "--socket", sock, "--protocol", "LMTP", "--from", "s@example.org",
				"--to", "a@example.com", "--helo", "swaks.test", "--timeout", "10")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
			out, _ := cmd.CombinedOutput()
			served := strings.Contains(string(out), "<-  250 2.0.0 <a@example.com>")
			if served != tt.served {
				t.Errorf("served %v, want %v:\n%s", served, tt.served, out)
			}
		})
	}
}

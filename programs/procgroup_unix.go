//go:build unix

package programs

import (
	"os/exec"
	"syscall"
)

// ownGroup makes the program and whatever it starts one process group,
// killed as a whole when the context ends (a shell script's children
// would otherwise outlive the timeout and hold its output open).
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

//go:build !unix

package programs

import "os/exec"

// ownGroup: without process groups only the program itself is killed
// when the context ends (exec.CommandContext's default).
func ownGroup(cmd *exec.Cmd) {}

package store

import (
	"os"
	"syscall"
)

// reserve allocates n bytes of disk space for f without writing them, and
// fails (ENOSPC, EFBIG) when the file system cannot give them.
func reserve(f *os.File, n int64) error {
	return syscall.Fallocate(int(f.Fd()), 0, 0, n)
}

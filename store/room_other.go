//go:build !linux

package store

import (
	"io"
	"os"
)

// reserve writes n zero bytes to f, failing when the file system cannot
// hold them.
func reserve(f *os.File, n int64) error {
	_, err := io.CopyN(f, zeros{}, n)
	if err == nil {
		err = f.Sync()
	}
	return err
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

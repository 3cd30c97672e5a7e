package transport

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestDotReader reads DATA content through the end line: dot-stuffing is
// undone, only CRLF ends a line, content over the limit fails, and what
// follows the end line is left for the next command.
func TestDotReader(t *testing.T) {
	long := strings.Repeat("z", 10000) // longer than the connection's buffer
	tests := []struct {
		name, in, want string
		limit          int64
		err            error
	}{
		{"empty", ".\r\nNOOP\r\n", "", 100, nil},
		{"lines", "a\r\nb\r\n.\r\nNOOP\r\n", "a\r\nb\r\n", 100, nil},
		{"stuffed", "..a\r\n.\r\n..\r\n.\r\n", ".a\r\n", 100, nil},
		{"dot line inside", ".x\r\n.\r\n", "x\r\n", 100, nil},
		{"bare LF is content", "a\n.\r\nb\r\n.\r\n", "a\n.\r\nb\r\n", 100, nil},
		{"CR alone is content", "a\r.\r\n.\r\n", "a\r.\r\n", 100, nil},
		{"long line", long + "\r\n..\r\n.\r\n", long + "\r\n.\r\n", 20000, nil},
		{"long line ending CR, LF", strings.Repeat("y", 4095) + "\r\n.\r\n", strings.Repeat("y", 4095) + "\r\n", 20000, nil},
		{"exactly the limit", "abc\r\n.\r\n", "abc\r\n", 5, nil},
		{"over the limit", "abcd\r\n.\r\nNOOP\r\n", "", 5, errTooLarge},
		{"cut short", "abc\r\n", "abc\r\n", 100, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		for _, slow := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if slow {
				r = iotest.OneByteReader(r)
			}
			br := bufio.NewReaderSize(r, 4096)
			d := &dotReader{r: br, left: tt.limit}
			got, err := io.ReadAll(d)
			if !errors.Is(err, tt.err) {
				t.Errorf("%s (slow %v): error %v, want %v", tt.name, slow, err, tt.err)
				continue
			}
			if err == nil && string(got) != tt.want {
				t.Errorf("%s (slow %v): read %q, want %q", tt.name, slow, got, tt.want)
			}
			d.discard()
			if rest, _ := io.ReadAll(br); tt.err != io.ErrUnexpectedEOF && !strings.HasPrefix(tt.in[len(tt.in)-len(rest):], string(rest)) {
				t.Errorf("%s: %q left", tt.name, rest)
			}
			if strings.HasSuffix(tt.in, "NOOP\r\n") {
				br = bufio.NewReaderSize(strings.NewReader(tt.in), 4096)
				d = &dotReader{r: br, left: tt.limit}
				io.ReadAll(d)
				d.discard()
				if rest, _ := io.ReadAll(br); string(rest) != "NOOP\r\n" {
					t.Errorf("%s: after the content %q, want the next command", tt.name, rest)
				}
			}
		}
	}
}

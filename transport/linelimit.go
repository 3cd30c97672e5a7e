package transport

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"
)

// maxCommandLine bounds a command line (RFC 5321 asks for 512 octets; 2000
// is go-smtp's own default, kept for clients that send long parameters).
const maxCommandLine = 2000

// lineGuard bounds command lines and only command lines. go-smtp's own
// limit (Server.MaxLineLength) also applies inside DATA, where a line over
// it broke the session: 451 to the message, then 500 and a dropped
// connection, and the client retried forever a message that can never
// pass. Real mail has longer lines than RFC 5322's 998 (HTML on one line,
// unwrapped base64), and BDAT already takes them, so the message content
// is not limited by line (MaxMessageBytes still bounds it), the same for
// DATA and BDAT; a command line over the limit ends the session with
// go-smtp's "500 5.4.0 Too long line".
//
// The guard sees the bytes as the connection reads them and follows the
// protocol just enough to know what they are: after a 354 reply the DATA
// content up to its end line (".\r\n" after CRLF, as go-smtp's reader
// recognises it), after a "BDAT n" command line the n octets of the chunk,
// and command lines otherwise.
type lineGuard struct {
	line     int    // length of the current command line
	head     []byte // its first octets, to spot BDAT
	data     bool   // in DATA content
	dstate   int    // DATA end-line recogniser (dataBegin...)
	chunkRem uint64 // BDAT chunk octets still to come
}

// DATA end-line recogniser states (go-smtp's data reader's).
const (
	dataBegin = iota // at the start of a line
	dataDot          // "." at the start of a line
	dataDotCR        // ".\r" at the start of a line
	dataCR           // "\r" elsewhere
	dataMid          // in a line
)

// startData is called when the server answers 354.
func (g *lineGuard) startData() {
	g.data, g.dstate = true, dataBegin
}

// scan accounts for b, read from the client; it returns
// smtp.ErrTooLongLine when a command line exceeds the limit.
func (g *lineGuard) scan(b []byte) error {
	for len(b) > 0 {
		switch {
		case g.chunkRem > 0:
			n := min(uint64(len(b)), g.chunkRem)
			g.chunkRem -= n
			b = b[n:]
		case g.data && g.dstate == dataMid:
			// Inside a line of the message only a CR matters: skip to it.
			i := bytes.IndexByte(b, '\r')
			if i < 0 {
				return nil
			}
			b = b[i+1:]
			g.dstate = dataCR
		case g.data:
			c := b[0]
			b = b[1:]
			switch g.dstate {
			case dataBegin:
				switch c {
				case '.':
					g.dstate = dataDot
				case '\r':
					g.dstate = dataCR
				default:
					g.dstate = dataMid
				}
			case dataDot:
				g.dstate = dataMid
				if c == '\r' {
					g.dstate = dataDotCR
				}
			case dataDotCR:
				g.dstate = dataMid
				if c == '\n' {
					g.data = false
				}
			case dataCR:
				g.dstate = dataMid
				if c == '\n' {
					g.dstate = dataBegin
				}
			default:
				if c == '\r' {
					g.dstate = dataCR
				}
			}
		default:
			i := bytes.IndexByte(b, '\n')
			seg := b
			if i >= 0 {
				seg = b[:i+1]
			}
			g.line += len(seg)
			if g.line > maxCommandLine {
				return smtp.ErrTooLongLine
			}
			if n := min(len(seg), 24-len(g.head)); n > 0 {
				g.head = append(g.head, seg[:n]...)
			}
			b = b[len(seg):]
			if i >= 0 {
				g.chunkRem = bdatSize(g.head)
				g.line, g.head = 0, g.head[:0]
			}
		}
	}
	return nil
}

// bdatSize returns the chunk size of a "BDAT n [LAST]" command line, or 0
// when the line is no valid BDAT command (go-smtp reads no chunk then).
func bdatSize(line []byte) uint64 {
	f := strings.Fields(string(line))
	if len(f) < 2 || len(f) > 3 || !strings.EqualFold(f[0], "BDAT") {
		return 0
	}
	if len(f) == 3 && !strings.EqualFold(f[2], "LAST") {
		return 0
	}
	n, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		return 0
	}
	return n
}

// Package gosieve compares vacationd's Sieve engine with foxcpp/go-sieve on the same
// script and message: evaluation of a parsed message, and parse plus
// evaluate. It is a module of its own, run by bench/gosieve.sh, which points
// it at a checkout of go-sieve; none of go-sieve's code is in this
// repository.
package gosieve

import (
	"bufio"
	"bytes"
	"context"
	"net/textproto"
	"os"
	"testing"
	"time"

	fox "github.com/foxcpp/go-sieve"
	"github.com/foxcpp/go-sieve/interp"
	ours "github.com/vacationd/vacationd/sieve"
)

var dir = os.Getenv("BENCHDATA") // vacationd's sieve/testdata/bench

func read(b *testing.B, name string) []byte {
	x, err := os.ReadFile(dir + "/" + name)
	if err != nil {
		b.Fatal(err)
	}
	return x
}

func foxHeader(b *testing.B, raw []byte) textproto.MIMEHeader {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func BenchmarkFoxEval(b *testing.B)       { benchFox(b, false) }
func BenchmarkFoxParseEval(b *testing.B)  { benchFox(b, true) }
func BenchmarkOursEval(b *testing.B)      { benchOurs(b, false) }
func BenchmarkOursParseEval(b *testing.B) { benchOurs(b, true) }

func benchFox(b *testing.B, parse bool) {
	s, err := fox.Load(bytes.NewReader(read(b, "filter.sieve")), fox.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	raw := read(b, "message-4k.eml")
	env := interp.EnvelopeStatic{From: "alice@example.org", To: "bob@example.com"}
	msg := interp.MessageStatic{Size: len(raw), Header: foxHeader(b, raw), RawMessage: raw}
	ctx := context.Background()
	var d *interp.RuntimeData
	b.ReportAllocs()
	for b.Loop() {
		if parse {
			msg = interp.MessageStatic{Size: len(raw), Header: foxHeader(b, raw), RawMessage: raw}
		}
		d = fox.NewRuntimeData(s, interp.DummyPolicy{}, env, msg)
		if err := s.Execute(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	if len(d.Mailboxes) != 1 || d.Mailboxes[0] != "Team" {
		b.Fatalf("fileinto %v, want [Team]", d.Mailboxes)
	}
}

func benchOurs(b *testing.B, parse bool) {
	s, err := ours.Compile("filter", read(b, "filter.sieve"), &ours.Options{})
	if err != nil {
		b.Fatal(err)
	}
	raw := read(b, "message-4k.eml")
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	env := &ours.Env{
		Message:  ours.ParseMessage(raw),
		Envelope: ours.Envelope{From: "alice@example.org", To: "bob@example.com"},
		Now:      func() time.Time { return now },
	}
	ctx := context.Background()
	var res *ours.Result
	b.ReportAllocs()
	for b.Loop() {
		if parse {
			env.Message = ours.ParseMessage(raw)
		}
		res, err = s.Run(ctx, env)
		if err != nil {
			b.Fatal(err)
		}
	}
	var boxes []string
	for _, a := range res.Actions {
		if f, ok := a.(*ours.FileInto); ok {
			boxes = append(boxes, f.Mailbox)
		}
	}
	if len(boxes) != 1 || boxes[0] != "Team" {
		b.Fatalf("fileinto %v, want [Team]", boxes)
	}
}

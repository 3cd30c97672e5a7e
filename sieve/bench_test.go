package sieve

import (
	"context"
	"os"
	"testing"
	"time"
)

func benchScript(b *testing.B, name string) []byte {
	b.Helper()
	src, err := os.ReadFile("testdata/bench/" + name)
	if err != nil {
		b.Fatal(err)
	}
	return src
}

var benchOpts = &Options{Extensions: "+vacation-seconds +editheader +spamtestplus +index"}

func BenchmarkCompileVacation(b *testing.B) { benchCompile(b, "vacation.sieve") }
func BenchmarkCompileMailu(b *testing.B)    { benchCompile(b, "mailu.sieve") }

func benchCompile(b *testing.B, name string) {
	src := benchScript(b, name)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(name, src, benchOpts); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
}

func BenchmarkEvalVacation(b *testing.B) { benchEval(b, "vacation.sieve") }
func BenchmarkEvalMailu(b *testing.B)    { benchEval(b, "mailu.sieve") }

// BenchmarkEvalFilter runs the script bench/gosieve.sh also gives go-sieve.
func BenchmarkEvalFilter(b *testing.B) { benchEval(b, "filter.sieve") }

func benchEval(b *testing.B, name string) {
	s, err := Compile(name, benchScript(b, name), benchOpts)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	raw, err := os.ReadFile("testdata/bench/message-4k.eml")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	env := &Env{
		Message:  ParseMessage(raw),
		Envelope: Envelope{From: "alice@example.org", To: "bob@example.com"},
		Now:      func() time.Time { return now },
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(ctx, env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseMessage(b *testing.B) {
	raw, err := os.ReadFile("testdata/bench/message-4k.eml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ParseMessage(raw)
	}
}

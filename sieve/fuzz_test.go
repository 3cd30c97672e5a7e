package sieve

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzSuite is Pigeonhole's test suite next to the repository; its
// scripts seed the fuzzer when present.
const fuzzSuite = "../../shared/conformance/pigeonhole/tests"

var fuzzSeeds = []string{
	``,
	`keep;`,
	`require ["fileinto", "variables"]; if header :matches "subject" "*x*" { fileinto "${1}"; }`,
	"require \"vacation\"; vacation :days 1 text:\r\n..dot\r\n.\r\n;",
	`if allof(not exists "x", anyof(true, false)) { stop; } elsif size :over 1M { discard; } else { redirect "a@b.c"; }`,
	`/* unterminated`,
	`"unterminated`,
	"text:\n",
	`if ((((((((((((((((((((((((((((((((((true)))))))))))))))))))))))))))))))))`,
	`if address :all :comparator "i;octet" :domain "from" "x" {}`,
	`require "encoded-character"; set "a" "${hex:00 ff}${unicode:d800}";`,
	`x :a :b :c :d :e :f :g :h :i :j :k :l :m :n :o :p :q :r :s :t :u :v :w :x :y :z :aa :bb :cc :dd :ee :ff :gg;`,
	"\x00\xff#",
	`require "regex"; if header :regex "s" "(a|b)*c[" {}`,
}

// FuzzCompile checks that compiling any input never panics, and that a
// script that compiles runs without panicking within its step budget.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	_ = filepath.WalkDir(fuzzSuite, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".sieve") || strings.HasSuffix(path, ".svtest")) {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
		return nil
	})
	msg := ParseMessage([]byte("From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Compile("fuzz", src, &Options{Limits: Limits{Steps: 10000}})
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("compile error of type %T, want ErrorList", err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// A small regex work budget keeps seeds built to burn CPU (the
		// suite's errors/cpu-limit.sieve) from running for minutes.
		env := &Env{Message: msg, Envelope: Envelope{From: "a@example.com", To: "b@example.org"},
			Now:      func() time.Time { return time.Unix(1700000000, 0) },
			Settings: Settings{"sieve_max_cpu_time": "1s"}}
		_, _ = s.Run(ctx, env)
	})
}

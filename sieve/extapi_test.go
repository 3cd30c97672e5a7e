package sieve

import (
	"context"
	"strings"
	"testing"
)

// counter is a test extension: "count_into" adds its :by argument to a
// variable; "seen" matches the names counted so far.
func counterExtension(seen *[]string) *Extension {
	return &Extension{Name: "x-counter", DefaultOff: true, Namespaces: []string{"cnt"}, Commands: []*Command{
		{Name: "count_into", Args: []ArgType{ArgString}, Tags: []Tag{{Name: "by", Arg: ArgNumber}}, Exec: func(c *Call) error {
			n, _ := c.TagNumber("by")
			*seen = append(*seen, c.String(0))
			c.SetVariable(c.String(0), strings.Repeat("x", int(n)))
			return nil
		}},
		{Name: "seen", Test: true, Match: true, Args: []ArgType{ArgStringList}, Eval: func(c *Call) (bool, error) {
			return c.Match(*seen, c.Strings(0))
		}},
	}}
}

func TestExtensionAPI(t *testing.T) {
	var seen []string
	reg, err := NewRegistry(counterExtension(&seen))
	if err != nil {
		t.Fatal(err)
	}
	src := `require ["x-counter", "variables", "fileinto"];
count_into :by 3 "a";
if seen :matches "a*" { fileinto "${a}-${cnt.z}"; }`
	if _, err := Compile("t", []byte(src), &Options{Registry: reg}); err == nil || !strings.Contains(err.Error(), "unknown Sieve capability `x-counter'") {
		t.Fatalf("default-off extension compiled without being enabled: %v", err)
	}
	s, err := Compile("t", []byte(src), &Options{Registry: reg, Extensions: "+x-counter"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background(), &Env{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Actions) != 1 || res.Actions[0].(*FileInto).Mailbox != "xxx-" {
		t.Fatalf("actions %v", res.Actions)
	}
	// The extension's commands do not exist in the engine's own table.
	if _, err := Compile("t", []byte(src), &Options{Extensions: "+x-counter"}); err == nil {
		t.Fatal("x-counter known without its registry")
	}
	if _, err := NewRegistry(&Extension{Name: "fileinto"}); err == nil {
		t.Fatal("a taken name was registered")
	}
}

// TestNoTestsuiteInProduction: the engine itself does not know Pigeonhole's
// test-only extension; only package svtest registers it.
func TestNoTestsuiteInProduction(t *testing.T) {
	_, err := Compile("t", []byte(`require "vnd.dovecot.testsuite"; test "x" { }`), &Options{Extensions: "+vnd.dovecot.testsuite"})
	if err == nil {
		t.Fatal("vnd.dovecot.testsuite compiled in the production engine")
	}
}

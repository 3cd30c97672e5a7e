package sieve

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// compileErrors compiles src and renders its errors as "line: message".
func compileErrors(t *testing.T, src string) []string {
	t.Helper()
	_, err := Compile("t", []byte(src), nil)
	if err == nil {
		return nil
	}
	var el ErrorList
	if !errors.As(err, &el) {
		t.Fatalf("error of type %T, want ErrorList", err)
	}
	var out []string
	for _, e := range el {
		out = append(out, fmt.Sprintf("%d: %s", e.Pos.Line, e.Msg))
	}
	return out
}

// The expected errors are Pigeonhole's (sievec 0.5) for the same input.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"valid", "require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"a\"; } else { keep; }", nil},
		{"unknown command once", "frop;\nfrop;", []string{"1: unknown command 'frop' (only reported once at first occurrence)"}},
		{"test as command", "header \"a\" \"b\";", []string{"1: attempted to use test 'header' as command"}},
		{"command as test", "if keep { }", []string{"1: attempted to use command 'keep' as test"}},
		{"unknown tag", "if header :frop \"a\" \"b\" {}", []string{"1: unknown tagged argument ':frop' for the header test (reported only once at first occurrence)"}},
		{"positional count", "if header \"a\" {}", []string{"1: the header test requires 2 positional argument(s), but 1 is/are specified"}},
		{"positional type", "if header 1 \"b\" {}", []string{"1: the header test expects a string list as argument 1 (header names), but a number was found"}},
		{"tag after positional", "if header \"a\" \"b\" :is {}", []string{"1: encountered an unexpected tagged argument ':is' while validating positional arguments for the header test"}},
		{"duplicate match type", "if header :is :contains \"a\" \"b\" {}", []string{"1: encountered duplicate MATCH-TYPE argument (:contains) for the header test"}},
		{"duplicate address part", "if address :all :domain \"to\" \"b\" {}", []string{"1: encountered duplicate ADDRESS-PART argument (:domain) for the address test"}},
		{"comparator parameter missing", "if header \"a\" \"b\" :comparator {}", []string{"1: encountered an unexpected tagged argument ':comparator' while validating positional arguments for the header test"}},
		{"comparator parameter type", "if header :comparator 1 \"a\" \"b\" {}", []string{"1: the :comparator tag for the header test requires a string as parameter, but a number was found"}},
		{"unknown comparator", "if header :comparator \"i;ascii-numeric\" \"a\" \"b\" {}", []string{"1: unknown comparator 'i;ascii-numeric'"}},
		{"size both", "if size :over :under 1 {}", []string{"1: exactly one of the ':under' or ':over' tags must be specified for the size test, but more were found"}},
		{"size none", "if size 1 {}", []string{"1: the size test requires either the :under or the :over tag to be specified"}},
		{"no sub-tests", "keep true;", []string{"1: the keep command accepts no sub-tests, but tests are specified"}},
		{"missing semicolon", "keep\nstop;", []string{"1: missing semicolon ';' after keep command"}},
		{"missing colon", "if address matches \"from\" \"x\" {}", []string{
			"1: the address test requires 2 positional argument(s), but 0 is/are specified",
			"1: missing colon ':' before ':matches' tag in address test"}},
		{"if without test", "if { }", []string{"1: the if command requires one sub-test, but none is specified"}},
		{"if with list", "if (true, false) { }", []string{"1: the if command requires one sub-test, but a list of tests is specified"}},
		{"allof single", "if allof true { }", []string{"1: the allof test requires a list of sub-tests, but a single test is specified"}},
		{"missing block", "if true;", []string{"1: the if command requires a command block, but it is missing"}},
		{"spurious block", "stop { }", []string{"1: the stop command does not accept a command block, but one is specified anyway"}},
		{"lonely elsif", "elsif true { }", []string{"1: the elsif command must follow an if or elseif command"}},
		{"else if", "if true { } else if false { }", []string{"1: missing semicolon ';' after else command"}},
		{"require late", "keep;\nrequire \"fileinto\";", []string{"2: require commands can only be placed at top level at the beginning of the file"}},
		{"require after unknown command", "frop;\nrequire \"fileinto\";\nfileinto \"x\";", []string{"1: unknown command 'frop' (only reported once at first occurrence)"}},
		{"require unknown", "require [\"frop\", \"keep\"];", []string{
			"1: require command: unknown Sieve capability `frop'", // sievec's quotes
			"1: require command: 'keep' is not known as a Sieve capability, but it is known as a Sieve command that is always available"}},
		{"require number", "require 1;", []string{"1: the require command accepts a single string or string list argument, but a number was found"}},
		{"dead branch not validated", "if false { frop; }", nil},
		{"branch after true not validated", "if true { keep; } else { frop; }", nil},
		{"address header not allowed", "if address \"subject\" \"x\" {}", []string{"1: specified header 'subject' is not allowed for the address test"}},
		{"address header allowed", "if address [\"for-approval\", \"x-beenthere\"] \"x\" {}", nil},
		{"redirect address", "redirect \"error\";", []string{"1: specified redirect address 'error' is invalid: invalid or lonely local part 'error' (expecting '@')"}},
		{"redirect japanese", "redirect \"..japanese...localpart..@example.com\";", nil},
		{"encoded character", "require \"encoded-character\";\nkeep;\nredirect \"${unicode:D800}@example.com\";", []string{"3: invalid unicode character 0x0000d800 in encoded character substitution"}},
		{"variable namespace", "require \"variables\";\nset \"a.b\" \"c\";", []string{"2: referring to variable in unknown namespace 'a'"}},
		{"match variable assignment", "require \"variables\";\nset \"1\" \"c\";", []string{"2: cannot assign to match variable"}},
		{"match value range", "require \"variables\";\nset \"a\" \"${33}\";", []string{"2: match value index 33 out of range (max: 32)"}},
		{"relational operator", "require \"relational\";\nif header :value \"GT\" \"a\" \"b\" {}", []string{
			"2: the :value match-type requires a constant string argument being one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\", but \"GT\" was found"}},
		{"relational operator list", "require \"relational\";\nif header :count [\"eq\"] \"a\" \"b\" {}", []string{
			"2: the :count match-type requires a constant string argument being one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\", but a string list was found"}},
		{"modifier conflict", "require \"variables\";\nset :lower :upper \"a\" \"b\";", []string{
			"2: modifiers :lower and :upper specified for the set command conflict having equal precedence"}},
		{"envelope auth address part", "require \"envelope\";\nif envelope :localpart [\"to\", \"auth\"] \"x\" {}", []string{
			"2: address part ':localpart' specified while non-address envelope part 'auth' is tested with the envelope test"}},
		{"index zero", "require \"index\";\nif header :index 0 \"a\" \"b\" {}", []string{"2: the :index tag for the header test cannot be zero"}},
		{"last without index", "require \"index\";\nif header :last \"a\" \"b\" {}", []string{"2: the :last tag for the header test cannot be specified without the :index tag"}},
		{"one encoded-character error per argument", "require \"encoded-character\";\nif header \"a\" [\"${unicode:110000}\", \"${unicode:d800}\"] {}", []string{
			"2: invalid unicode character 0x00110000 in encoded character substitution"}},
		{"unicode-casemap is core", "if header :comparator \"i;unicode-casemap\" :contains \"a\" \"b\" {}", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := compileErrors(t, tc.src)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestCompileWarnings(t *testing.T) {
	s, err := Compile("t", []byte("if header \"from:\" \"x\" { stop; }\nif exists \"a b\" { stop; }"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range s.Warnings() {
		got = append(got, fmt.Sprintf("%d: %s", w.Pos.Line, w.Msg))
	}
	want := "1: specified header field name 'from:' is invalid\n2: specified header field name 'a b' is invalid"
	vs, err := Compile("t", []byte("require \"vacation\";\nvacation :days 0 \"x\";"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := vs.Warnings(); len(w) != 1 || w[0].Msg != "specified :days value '0' is under the minimum" {
		t.Errorf("vacation warnings %v", w)
	}
	if strings.Join(got, "\n") != want {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

// Lexical and syntax errors, with Pigeonhole's recovery: one error per
// broken structure, and the count Pigeonhole reports.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"number overflow", "if size :over 18446744073709551616 {}", []string{"1: number exceeds integer limits (max 18446744073709551615)"}},
		{"number suffix overflow", "if size :over 17179869184G {}", []string{"1: number exceeds integer limits (max 18446744073709551615)"}},
		{"long identifier", "this_is_a_rediculously_long_test_name_of_forty_chars;", []string{"1: encountered impossibly long identifier 'this_is_a_rediculously_long_t...'"}},
		{"garbage", "keep $$$;", []string{
			"1: unexpected character(s) starting with '$'",
			"1: expected end of command ';' or the beginning of a compound block '{', but found unknown characters"}},
		{"unterminated string", "keep \"abc", []string{"1: end of file before end of quoted string started at line 1"}},
		{"unterminated comment", "keep; /* x", []string{"1: end of file before end of bracket comment ('/* ... */') started at line 1"}},
		{"text: garbage", "keep text: x\n.\n;", []string{
			"1: invalid character 'x' after 'text:' in multiline string",
			"2: unexpected character(s) starting with '.'"}},
		{"missing semicolons", "keep\nkeep\nstop;", []string{"1: missing semicolon ';' after keep command"}},
		{"missing end of command", "keep \"a\" ]", []string{"1: expected end of command ';' or the beginning of a compound block '{', but found ']'"}},
		{"missing block end", "if true {\n keep;\n", []string{"3: expected end of compound block '}', but found end of file"}},
		{"stray brace", "keep; }", []string{"1: unexpected '}' found at (the presumed) end of file"}},
		{"string list", "if header [\"a\", 1] \"b\" {}", []string{"1: expecting string after ',' in string list, but found number"}},
		{"test list comma", "if anyof(true, ) {}", []string{"1: expecting test identifier after ',' in test list, but found ')'"}},
		{"empty test list", "if anyof(*) { keep; }\nfrop;", []string{
			"1: unexpected character(s) starting with '*'",
			"1: expecting test identifier after '(' in test list, but found unknown characters",
			"1: failed to accept more tests for command 'anyof'"}},
		{"block nesting", strings.Repeat("if true {", 33) + strings.Repeat("}", 33), []string{"1: cannot nest command blocks deeper than 32 levels"}},
		{"test nesting", "if " + strings.Repeat("not ", 33) + "true {}", []string{"1: cannot nest tests deeper than 32 levels"}},
		{"too many arguments", "frop" + strings.Repeat(" 1", 33) + ";", []string{"1: too many arguments for command 'frop'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := compileErrors(t, tc.src)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestLexerStrings(t *testing.T) {
	tests := []struct{ src, want string }{
		{`"a\"b\\c\q"`, `a"b\cq`},
		{"\"a\nb\"", "a\r\nb"},
		{"\"a\r\nb\"", "a\r\nb"},
		{"text:\r\nline\r\n..dot\r\n.x\r\n.\r\n", "line\r\n.dot\r\n.x\r\n"},
		{"TEXT: # comment\nx\n.\n", "x\r\n"},
	}
	for _, tc := range tests {
		var errs []string
		l := newLexer("t", tc.src, func(p Position, f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) })
		tok := l.next()
		if tok.kind != tokString || tok.text != tc.want || len(errs) > 0 {
			t.Errorf("%q: token %v %q, errors %v; want string %q", tc.src, tok.kind, tok.text, errs, tc.want)
		}
	}
}

func TestLexerNumbers(t *testing.T) {
	tests := []struct {
		src  string
		want uint64
	}{{"0", 0}, {"1K", 1024}, {"2m", 2 << 20}, {"3G", 3 << 30}, {"18446744073709551615", 1<<64 - 1}}
	for _, tc := range tests {
		l := newLexer("t", tc.src, func(Position, string, ...any) { t.Errorf("%s: unexpected error", tc.src) })
		if tok := l.next(); tok.kind != tokNumber || tok.num != tc.want {
			t.Errorf("%s: got %v %d, want %d", tc.src, tok.kind, tok.num, tc.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"0123456789abc", 10, "0123456..."},
		{"a\x01b", 10, "a?b"},
		{"ééééé", 8, "éé..."},
	}
	for _, tc := range tests {
		if got := sanitize(tc.in, tc.max); got != tc.want {
			t.Errorf("sanitize(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

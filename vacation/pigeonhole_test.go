package vacation

import (
	"context"
	"testing"

	"github.com/vacationd/vacationd/sieve"
)

// TestHeaderValues pins how the header checks read values, as Pigeonhole
// 0.5.19 (sieve-test) decides: leading white space dropped, the rest of
// the value compared whole.
func TestHeaderValues(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   Reason // "" means a reply is sent
	}{
		{"Auto-Submitted: no", ""},
		{"Auto-Submitted: NO", ""},
		{"Auto-Submitted:\t  no", ""},
		{"Auto-Submitted: no (a person)", AutoSubmitted},
		{"Auto-Submitted: no; x=1", AutoSubmitted},
		{"Auto-Submitted: no ", AutoSubmitted},
		{"Auto-Submitted:\r\n no", AutoSubmitted},
		{"Precedence: bulk", Precedence},
		{"Precedence:    Junk", Precedence},
		{"Precedence: bulk ", ""},
		{"Precedence: bulk (x)", ""},
		{"Precedence:\r\n list", ""},
		{"X-Auto-Response-Suppress: DR, OOF", AutoResponseSuppress},
		{"X-Auto-Response-Suppress: DR,\tall", AutoResponseSuppress},
		{"X-Auto-Response-Suppress: DR;OOF", ""},
		{"X-Auto-Response-Suppress: DR,\r\n OOF", ""},
		{"X-Auto-Response-Suppress: OOF,\r\n DR", AutoResponseSuppress},
	} {
		d, err := newTestResponder(t, nil).Decide(context.Background(), input(tc.header+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Reason; d.Send && tc.want != "" || !d.Send && got != tc.want {
			t.Errorf("%q: send=%v reason=%q, want %q", tc.header, d.Send, got, tc.want)
		}
	}
}

// TestEditedMessage checks that the checks read the message as the script
// left it, fields added by editheader included with their line break.
func TestEditedMessage(t *testing.T) {
	add := func(in *Input, name, value string) {
		f := sieve.Field{Name: name, Value: " " + value, Added: true}
		in.Edited = in.Message.WithFields(append([]sieve.Field{f}, in.Message.Fields...))
	}
	for _, tc := range []struct {
		name, value string
		base        string
		want        Reason
	}{
		{"List-Id", "<l.example.org>", "", MailingList},
		{"Auto-Submitted", "no", "", AutoSubmitted},
		{"Precedence", "bulk", "", ""},
		{"X-Auto-Response-Suppress", "OOF, DR", "", AutoResponseSuppress},
		{"X-Auto-Response-Suppress", "DR, OOF", "", ""},
		{"Cc", "bob@example.com", "", ""},
	} {
		in := input(tc.base)
		add(in, tc.name, tc.value)
		d, err := newTestResponder(t, nil).Decide(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if d.Send && tc.want != "" || !d.Send && d.Reason != tc.want {
			t.Errorf("added %s: %s: send=%v reason=%q, want %q", tc.name, tc.value, d.Send, d.Reason, tc.want)
		}
	}
	// A List-Id deleted by the script no longer stops the reply.
	in := input("List-Id: <l.example.org>\n")
	var kept []sieve.Field
	for _, f := range in.Message.Fields {
		if f.Name != "List-Id" {
			kept = append(kept, f)
		}
	}
	in.Edited = in.Message.WithFields(kept)
	if d, err := newTestResponder(t, nil).Decide(context.Background(), in); err != nil || !d.Send {
		t.Errorf("List-Id deleted: send=%v reason=%q err=%v", d.Send, d.Reason, err)
	}
}

func TestMessageID(t *testing.T) {
	for in, want := range map[string]string{
		"<a@b.example>":                "<a@b.example>",
		" (c) <a@b.example>":           "<a@b.example>",
		"<a@b.example> <c@d.example>":  "<a@b.example>",
		"<a b@c.example>":              "<ab@c.example>",
		"<a@b.example>x":               "<a@b.example>",
		"<@b.example>":                 "<@b.example>",
		"<a@>":                         "<a@>",
		`<"q x"@b.example>`:            "<q x@b.example>",
		"<a@[1.2.3.4]>":                "<a@[1.2.3.4]>",
		"junk <a@b.example>":           "<a@b.example>",
		"<nodomain>":                   "",
		"<nodomain> <a@b.example>":     "<a@b.example>",
		"< a@b.example >":              "<a@b.example>",
		"<a@b.example":                 "",
		"<a(c)@b.example>":             "<a@b.example>",
		"bare@example.org":             "",
		"":                             "",
		"<a@b.example\r\n (folded)>":   "<a@b.example>",
		"<a@b.example>\r\nBcc: x@y.z>": "<a@b.example>",
	} {
		if got := messageID(in); got != want {
			t.Errorf("messageID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExpandTemplate(t *testing.T) {
	for _, tc := range []struct {
		tmpl, want string
		ok         bool
	}{
		{"Re: %{subject}", "Re: Hi", true},
		{"[OOO] %$", "[OOO] Hi", true},
		{"100%% %$", "100% Hi", true},
		{"away", "away", true},
		{"Re: %{subject} %x", "", false},
		{"%{user}", "", false},
	} {
		got, ok := expandTemplate(tc.tmpl, "Hi")
		if got != tc.want || ok != tc.ok {
			t.Errorf("expandTemplate(%q) = %q, %v; want %q, %v", tc.tmpl, got, ok, tc.want, tc.ok)
		}
	}
}

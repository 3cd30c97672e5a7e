package sieve

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestParseNotifyURI(t *testing.T) {
	tests := []struct {
		uri     string
		to      []string
		subject string
		err     string
	}{
		{"mailto:alice@example.com", []string{"alice@example.com"}, "", ""},
		{"MAILTO:a@example.com%2Cb@example.org", []string{"a@example.com", "b@example.org"}, "", ""},
		{"mailto:?to=a%40example.com&subject=hi%20there", []string{"a@example.com"}, "hi there", ""},
		{"mailto:a@example.com?from=evil@example.com&x-y=1", []string{"a@example.com"}, "", ""},
		{"mailto:a@example.com?cc=b@example.com&to=b@EXAMPLE.COM", []string{"a@example.com", "b@example.com"}, "", ""},
		{"xmpp:a@example.com", nil, "", "invalid method 'xmpp'"},
		{"no-scheme", nil, "", "invalid scheme part"},
		{"mailto:a@example.com,b@example.org", nil, "", "invalid character ',' in 'to' part"},
		{"mailto:not-an-address", nil, "", "invalid recipient"},
		{"mailto:a@example.com?subject=%zz", nil, "", "invalid % encoding"},
		{"mailto:a@example.com?subject=%00", nil, "", "invalid % encoding"},
		{"mailto:a@example.com?x=%0D%0Abcc:evil@example.com", nil, "", "invalid header field body"},
	}
	for _, tc := range tests {
		u, _, err := Settings{}.parseNotifyURI(tc.uri)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.uri, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.uri, err)
			continue
		}
		var to []string
		for _, r := range u.Recipients {
			to = append(to, r.Address)
		}
		if !reflect.DeepEqual(to, tc.to) || u.Subject != tc.subject {
			t.Errorf("%s: to %q subject %q, want %q %q", tc.uri, to, u.Subject, tc.to, tc.subject)
		}
		for _, h := range u.Headers {
			if strings.EqualFold(h[0], "from") {
				t.Errorf("%s: reserved header kept", tc.uri)
			}
		}
	}
}

func notifyCompile(t *testing.T, src string) (*Script, error) {
	t.Helper()
	return Compile("t", []byte(src), nil)
}

func TestNotify(t *testing.T) {
	s, err := notifyCompile(t, `require ["enotify", "relational"];
notify :importance "1" :message "new mail" :options ["a=b"] "mailto:alice@example.com";
notify :importance "1" :message "new mail" :options ["a=b"] "mailto:alice@example.com";
if valid_notify_method ["mailto:bob@example.com", "xmpp:bob@example.com"] { discard; }
if notify_method_capability "mailto:bob@example.com" "Online" "maybe" { notify "mailto:carol@example.com"; }
`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background(), &Env{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Action{
		&Notify{At: Position{File: "t", Line: 2, Col: 1}, Method: "mailto:alice@example.com", Importance: 1, Options: []string{"a=b"}, Message: "new mail", HasMessage: true,
			Mailto: &Mailto{Recipients: []MailtoRecipient{{Full: "alice@example.com", Address: "alice@example.com"}}}},
		&Notify{At: Position{File: "t", Line: 5, Col: 70}, Method: "mailto:carol@example.com", Importance: 2,
			Mailto: &Mailto{Recipients: []MailtoRecipient{{Full: "carol@example.com", Address: "carol@example.com"}}}},
	}
	if len(res.Actions) != 2 || !res.ImplicitKeep {
		t.Fatalf("actions %v keep %v, want two notifications and the implicit keep", res.Actions, res.ImplicitKeep)
	}
	for i := range want {
		got := *res.Actions[i].(*Notify)
		w := *want[i].(*Notify)
		got.At, w.At = Position{}, Position{}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("action %d = %+v, want %+v", i, got, w)
		}
	}
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`notify "xmpp:a@example.com";`, "notify command: invalid method 'xmpp'"},
		{`notify :importance "4" "mailto:a@example.com";`, "invalid :importance value for notify command: 4"},
		{`notify :from "nobody" "mailto:a@example.com";`, "specified :from address 'nobody' is invalid"},
		{`notify :options "=x" "mailto:a@example.com";`, "invalid option name"},
		{`notify :options "" "mailto:a@example.com";`, "empty option specified"},
	}
	for _, tc := range tests {
		_, err := notifyCompile(t, `require "enotify"; `+tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
	if _, err := Compile("t", []byte(`require "enotify";`), &Options{Settings: Settings{"sieve_notify_max_notifications": "0"}}); err != nil {
		t.Errorf("require enotify with notifications prohibited: %v", err)
	}
	_, err := Compile("t", []byte(`require "enotify"; notify "mailto:a@example.com";`), &Options{Settings: Settings{"sieve_notify_max_notifications": "0"}})
	if err == nil || !strings.Contains(err.Error(), "local policy prohibits the use of a notify action") {
		t.Errorf("notify with notifications prohibited: %v", err)
	}
}

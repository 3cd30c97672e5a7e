package transport

import (
	"strings"
	"testing"
)

// TestCommandReplies runs command sequences through the protocol and
// checks the code of every reply: the order of commands (RFC 5321 section
// 4.1.4, 503 out of sequence), argument and parameter syntax (501), the
// limits, and the end of a session after too many unknown commands.
func TestCommandReplies(t *testing.T) {
	type step struct {
		line string
		code int
	}
	tests := []struct {
		name  string
		smtp  bool
		steps []step
	}{
		{"sequence", false, []step{
			{"MAIL FROM:<a@b>", 503}, {"LHLO c", 250}, {"RCPT TO:<x@y>", 503}, {"DATA", 503},
			{"MAIL FROM:<a@b>", 250}, {"MAIL FROM:<a@b>", 503}, {"DATA", 503}, {"BDAT 0 LAST", 503},
			{"RCPT TO:<x@y>", 250}, {"RSET", 250}, {"RCPT TO:<x@y>", 503}, {"NOOP", 250}, {"VRFY x", 252},
		}},
		{"hello", false, []step{
			{"EHLO c", 500}, {"HELO c", 500}, {"LHLO", 501}, {"lhlo c", 250},
		}},
		{"hello in SMTP", true, []step{
			{"LHLO c", 500}, {"HELO c", 250}, {"EHLO c", 250}, {"MAIL FROM:<>", 250},
		}},
		{"paths", false, []step{
			{"LHLO c", 250},
			{"MAIL FROM:a@b", 250}, {"RSET", 250},
			{"MAIL FROM: <a@b>", 250}, {"RSET", 250},
			{"MAIL FROM:<@relay.example,@other.example:a@b>", 250}, {"RSET", 250},
			{"MAIL FROM:<\"a b\"@c>", 250}, {"RSET", 250},
			{"MAIL TO:<a@b>", 501}, {"MAIL FROM:<a>", 501}, {"MAIL FROM:<a@>", 501}, {"MAIL FROM:<@b>", 501},
			{"MAIL FROM:<a b@c>", 501}, {"MAIL FROM:<a@b", 501}, {"MAIL FROM:<\"ab@c>", 501},
			{"MAIL FROM:<a@b>", 250}, {"RCPT TO:<>", 501}, {"RCPT FROM:<x@y>", 501}, {"RCPT TO:<x@y>", 250},
		}},
		{"parameters", false, []step{
			{"LHLO c", 250},
			{"MAIL FROM:<a@b> SIZE=100 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x+2By", 250}, {"RSET", 250},
			{"MAIL FROM:<a@b> size=100 body=7bit", 250},
			{"RCPT TO:<x@y> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y@z", 250},
			{"RCPT TO:<x@y> NOTIFY=NEVER", 250},
			{"RCPT TO:<x@y> NOTIFY=NEVER,DELAY", 501},
			{"RCPT TO:<x@y> ORCPT=x@y", 501},
			{"RCPT TO:<x@y> ORCPT=rfc822;x+4", 501},
			{"RCPT TO:<x@y> ORCPT=utf-8;j\\x{E9}@y", 250},
			{"RCPT TO:<x@y> ORCPT=utf-8;j\\x{}@y", 501},
			{"RCPT TO:<x@y> FOO=1", 555},
			{"RSET", 250},
			{"MAIL FROM:<a@b> SIZE=x", 501}, {"MAIL FROM:<a@b> SIZE=-1", 501}, {"MAIL FROM:<a@b> SIZE=1000001", 552},
			{"MAIL FROM:<a@b> SIZE=99999999999999999999999", 552},
			{"MAIL FROM:<a@b> BODY=BINARYMIME", 501}, {"MAIL FROM:<a@b> RET=ALL", 501},
			{"MAIL FROM:<a@b> ENVID=+", 501}, {"MAIL FROM:<a@b> SMTPUTF8=yes", 501},
			{"MAIL FROM:<a@b> AUTH=<>", 555}, {"MAIL FROM:<a@b> SIZE=1=2", 501},
		}},
		{"data arguments", false, []step{
			{"LHLO c", 250}, {"MAIL FROM:<a@b>", 250}, {"RCPT TO:<x@y>", 250},
			{"DATA now", 501}, {"BDAT", 501}, {"BDAT x", 501}, {"BDAT 1 NOW", 501}, {"BDAT 1 LAST x", 501},
		}},
		{"not offered", false, []step{
			{"STARTTLS", 502}, {"AUTH PLAIN", 502}, {"EXPN x", 502}, {"HELP", 502}, {"LHLO c", 250},
		}},
		{"too many errors", false, []step{
			{"LHLO c", 250}, {"FOO", 500}, {"", 500}, {"BAR x", 500}, {"BAZ", 500}, {"", 421},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startServer(t, Config{Deliverer: &recorder{}, MaxMessageBytes: 1000000, SMTP: tt.smtp})
			lc := dialLine(t, "tcp", addr)
			lc.expect(220)
			for _, s := range tt.steps {
				if s.code == 421 { // the second reply to the last command
					if code, text := lc.reply(); code != 421 {
						t.Fatalf("after too many errors: %d %q", code, text)
					}
					if !lc.closed() {
						t.Fatal("connection still open after too many errors")
					}
					return
				}
				lc.send(s.line + "\r\n")
				if code, text := lc.reply(); code != s.code {
					t.Fatalf("%q: %d %q, want %d", s.line, code, text, s.code)
				}
			}
		})
	}
}

// TestPipelinedReplies: replies to pipelined commands go out together, in
// order, with the per-recipient replies after DATA.
func TestPipelinedReplies(t *testing.T) {
	rec := &recorder{}
	_, addr := startServer(t, Config{Deliverer: rec})
	lc := dialLine(t, "tcp", addr)
	lc.expect(220)
	lc.send("LHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nRCPT TO:<\"z w\"@y> ORCPT=rfc822;z+20w@y\r\nDATA\r\n")
	for _, code := range []int{250, 250, 250, 250, 354} {
		lc.expect(code)
	}
	lc.send("Subject: s\r\n\r\n..dot\r\n.\r\nQUIT\r\n")
	if text := lc.expect(250); !strings.Contains(text, "<x@y>") {
		t.Errorf("first recipient's reply %q", text)
	}
	if text := lc.expect(250); !strings.Contains(text, `<"z w"@y>`) {
		t.Errorf("second recipient's reply %q", text)
	}
	lc.expect(221)
	env, msg := rec.last(t)
	if string(msg) != "Subject: s\r\n\r\n.dot\r\n" {
		t.Errorf("message %q", msg)
	}
	if len(env.Recipients) != 2 || env.Recipients[1].Addr != `"z w"@y` || env.Recipients[1].ORCPT != "z w@y" {
		t.Errorf("recipients %+v", env.Recipients)
	}
}

package notify

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/vacationd/vacationd/sieve"
)

// Report composes the feedback report (RFC 5965, "multipart/report;
// report-type=feedback-report") a vnd.dovecot.report action sends, as
// Pigeonhole does: the script's text, the machine-readable part
// (Feedback-Type, Original-Mail-From, Original-Rcpt-To,
// Dovecot-Reporting-User) and the message or, with :headers_only, its
// header. It is sent from the null sender; its From is
// sieve_report_from (an address source) or the postmaster.
func Report(a *sieve.Report, in Input) (*Mail, error) {
	if a == nil || in.Message == nil {
		return nil, fmt.Errorf("report: no action or message")
	}
	from, ok := in.addressSource(in.Settings.String("sieve_report_from", ""))
	if strings.EqualFold(strings.TrimSpace(in.Settings.String("sieve_report_from", "")), "postmaster") {
		ok = false
	}
	var fromField string
	if ok && from != "" {
		fromField = "<" + from + ">"
	} else {
		_, fromField = in.postmaster()
	}
	subject := "Report: (message without subject)"
	if s := in.Message.HeaderDecoded("subject"); len(s) > 0 {
		subject = "Report: " + s[0]
	}
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	host := in.Hostname
	if host == "" {
		host = "localhost"
	}
	boundary := hex.EncodeToString(rb[:]) + "/" + host

	var h header
	h.add("X-Sieve", sieve.EngineName+" "+sieve.EngineVersion)
	h.add("Message-ID", in.messageID())
	h.add("Date", in.Now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	h.add("From", fromField)
	h.add("To", "<"+a.Address+">")
	h.b.WriteString(foldEncoded("Subject", truncate(subject, maxSubjectCodePoints)))
	h.add("Auto-Submitted", "auto-generated (report)")
	h.add("MIME-Version", "1.0")
	h.b.WriteString("Content-Type: multipart/report; report-type=feedback-report;\r\n\tboundary=\"" + boundary + "\"\r\n")
	h.b.WriteString("\r\nThis is a MIME-encapsulated message\r\n\r\n")

	// The human-readable part.
	h.b.WriteString("--" + boundary + "\r\n")
	if has8bit(a.Message) {
		h.add("Content-Type", "text/plain; charset=utf-8")
		h.add("Content-Transfer-Encoding", "8bit")
	} else {
		h.add("Content-Type", "text/plain; charset=us-ascii")
		h.add("Content-Transfer-Encoding", "7bit")
	}
	h.add("Content-Disposition", "inline")
	h.b.WriteString("\r\n" + crlf(a.Message) + "\r\n\r\n")

	// The machine-readable part.
	h.b.WriteString("--" + boundary + "\r\n")
	h.add("Content-Type", "message/feedback-report")
	h.b.WriteString("\r\n")
	h.add("Version", "1")
	h.add("Feedback-Type", a.FeedbackType)
	h.add("User-Agent", sieve.EngineName+"/"+sieve.EngineVersion)
	h.add("Original-Mail-From", "<"+in.Envelope.From+">")
	orig := in.Envelope.OrigTo
	if orig == "" {
		orig = in.Envelope.To
	}
	if orig != "" {
		h.add("Original-Rcpt-To", "<"+orig+">")
	}
	user := in.userEmail()
	if user == "" {
		user = orig
	}
	if user != "" {
		h.add("Dovecot-Reporting-User", "<"+user+">")
	}
	h.b.WriteString("\r\n")

	// The message.
	h.b.WriteString("--" + boundary + "\r\n")
	raw := in.Message.Raw()
	if a.HeadersOnly {
		h.add("Content-Type", "text/rfc822-headers")
		raw = headerOf(raw)
	} else {
		h.add("Content-Type", "message/rfc822")
	}
	h.add("Content-Disposition", "attachment")
	h.b.WriteString("\r\n")
	h.b.Write(raw)
	if !a.HeadersOnly {
		h.b.WriteString("\r\n")
	}
	h.b.WriteString("\r\n--" + boundary + "--\r\n")
	return &Mail{From: "", To: []string{a.Address}, Message: []byte(h.b.String())}, nil
}

// headerOf returns the header of a raw message, with the blank line that
// ends it.
func headerOf(raw []byte) []byte {
	s := string(raw)
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 {
		return raw[:i+4]
	}
	if i := strings.Index(s, "\n\n"); i >= 0 {
		return raw[:i+2]
	}
	return raw
}

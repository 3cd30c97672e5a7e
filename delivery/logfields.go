package delivery

import (
	"log/slog"
	"net"
	"strings"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/transport"
)

// logFields are the attributes of the per-recipient log line that tie it
// to the client's and the downstream's logs: the LMTP session, the
// message's Message-ID and size, and the client's queue id. They are
// typed attributes (slog.LogAttrs), which cost less than key-value pairs.
func logFields(env *transport.Envelope, msg *sieve.Message, size int) []slog.Attr {
	mid := ""
	if v := msg.Header("Message-ID"); len(v) > 0 {
		mid = strings.TrimSpace(v[0])
	}
	return []slog.Attr{
		slog.String("session", env.SessionID), slog.String("client", addrString(env.ClientAddr)),
		slog.String("helo", env.ClientHost), slog.String("queue_id", clientQueueID(msg)),
		slog.String("message_id", mid), slog.Int("size", size),
	}
}

// clientQueueID is the queue id the client gave the message: the "id"
// clause of the topmost Received field, which Postfix writes as
// "... with ESMTP id 4F1Bc2Yq3Tz9 for <bob@example.com>; date" and logs
// under the same id. "" when there is none.
func clientQueueID(msg *sieve.Message) string {
	rcv := msg.Header("Received")
	if len(rcv) == 0 {
		return ""
	}
	top, _, _ := strings.Cut(rcv[0], ";") // the date follows the ';'
	words := strings.Fields(top)
	for i := 0; i+1 < len(words); i++ {
		if strings.EqualFold(words[i], "id") {
			return strings.Trim(words[i+1], "<>,")
		}
	}
	return ""
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// logReason is the vacation decision as logged and counted: a reply the
// pipeline decided to send is only queued here; the relay logs and
// counts "sent" once the relay answered 250.
func logReason(reason string) string {
	if reason == "sent" {
		return "queued"
	}
	return reason
}

// okText is the text of a recipient's 250: "SESSION Ok". The LMTP server
// puts "<rcpt> " in front of every per-recipient reply, so the wire reads
// "250 2.0.0 <rcpt> SESSION Ok" as Dovecot's LMTP writes it. Postfix logs
// the reply, so its line names our session and the two logs can be joined.
func okText(env *transport.Envelope) string {
	if env.SessionID == "" {
		return "Ok"
	}
	return env.SessionID + " Ok"
}

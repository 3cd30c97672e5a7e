package sieve

import "strings"

// RedirectDelivery says how a redirect action is sent, following
// Pigeonhole: the envelope sender chosen by sieve_redirect_envelope_from,
// the X-Sieve-Redirected-From header naming the user, and loop detection
// through that header.
type RedirectDelivery struct {
	// From is the envelope sender; "" is the null path <>.
	From string
	// RedirectedFrom is the value of the X-Sieve-Redirected-From header
	// to prepend, "" for none.
	RedirectedFrom string
	// Loop is true when the message already went through this user's
	// redirect: it must not be sent again (the implicit keep stays).
	Loop bool
}

// PlanRedirect decides how to send a redirect of msg received with env,
// under the Pigeonhole-named settings sieve_redirect_envelope_from
// (sender, recipient, orig_recipient, user_email, postmaster, or an
// explicit <address>), sieve_user_email and postmaster_address.
func PlanRedirect(settings Settings, env Envelope, msg *Message) RedirectDelivery {
	userEmail := envelopePathString(settings.String("sieve_user_email", ""))
	recipient := envelopePathString(env.To)
	d := RedirectDelivery{From: envelopePathString(env.From)}
	// RFC 5228 §4.2: a message with the null sender is redirected with the
	// null sender.
	if d.From != "" {
		src := strings.ToLower(strings.Trim(settings.String("sieve_redirect_envelope_from", "sender"), " \t"))
		if src == "user_email" && userEmail == "" {
			src = "recipient"
		}
		switch src {
		case "", "default", "sender":
		case "recipient":
			d.From = recipient
		case "orig_recipient":
			d.From = envelopePathString(env.OrigTo)
		case "user_email":
			d.From = userEmail
		case "postmaster":
			if pm := envelopePathString(settings.String("postmaster_address", "")); pm != "" {
				d.From = pm
			}
		default:
			if a, null, ok := parseSMTPPath(src); ok && strings.HasPrefix(src, "<") {
				d.From = ""
				if !null {
					d.From = a.smtpString()
				}
			}
		}
	}
	d.RedirectedFrom = userEmail
	if d.RedirectedFrom == "" {
		d.RedirectedFrom = recipient
	}
	if msg != nil {
		for _, h := range msg.Header("x-sieve-redirected-from") {
			h = strings.Trim(h, " \t\r\n")
			if h != "" && (h == recipient || h == userEmail) {
				d.Loop = true
				break
			}
		}
	}
	return d
}

// Message returns msg as the redirect sends it, with the
// X-Sieve-Redirected-From header prepended.
func (d RedirectDelivery) Message(msg *Message) []byte {
	raw := msg.Raw()
	if d.RedirectedFrom == "" {
		return raw
	}
	out := make([]byte, 0, len(raw)+len(d.RedirectedFrom)+32)
	out = append(out, "X-Sieve-Redirected-From: "...)
	out = append(out, d.RedirectedFrom...)
	out = append(out, "\r\n"...)
	return append(out, raw...)
}

// envelopePathString normalizes an envelope address; "" for the null path
// and for anything unparsable.
func envelopePathString(s string) string {
	a, null, ok := parseSMTPPath(strings.TrimSpace(s))
	if !ok || null {
		return ""
	}
	return a.smtpString()
}

package vacation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/vacationd/vacationd/mailaddr"
	"github.com/vacationd/vacationd/sieve"
)

// Reason says why no reply is sent. The first ten are Pigeonhole's checks,
// in the order they are made; the last two are errors in the inputs.
type Reason string

const (
	NullSender           Reason = "null-sender"            // envelope sender <>
	OwnAddress           Reason = "own-address"            // sender is the recipient
	SenderInAddresses    Reason = "sender-in-addresses"    // sender is one of :addresses
	Duplicate            Reason = "duplicate"              // already answered within the period
	MailingList          Reason = "mailing-list"           // List-* header present
	AutoSubmitted        Reason = "auto-submitted"         // Auto-Submitted other than "no"
	Precedence           Reason = "precedence"             // Precedence junk, bulk or list
	AutoResponseSuppress Reason = "auto-response-suppress" // X-Auto-Response-Suppress All or OOF
	SystemAddress        Reason = "system-address"         // MAILER-DAEMON, LISTSERV, majordomo, *-request*, owner-*
	ImplicitDelivery     Reason = "implicit-delivery"      // none of the user's addresses in To, Cc, ...

	NullRecipient Reason = "null-recipient" // envelope recipient <> (a warning)
	InvalidFrom   Reason = "invalid-from"   // expanded :from is no address (a warning)

	// RateLimited: the Responder's Limiter refused the reply (a
	// backscatter limit, which Pigeonhole does not have).
	RateLimited Reason = "rate-limited"
)

// listHeaders mark mailing-list traffic (RFC 2369, RFC 2919).
var listHeaders = []string{"List-Id", "List-Owner", "List-Subscribe", "List-Post",
	"List-Unsubscribe", "List-Help", "List-Archive"}

// myAddressHeaders are searched for the user's addresses.
var myAddressHeaders = []string{"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"}

// Envelope is the SMTP envelope of the incoming message. Addresses may be
// written with or without angle brackets; "" and "<>" are the null address.
type Envelope struct {
	From   string // MAIL FROM: the sender replies go to
	To     string // the final recipient (RCPT TO)
	OrigTo string // the original recipient (ORCPT), "" when unknown
}

// Input is everything a decision depends on besides the settings and the
// dedup records.
type Input struct {
	User    string          // owner of the dedup records (the script's user)
	Action  *sieve.Vacation // the vacation action the script produced
	Message *sieve.Message  // the incoming message
	// Edited is the message as the script left it (editheader changes);
	// nil means Message. Like Pigeonhole, the checks (mailing list,
	// Auto-Submitted, Precedence, X-Auto-Response-Suppress, the user's
	// addresses) read it; the reply's Subject, To, In-Reply-To and
	// References come from Message.
	Edited   *sieve.Message
	Envelope Envelope
}

// Decision is the outcome of [Responder.Decide].
type Decision struct {
	// Send is true when a reply is due; otherwise Reason says why not.
	Send   bool
	Reason Reason
	// Detail is a log line in Pigeonhole's words: what was sent or why not.
	Detail string
	// Warnings are problems found in the action that did not stop the
	// decision (an invalid :addresses item, ...).
	Warnings []string

	// Now is the time the decision was made at.
	Now time.Time
	// Key identifies the reply for deduplication (set once the sender is
	// known to be non-null).
	Key Key
	// Period is the clamped reply period and Expires is Now+Period: after
	// the reply was accepted for sending the caller records Key until
	// Expires. When Period is 0 nothing is to be recorded and Expires is
	// zero.
	Period  time.Duration
	Expires time.Time

	// MailFrom and RcptTo are the reply's SMTP envelope. MailFrom is ""
	// (the null reverse-path) unless sieve_vacation_send_from_recipient.
	MailFrom string
	RcptTo   string

	from      mail.Address // From: of the reply
	fromRaw   string       // an expanded :from that is no address, written as it is
	userAddr  string       // the user's address that matched
	addresses []string     // parsed :addresses
}

// Responder decides and composes vacation replies. Its fields are read
// only; a Responder is safe for concurrent use when its Dedup is.
type Responder struct {
	Settings Settings
	// Dedup holds the replies already sent; nil disables the duplicate
	// check.
	Dedup Dedup
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MessageID returns a new Message-ID with its angle brackets; nil
	// means a random one at Hostname.
	MessageID func() string
	// Hostname is the right-hand side of generated Message-IDs; "" means
	// "localhost".
	Hostname string
	// Limiter, when not nil, is asked last, once a reply is otherwise due;
	// a refusal stops it with [RateLimited].
	Limiter Limiter
}

func (r *Responder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Responder) newMessageID(now time.Time) string {
	if r.MessageID != nil {
		return r.MessageID()
	}
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	host := r.Hostname
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("<vacationd.%d.%s@%s>", now.Unix(), hex.EncodeToString(b[:]), host)
}

// Decide runs Pigeonhole's checks in its order and reports the first that
// stops the reply, or the envelope and dedup key of the reply to send. It
// consults r.Dedup but records nothing. The error is non-nil only when the
// dedup records cannot be read.
func (r *Responder) Decide(ctx context.Context, in *Input) (*Decision, error) {
	s := &r.Settings
	act, msg := in.Action, in.Message
	if act == nil || msg == nil {
		return nil, fmt.Errorf("vacation: decide: missing action or message")
	}
	d := &Decision{Now: r.now()}
	// invalidFrom is an expanded :from that is no address. Pigeonhole
	// still replies and writes it as From:; vacationd does not send a reply
	// with a From: no one can answer (the rule): a warning and no
	// reply, decided once every other check has passed.
	var invalidFrom string
	rawSender := mailaddr.TrimAngle(in.Envelope.From)
	sender := mailaddr.Unquote(rawSender)
	recipient := mailaddr.Unquote(mailaddr.TrimAngle(in.Envelope.To))

	for _, raw := range act.Addresses {
		a, ok := parseMailbox(raw)
		if !ok {
			d.Warnings = append(d.Warnings, fmt.Sprintf(
				"specified :addresses item %q is invalid for vacation action (ignored)", sanitizeLog(raw)))
			continue
		}
		d.addresses = append(d.addresses, a.Address)
	}
	if act.From != "" {
		// Pigeonhole reports an invalid expanded :from as a runtime
		// error and still replies, writing it as From: as it is.
		if a, ok := parseMailbox(act.From); ok && (a.Name != "" || !strings.Contains(act.From, "<")) {
			d.from = a
		} else if ok {
			d.fromRaw = act.From // a name Go's parser does not read: as written
		} else {
			invalidFrom = act.From
		}
	}

	if recipient == "" {
		return d.stop(NullRecipient, "vacation action aborted: envelope recipient is <>"), nil
	}
	if sender == "" {
		return d.stop(NullSender, "discarded vacation reply to <>"), nil
	}
	if sameAddress(sender, recipient) {
		return d.stop(OwnAddress, fmt.Sprintf("discarded vacation reply to own address <%s>", sender)), nil
	}
	for _, a := range d.addresses {
		if sameAddress(sender, a) {
			return d.stop(SenderInAddresses, fmt.Sprintf(
				"discarded vacation reply to own address <%s> (as specified using :addresses argument)", sender)), nil
		}
	}

	d.Key = Key{User: in.User, Sender: strings.ToLower(sender), Handle: act.Handle}
	if r.Dedup != nil {
		seen, err := r.Dedup.Seen(ctx, d.Key, d.Now)
		if err != nil {
			return nil, fmt.Errorf("vacation: check for duplicate response to <%s>: %w", sender, err)
		}
		if seen {
			return d.stop(Duplicate, fmt.Sprintf("discarded duplicate vacation response to <%s>", sender)), nil
		}
	}

	if in.Edited != nil {
		msg = in.Edited
	}
	for _, h := range listHeaders {
		if len(msg.Header(h)) > 0 {
			return d.stop(MailingList, fmt.Sprintf(
				"discarding vacation response to mailinglist recipient <%s>", sender)), nil
		}
	}
	// Dovecot gives the values with folding and trailing white space
	// kept, and Pigeonhole compares them whole: "no (comment)" is not "no".
	for _, v := range checkValues(msg, "Auto-Submitted") {
		if !strings.EqualFold(v, "no") {
			return d.stop(AutoSubmitted, fmt.Sprintf(
				"discarding vacation response to auto-submitted message from <%s>", sender)), nil
		}
	}
	for _, v := range checkValues(msg, "Precedence") {
		switch strings.ToLower(v) {
		case "junk", "bulk", "list":
			return d.stop(Precedence, fmt.Sprintf(
				"discarding vacation response to precedence=%s message from <%s>", sanitizeLog(v), sender)), nil
		}
	}
	for _, v := range checkValues(msg, "X-Auto-Response-Suppress") {
		for _, flag := range strings.Split(v, ",") {
			flag = strings.Trim(flag, " \t")
			if strings.EqualFold(flag, "All") || strings.EqualFold(flag, "OOF") {
				return d.stop(AutoResponseSuppress, fmt.Sprintf(
					"discarding vacation response to message from <%s> ('%s' flag found in x-auto-response-suppress header)",
					sender, flag)), nil
			}
		}
	}
	if isSystemAddress(sender) {
		return d.stop(SystemAddress, fmt.Sprintf(
			"not sending vacation response to system address <%s>", sender)), nil
	}

	var origRecipient string
	if s.UseOriginalRecipient {
		origRecipient = mailaddr.TrimAngle(in.Envelope.OrigTo)
	}
	userEmail := s.UserEmail
	smtpFrom, found := r.findMyAddress(d, msg, recipient, origRecipient, userEmail)
	if !found {
		if !s.DontCheckRecipient {
			return d.stop(ImplicitDelivery, fmt.Sprintf(
				"discarding vacation response for implicitly delivered message; "+
					"no known (envelope) recipient address found in message headers (recipient=<%s>)", recipient)), nil
		}
		smtpFrom = recipient
		if origRecipient != "" {
			smtpFrom = origRecipient
		}
		d.userAddr = userEmail
		if d.userAddr == "" {
			d.userAddr = recipient
		}
	}

	if invalidFrom != "" {
		d.Warnings = append(d.Warnings, fmt.Sprintf(
			"specified :from address %q is invalid for vacation action", sanitizeLog(invalidFrom)))
		return d.stop(InvalidFrom, fmt.Sprintf(
			"discarding vacation response: expanded :from %q is not a valid address", sanitizeLog(invalidFrom))), nil
	}
	if r.Limiter != nil {
		if ok, why := r.Limiter.Allow(rawSender, d.Now); !ok {
			return d.stop(RateLimited, fmt.Sprintf("not sending vacation response to <%s>: rate-limited: %s", sender, why)), nil
		}
	}
	d.Send = true
	d.RcptTo = rawSender
	if s.SendFromRecipient {
		d.MailFrom = smtpFrom
	}
	d.Period = s.Period(act.PeriodSet, act.Period)
	if d.Period > 0 {
		d.Expires = d.Now.Add(d.Period)
	}
	d.Detail = fmt.Sprintf("sent vacation response to <%s>", sender)
	return d, nil
}

// findMyAddress looks for the user's addresses in the address headers, in
// Pigeonhole's order: per header field, the final recipient, the original
// recipient, the :addresses, then the configured user address. It sets
// d.userAddr to the address found and returns the SMTP sender Pigeonhole
// would use with send_from_recipient.
func (r *Responder) findMyAddress(d *Decision, msg *sieve.Message, recipient, orig, userEmail string) (string, bool) {
	for _, h := range myAddressHeaders {
		values := msg.Header(h)
		if len(values) == 0 {
			continue
		}
		var listed []string
		for _, v := range values {
			for _, a := range parseAddressList(v) {
				listed = append(listed, a.Address)
			}
		}
		has := func(addr string) bool {
			for _, l := range listed {
				if sameAddress(l, addr) {
					return true
				}
			}
			return false
		}
		switch {
		case has(recipient):
			d.userAddr = recipient
			return recipient, true
		case orig != "" && has(orig):
			d.userAddr = orig
			return orig, true
		}
		for _, a := range d.addresses {
			if has(a) {
				// The user does not choose the SMTP sender directly.
				d.userAddr = a
				if orig != "" {
					return orig, true
				}
				return recipient, true
			}
		}
		if userEmail != "" && has(userEmail) {
			d.userAddr = userEmail
			return userEmail, true
		}
	}
	return "", false
}

func (d *Decision) stop(r Reason, detail string) *Decision {
	d.Send = false
	d.Reason = r
	d.Detail = detail
	if r == NullRecipient {
		d.Warnings = append(d.Warnings, detail)
	}
	return d
}

// checkValues returns the values of the named fields as Dovecot's
// mail_get_headers hands them to Pigeonhole's checks: the white space
// before the value dropped, folding and trailing white space kept. Fields
// added by editheader come with the space after the colon and the line
// break still in place, so "Precedence: bulk" added by the script does not
// count as bulk (checked with sieve-test).
func checkValues(m *sieve.Message, name string) []string {
	var out []string
	for _, f := range m.Fields {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		if f.Added {
			out = append(out, f.Value+"\r\n")
			continue
		}
		out = append(out, strings.TrimLeft(f.Value, " \t"))
	}
	return out
}

// sanitizeLog makes a value safe to put on one log line.
func sanitizeLog(s string) string {
	const max = 128
	var b strings.Builder
	for i, r := range s {
		if i >= max {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r == 0x7f {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Respond decides and, when a reply is due, composes it. rep is nil when
// d.Send is false.
func (r *Responder) Respond(ctx context.Context, in *Input) (d *Decision, rep *Reply, err error) {
	d, err = r.Decide(ctx, in)
	if err != nil || !d.Send {
		return d, nil, err
	}
	rep, err = r.Compose(in, d)
	return d, rep, err
}

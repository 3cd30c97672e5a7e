package sieve

import "time"

// Action is one effect a script asked for. The concrete types are [Keep],
// [FileInto], [Redirect], [Discard], [Reject], [Vacation], [Notify] and [Report].
type Action interface {
	// Kind names the action as Sieve does: "keep", "fileinto", ...
	Kind() string
	// Pos is where in which script the action was executed.
	Pos() Position
}

// Keep stores the message in the default mailbox (INBOX).
type Keep struct {
	At    Position
	Flags []string // imap4flags; nil when none were set
	// Implicit is true for the keep added because no action cancelled it.
	Implicit bool
	// Message is the message to store, as it was (after editheader
	// changes) when the action was executed.
	Message *Message
}

// FileInto stores the message in Mailbox.
type FileInto struct {
	At      Position
	Mailbox string
	Flags   []string
	Copy    bool // :copy (RFC 3894)
	Create  bool // :create (RFC 5490)
	// SpecialUse is :specialuse (RFC 8579): the message goes into the
	// mailbox with this special-use flag when there is one, else into
	// Mailbox.
	SpecialUse string
	// Message is the message to store, as it was (after editheader
	// changes) when the action was executed.
	Message *Message
}

// Redirect forwards the message to Address, keeping the envelope sender.
type Redirect struct {
	At      Position
	Address string
	Copy    bool
	// Message is the message to send, as it was (after editheader
	// changes) when the action was executed.
	Message *Message
}

// Discard silently drops the message (it cancels the implicit keep).
type Discard struct{ At Position }

// Reject refuses the message with Reason (RFC 5429). Extended is true for
// ereject, which should be done at the protocol level when possible.
type Reject struct {
	At       Position
	Reason   string
	Extended bool
}

// Vacation asks for an auto-reply (RFC 5230, RFC 6131). Whether a reply is
// actually sent, and to whom, is decided by package vacation.
type Vacation struct {
	At        Position
	Reason    string   // the body; a MIME entity when Mime is set
	Subject   string   // :subject, expanded; empty when absent
	From      string   // :from, expanded; empty when absent
	Addresses []string // :addresses, expanded
	Mime      bool     // :mime
	// Handle identifies this response for deduplication: :handle when given,
	// else one synthesized from the unexpanded reason, :subject, :from and
	// :mime (RFC 5230 §4.2).
	Handle string
	// Period is :days or :seconds as written; PeriodSet is false when neither
	// was given (the responder then uses its default period).
	Period    time.Duration
	PeriodSet bool
	Seconds   bool // the period was given with :seconds
}

func (a *Keep) Kind() string     { return "keep" }
func (a *FileInto) Kind() string { return "fileinto" }
func (a *Redirect) Kind() string { return "redirect" }
func (a *Discard) Kind() string  { return "discard" }
func (a *Reject) Kind() string {
	if a.Extended {
		return "ereject"
	}
	return "reject"
}
func (a *Vacation) Kind() string { return "vacation" }

func (a *Keep) Pos() Position     { return a.At }
func (a *FileInto) Pos() Position { return a.At }
func (a *Redirect) Pos() Position { return a.At }
func (a *Discard) Pos() Position  { return a.At }
func (a *Reject) Pos() Position   { return a.At }
func (a *Vacation) Pos() Position { return a.At }

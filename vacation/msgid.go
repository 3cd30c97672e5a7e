package vacation

// MessageID extracts the first valid msg-id of a Message-ID (or
// In-Reply-To) value as Dovecot does for Pigeonhole, with its angle
// brackets; "" when there is none. A Pigeonhole vacation reply's
// In-Reply-To is MessageID of the original's Message-ID, and MessageID of
// that is the same again.
func MessageID(v string) string { return messageID(v) }

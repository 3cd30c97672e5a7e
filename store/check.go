package store

// Validation shared by every backend, so that a key, record or script
// name one backend accepts is accepted by all (the limits are bbolt's,
// the strictest).

// CheckKey returns an error wrapping ErrInvalid when k cannot be stored.
func CheckKey(k DedupKey) error {
	_, err := dedupKey(k)
	return err
}

// CheckUserSender validates the user and optional sender that select
// marks for ListDedup and ForgetDedup.
func CheckUserSender(user, sender string) error {
	_, err := dedupPrefix(user, sender)
	return err
}

// CheckRecord returns an error wrapping ErrInvalid, naming record i of a
// Commit, when r cannot be stored.
func CheckRecord(i int, r *OutboxRecord) error { return validateRecord(i, r) }

// ReplyGuards maps the index in recs of each exclusive mark's Reply to
// the mark's index; an error wrapping ErrInvalid when a Reply is not among
// recs or belongs to two marks.
func ReplyGuards(marks []Mark, recs []*OutboxRecord) (map[int]int, error) {
	return replyGuards(marks, recs)
}

// CheckScript validates a user and script name.
func CheckScript(user, name string) error {
	_, err := scriptKey(user, name)
	return err
}

// CheckScriptUser validates the user of a script listing.
func CheckScriptUser(user string) error { return checkScriptUser(user) }

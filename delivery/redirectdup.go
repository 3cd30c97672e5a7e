package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

// Redirect deduplication, as Pigeonhole does it: a message redirected to
// an address is recorded (sieve_redirect_duplicate_period, 12 hours by
// default), so the same message delivered again (an LMTP retry, a second
// copy through another path) is not redirected twice. The record is keyed
// on the Message-ID, the recipient running the script, the target, the
// Resent-Message-ID (or Resent-From) and the List-Id; a message without a
// Message-ID is never taken for a duplicate. The mark is committed with
// the redirect's outbox record.

// defaultRedirectDuplicatePeriod is sieve_redirect_duplicate_period's
// default.
const defaultRedirectDuplicatePeriod = 12 * time.Hour

// redirectDupID is the duplicate id of redirecting msg to target, "" when
// the message has no Message-ID.
func redirectDupID(env sieve.Envelope, msg *sieve.Message, target string) string {
	first := func(name string) string {
		if v := msg.Header(name); len(v) > 0 {
			return strings.TrimSpace(sieve.Unfold(v[0]))
		}
		return ""
	}
	id := first("message-id")
	if id == "" {
		return ""
	}
	rcpt := env.OrigTo
	if rcpt == "" {
		rcpt = env.To
	}
	resent := first("resent-message-id")
	if resent == "" {
		resent = first("resent-from")
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{id, strings.ToLower(rcpt), strings.ToLower(target), resent, first("list-id")}, "\x00")))
	return "redirect:" + hex.EncodeToString(sum[:16])
}

// redirectDuplicate reports whether the redirect was done already and,
// when not, returns the mark to commit with it (nil when it is not
// recorded: no Message-ID, no duplicate store, or a period of 0).
func (p *Pipeline) redirectDuplicate(ctx context.Context, req *Request, a *sieve.Redirect, now time.Time) (bool, *store.Mark, error) {
	if req.Duplicates == nil {
		return false, nil, nil
	}
	id := redirectDupID(req.Envelope, req.Message, a.Address)
	if id == "" {
		return false, nil, nil
	}
	seen, err := req.Duplicates.Seen(ctx, id)
	if err != nil || seen {
		return seen, nil, err
	}
	period := p.Settings.Duration("sieve_redirect_duplicate_period", defaultRedirectDuplicatePeriod)
	if period <= 0 {
		return false, nil, nil
	}
	return false, &store.Mark{Key: store.DedupKey{User: req.User, Sender: duplicateSender, Handle: id}, Created: now, Expires: now.Add(period)}, nil
}

-- version 3: the replies the backscatter limits allowed, shared by every
-- replica (sieve_vacation_max_replies_per_address and _per_minute): one
-- row per reply, addr its destination as the limits key it, sent its
-- time in Unix nanoseconds. Rows an hour old are deleted (see
-- replylimits.go), so the table holds at most an hour of replies.

CREATE TABLE reply_limits (
	id   bigserial PRIMARY KEY,
	addr bytea NOT NULL,
	sent bigint NOT NULL
);
CREATE INDEX reply_limits_addr ON reply_limits (addr, sent);
CREATE INDEX reply_limits_sent ON reply_limits (sent);

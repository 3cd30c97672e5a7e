-- vacationd state, version 1. Times are Unix nanoseconds (0 is "none"),
-- as the embedded store keeps them, so they round-trip exactly. Strings
-- from mail and scripts are bytea: a handle holds NUL bytes, a relay's
-- error text may be any bytes, and listings come in byte order, as with
-- bbolt.

CREATE TABLE dedup (
	usr     bytea NOT NULL,
	sender  bytea NOT NULL,
	handle  bytea NOT NULL,
	created bigint NOT NULL,
	expires bigint NOT NULL,
	PRIMARY KEY (usr, sender, handle)
);
CREATE INDEX dedup_expires ON dedup (expires);

CREATE TABLE outbox (
	id           bigserial PRIMARY KEY,
	kind         text NOT NULL,
	usr          bytea NOT NULL,
	mail_from    bytea NOT NULL,
	rcpt         bytea[] NOT NULL,
	message      bytea NOT NULL,
	attempts     integer NOT NULL DEFAULT 0,
	queued       bigint NOT NULL,
	next_attempt bigint NOT NULL,
	last_error   bytea NOT NULL DEFAULT '',
	lease_owner  text,
	lease_until  bigint
);
CREATE INDEX outbox_due ON outbox (next_attempt, id);
CREATE INDEX outbox_leased ON outbox (lease_until) WHERE lease_until IS NOT NULL;

CREATE TABLE outbox_dropped (
	id           bigint PRIMARY KEY,
	kind         text NOT NULL,
	usr          bytea NOT NULL,
	mail_from    bytea NOT NULL,
	rcpt         bytea[] NOT NULL,
	attempts     integer NOT NULL,
	queued       bigint NOT NULL,
	next_attempt bigint NOT NULL,
	last_error   bytea NOT NULL,
	dropped      bigint NOT NULL,
	reason       bytea NOT NULL
);

CREATE TABLE scripts (
	usr     bytea NOT NULL,
	name    bytea NOT NULL,
	source  bytea NOT NULL,
	updated bigint NOT NULL,
	PRIMARY KEY (usr, name)
);

-- The foreign key makes the database refuse deleting the active script
-- and activating a missing one.
CREATE TABLE scripts_active (
	usr  bytea PRIMARY KEY,
	name bytea NOT NULL,
	FOREIGN KEY (usr, name) REFERENCES scripts (usr, name)
);

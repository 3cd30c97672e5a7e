-- vacationd state, version 1. Times are Unix nanoseconds (0 is "none"),
-- as the embedded store keeps them, so they round-trip exactly. Keys use
-- the "C" collation: listings come in byte order, as with bbolt.

CREATE TABLE dedup (
	usr     text COLLATE "C" NOT NULL,
	sender  text COLLATE "C" NOT NULL,
	handle  text COLLATE "C" NOT NULL,
	created bigint NOT NULL,
	expires bigint NOT NULL,
	PRIMARY KEY (usr, sender, handle)
);
CREATE INDEX dedup_expires ON dedup (expires);

CREATE TABLE outbox (
	id           bigserial PRIMARY KEY,
	kind         text NOT NULL,
	usr          text NOT NULL,
	mail_from    text NOT NULL,
	rcpt         text[] NOT NULL,
	message      bytea NOT NULL,
	attempts     integer NOT NULL DEFAULT 0,
	queued       bigint NOT NULL,
	next_attempt bigint NOT NULL,
	last_error   text NOT NULL DEFAULT '',
	lease_owner  text,
	lease_until  bigint
);
CREATE INDEX outbox_due ON outbox (next_attempt, id);
CREATE INDEX outbox_leased ON outbox (lease_until) WHERE lease_until IS NOT NULL;

CREATE TABLE outbox_dropped (
	id           bigint PRIMARY KEY,
	kind         text NOT NULL,
	usr          text NOT NULL,
	mail_from    text NOT NULL,
	rcpt         text[] NOT NULL,
	attempts     integer NOT NULL,
	queued       bigint NOT NULL,
	next_attempt bigint NOT NULL,
	last_error   text NOT NULL,
	dropped      bigint NOT NULL,
	reason       text NOT NULL
);

CREATE TABLE scripts (
	usr     text COLLATE "C" NOT NULL,
	name    text COLLATE "C" NOT NULL,
	source  bytea NOT NULL,
	updated bigint NOT NULL,
	PRIMARY KEY (usr, name)
);

-- The foreign key makes the database refuse deleting the active script
-- and activating a missing one.
CREATE TABLE scripts_active (
	usr  text COLLATE "C" PRIMARY KEY,
	name text COLLATE "C" NOT NULL,
	FOREIGN KEY (usr, name) REFERENCES scripts (usr, name)
);

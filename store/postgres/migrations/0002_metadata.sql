-- version 2: METADATA entries (RFC 5464) the mboxmetadata and
-- servermetadata Sieve tests read; mailbox '' holds the server's entries.
-- Entry names are stored lower case (they compare case-insensitively).

CREATE TABLE metadata (
	usr     bytea NOT NULL,
	mailbox bytea NOT NULL,
	entry   bytea NOT NULL,
	value   bytea NOT NULL,
	PRIMARY KEY (usr, mailbox, entry)
);

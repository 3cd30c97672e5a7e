package sieve

// allExtensions lists every capability the engine implements. Each
// extension lives in its own file.
func allExtensions() []*extension {
	return []*extension{
		coreExtension(),
		{name: "comparator-i;octet"},
		{name: "comparator-i;ascii-casemap"},
		{name: "comparator-i;ascii-numeric"},
		{name: "comparator-i;unicode-casemap"},
		{name: "encoded-character"},
		{name: "copy"},
		{name: "relational"},
		{name: "regex"},
		{name: "subaddress"},
		{name: "index"},
		fileintoExtension(),
		envelopeExtension(),
		rejectExtension(), erejectExtension(),
		variablesExtension(),
		vacationExtension(), vacationSecondsExtension(),
		imap4flagsExtension(),
		mailboxExtension(),
		includeExtension(),
		debugExtension(),
		enotifyExtension(),
		dateExtension(),
		environmentExtension(),
		ihaveExtension(),
		duplicateExtension(),
		spamtestExtension(), spamtestplusExtension(), virustestExtension(),
		bodyExtension(),
		editheaderExtension(),
		mimeExtension(), foreverypartExtension(), extracttextExtension(),
	}
}

package sieve

import "strings"

// offByDefault names the extensions that are known but disabled until
// enabled (Options.Extensions, sieve_extensions, sieve_global_extensions,
// the -x flag of the commands): exactly those Pigeonhole 0.5 leaves out
// of its default set, as `sieve-test` shows. Every vnd.* extension is off
// too. Everything else the engine implements is on. This is the one place
// the default set is decided; every command and the service use it.
var offByDefault = map[string]bool{
	"vacation-seconds": true,
	"spamtest":         true,
	"spamtestplus":     true,
	"virustest":        true,
	"editheader":       true,
	"mboxmetadata":     true,
	"servermetadata":   true,
	"special-use":      true,
	"extlists":         true,
	// ereject is not even in Pigeonhole's set; it is kept, opt-in.
	"ereject": true,
}

// defaultOff reports whether the extension name is off by default.
func defaultOff(name string) bool {
	return offByDefault[name] || strings.HasPrefix(name, "vnd.")
}

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
		mailboxExtension(), specialUseExtension(),
		mboxMetadataExtension(), serverMetadataExtension(),
		extlistsExtension(), vndReportExtension(),
		pipeExtension(), filterExtension(), executeExtension(),
		includeExtension(),
		debugExtension(),
		enotifyExtension(),
		dateExtension(),
		environmentExtension(), vndEnvironmentExtension(),
		ihaveExtension(),
		duplicateExtension(),
		spamtestExtension(), spamtestplusExtension(), virustestExtension(),
		bodyExtension(),
		editheaderExtension(),
		mimeExtension(), foreverypartExtension(), extracttextExtension(),
	}
}

// Package sources implements the engine's lookup interfaces over files
// an operator maintains and over the store: external lists for extlists
// (sieve.ListSource), mailboxes and their special uses for mailboxexists
// and special-use (sieve.MailboxChecker, sieve.SpecialUseChecker), and
// METADATA entries (sieve.MetadataSource). Package sieve stays pure: it
// only sees the interfaces, set in sieve.Env.
package sources

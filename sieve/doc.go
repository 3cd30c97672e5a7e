// Package sieve implements the Sieve mail filtering language (RFC 5228) and the
// extensions real scripts use, with Dovecot Pigeonhole as the reference for
// behaviour.
//
// A script is compiled once with [Compile] into an immutable [Script] that is
// safe for concurrent use, then evaluated any number of times with
// [Script.Run] against a [Message] and an [Envelope]. Evaluation has no side
// effects: its output is a [Result], a list of [Action] values and whether
// the implicit keep applies. The package does no network or disk I/O and
// reads the clock only through [Env].Now; everything outside the message is
// reached through small interfaces set in [Env] ([ScriptResolver],
// [MailboxChecker] and [SpecialUseChecker], [MetadataSource], [ListSource],
// [DuplicateChecker], [ProgramRunner]). Actions that send mail ([Vacation],
// [Redirect], [Notify], [Report]) or run programs ([Pipe]) are only
// recorded: the caller composes and performs them.
package sieve

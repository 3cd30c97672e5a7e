// Package e2e holds vacationd's end-to-end tests. They build the binary,
// run `vacationd serve` against real peers — Postfix's smtp-sink, HAProxy,
// swaks — and against go-smtp servers started in the test, all on
// 127.0.0.1, and check what arrives where: replies at the sink, per-recipient
// LMTP answers, nothing lost across restarts and kill -9.
//
// The tests are behind the build tag e2e (`make e2e`, which runs
// `go test -count=1 -tags e2e ./e2e/...`). A test that needs a program that
// is not installed skips with a message naming the Debian package.
// VACATIOND_E2E_BIN runs them against a prebuilt binary instead of building
// one.
package e2e

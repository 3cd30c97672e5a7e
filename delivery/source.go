package delivery

import (
	"context"

	"github.com/vacationd/vacationd/sieve"
)

// Script is one script a Source found for a user.
type Script struct {
	// Name identifies the script in logs and errors: a path, or a URL,
	// or user:name for a stored script. Compiled scripts are cached by
	// Name and Version.
	Name string
	// Version changes whenever Text may have changed (a file's size and
	// modification time, a stored script's update time). "" means the
	// cache compares the text itself.
	Version string
	// Text is the script's source.
	Text []byte
	// Global marks a script the administrator runs around the user's
	// (sieve_before, sieve_after): it may also require the extensions of
	// sieve_global_extensions.
	Global bool
	// Includes resolves the script's :personal includes; nil means a
	// :personal include is not found. :global ones go to the pipeline's
	// global resolver.
	Includes sieve.ScriptResolver
}

// A Source finds users' scripts. Implementations must be safe for
// concurrent use.
type Source interface {
	// Scripts returns user's scripts in the order they run. user is the
	// recipient address in lower case without its detail. No script and a
	// nil error mean the user has none: the message is kept and nothing
	// replies. An error means the source is unavailable (a directory that
	// cannot be read, an admin that does not answer): the recipient is
	// answered with a temporary failure, so the client retries and no
	// reply is lost.
	Scripts(ctx context.Context, user string) ([]Script, error)
}

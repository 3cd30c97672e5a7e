package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vacationd/vacationd/store/postgres"
)

func migrateCommand() command {
	return command{
		name:  "migrate",
		usage: "--state URL: apply the PostgreSQL schema migrations (serve also does at start)",
		run:   runMigrate,
	}
}

const migrateUsage = `usage: vacationd migrate [--state postgres://...]

migrate brings the PostgreSQL schema of --state (default $VACATIOND_STATE)
to this vacationd's version, for operators who run migrations apart from
the service (vacationd serve applies them at start too). Replicas running
an older version keep working across an additive migration; one that finds
a newer schema than its own refuses to start.
`

func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vacationd migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage) }
	state := fs.String("state", os.Getenv("VACATIOND_STATE"), "PostgreSQL URL (env VACATIOND_STATE)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *state == "" {
		fmt.Fprint(stderr, migrateUsage)
		return 2
	}
	if err := checkStateURL(*state); err != nil {
		fmt.Fprintf(stderr, "vacationd migrate: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), stateOpenTimeout)
	defer cancel()
	pool, err := postgres.NewPool(ctx, *state)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd migrate: %v\n", err)
		return 1
	}
	defer pool.Close()
	applied, err := postgres.Migrate(ctx, pool)
	for _, name := range applied {
		fmt.Fprintf(stdout, "applied %s\n", name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vacationd migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "schema is at version %d\n", postgres.SchemaVersion())
	return 0
}

// A module of its own, so that the main module's ./... leaves it alone:
// bench/gosieve.sh runs it with a go.mod pointing at a go-sieve checkout.
module gosieve

go 1.26

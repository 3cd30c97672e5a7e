#!/usr/bin/env bash
# bench/gosieve.sh GOSIEVE_DIR - vacationd's Sieve engine beside foxcpp/go-sieve
# (make bench-gosieve): the same script (sieve/testdata/bench/filter.sieve,
# which go-sieve can run: it has no vacation) on the same 4 KiB message, for
# the evaluation of a parsed message and for parse plus evaluate.
#
# GOSIEVE_DIR is a checkout of github.com/foxcpp/go-sieve (the module proxy
# does not serve it); the harness (bench/gosieve, a module of its own) is
# copied to a temporary directory and pointed at it, so nothing of go-sieve
# enters this repository. It prints ns/op (noisy on a shared machine) and,
# when valgrind is installed, instructions per operation from callgrind (the
# difference between runs of 1000 and 3000 operations, so set-up cancels
# out), which is the stable figure.
set -euo pipefail
SRC=${1:?usage: bench/gosieve.sh GOSIEVE_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=$(cd "$SRC" && pwd)
[ -f "$SRC/go.mod" ] || { echo "bench/gosieve.sh: $SRC has no go.mod" >&2; exit 1; }
T=$(mktemp -d /tmp/vacationd-gosieve.XXXXXX)
trap 'rm -rf "$T"' EXIT
cp "$ROOT/bench/gosieve/cmp_test.go" "$T/"
cd "$T"
cat >go.mod <<MOD
module gosieve

go 1.26

require (
	github.com/vacationd/vacationd v0.0.0
	github.com/foxcpp/go-sieve v0.0.0
)

replace github.com/vacationd/vacationd => $ROOT

replace github.com/foxcpp/go-sieve => $SRC
MOD
go mod tidy >/dev/null 2>&1 || go mod tidy
go test -c -o cmp.test .
export BENCHDATA=$ROOT/sieve/testdata/bench
echo "== go-sieve $(git -C "$SRC" log -1 --format='%h %cs' 2>/dev/null || echo '?') beside vacationd $(git -C "$ROOT" describe --always --dirty)"
./cmp.test -test.run '^$' -test.bench . -test.benchtime 20000x -test.count 3 | grep ^Benchmark
command -v valgrind >/dev/null || exit 0
declare -A ins
for b in FoxEval OursEval FoxParseEval OursParseEval; do
	for n in 1000 3000; do
		GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			./cmp.test -test.run '^$' -test.bench "^Benchmark$b\$" -test.benchtime ${n}x >/dev/null 2>vg.log
		ins[$b$n]=$(grep -o 'refs: *[0-9,]*' vg.log | tr -dc 0-9)
	done
	ins[$b]=$(((ins[${b}3000] - ins[${b}1000]) / 2000))
	printf '%-16s %8d instructions/op (callgrind)\n' "$b" "${ins[$b]}"
done
awk -v fe="${ins[FoxEval]}" -v oe="${ins[OursEval]}" -v fp="${ins[FoxParseEval]}" -v op="${ins[OursParseEval]}" 'BEGIN {
	printf "evaluate a parsed message: vacationd %.2fx faster than go-sieve (target >= 1: %s)\n", fe / oe, (oe <= fe ? "met" : "NOT MET")
	printf "parse + evaluate:          vacationd %.2fx faster than go-sieve\n", fp / op
}'

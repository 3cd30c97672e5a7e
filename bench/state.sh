#!/usr/bin/env bash
# bench/state.sh [BIN] [LOAD] - the state backends side by side, in one run:
# vacationd on bbolt (--data), on PostgreSQL with 1 replica, and on
# PostgreSQL with 3 replicas behind HAProxy round-robin (the setup of the
# README's "Several replicas" section), all on 127.0.0.1.
#
# Every message comes from a new sender to bob, whose script replies once
# per sender (:days 3): each delivery reads the dedup mark, then commits the
# mark and the reply together before its 250 (for PostgreSQL: one pipelined
# transaction, synchronous_commit=on, fsync on), and the relay sends the
# reply to an smtp-sink. bench/lmtpload (LOAD) sends MSGS messages over
# SESS sessions and times each one (connect to the last reply), so the
# throughput and p99 are the client's view, HAProxy's hop included.
# The backscatter limit of replies per minute is off: the bench sends
# thousands of replies on purpose.
#
# The PostgreSQL cluster is a throwaway one (initdb in a temporary
# directory, as the user postgres when run as root, on a free port). The
# rounds are interleaved so the three setups share the machine's load;
# each figure is the median of REPS rounds. Note that on a small machine
# the 3 replicas share the same cores (and PostgreSQL's), so the figure
# for them measures the cost of sharing, not added capacity.
#
# Environment: MSGS (1000), SESS (10), REPS (3).
# Exit status: 0 when every run completed and every reply was relayed.
set -euo pipefail

BIN=${1:-bin/vacationd} LOAD=${2:-bin/lmtpload}
MSGS=${MSGS:-1000} SESS=${SESS:-10} REPS=${REPS:-3}

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
for t in smtp-sink haproxy; do
	if ! command -v "$t" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$t" ]; then
		echo "bench/state.sh: $t not found; skipping"
		exit 0
	fi
done
[ -n "$PGBIN" ] || { echo "bench/state.sh: PostgreSQL not found (Debian package postgresql); skipping"; exit 0; }
PATH=$PATH:/usr/sbin
for f in "$BIN" "$LOAD"; do
	[ -x "$f" ] || { echo "bench/state.sh: $f is not executable (make build; go build -o bin/lmtpload ./bench/lmtpload)" >&2; exit 1; }
done
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
LOAD=$(cd "$(dirname "$LOAD")" && pwd)/$(basename "$LOAD")

W=$(mktemp -d /tmp/vacationd-bench-state.XXXXXX)
chmod 755 "$W"
PIDS=()
PG_STOP=
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "$PG_STOP" ] && $PG_STOP >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"

# as_pg CMD...: run as the user postgres when we are root.
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$W/pg"
[ "$(id -u)" = 0 ] && chown postgres "$W/pg"
as_pg "$PGBIN/initdb" -D "$W/pg/data" -A trust -U postgres -E UTF8 --locale=C >"$W/initdb.log" 2>&1 ||
	{ cat "$W/initdb.log" >&2; die "initdb failed"; }
free_port PG_PORT
as_pg "$PGBIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/server.log" -w -o \
	"-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$W/pg -c max_connections=300" start >/dev/null ||
	{ cat "$W/pg/server.log" >&2; die "postgres did not start"; }
PG_STOP="as_pg $PGBIN/pg_ctl -D $W/pg/data -m fast stop"
url() { echo "postgres://postgres@127.0.0.1:$PG_PORT/$1?sslmode=disable"; }
for db in one three; do
	"$PGBIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE $db" postgres
	"$BIN" migrate --state "$(url $db)" >/dev/null
done

free_port REPLY_PORT
start_sink replies "$REPLY_PORT" -c
mkdir -p "$W/scripts/example.com"
printf '%s\n' 'require "vacation";' 'vacation :days 3 :subject "Away" "I am away";' >"$W/scripts/example.com/bob.sieve"

# start_vacationd NAME FLAGS...: a vacationd relaying to the sink; sets
# LMTP, HTTP and VPID.
start_vacationd() {
	local name=$1
	shift
	mkdir -p "$W/$name"
	free_port LMTP
	free_port HTTP
	"$BIN" serve --lmtp 127.0.0.1:"$LMTP" --http 127.0.0.1:"$HTTP" --data "$W/$name" \
		--scripts "$W/scripts" --relay 127.0.0.1:"$REPLY_PORT" --hostname mx.example.com \
		-o sieve_vacation_max_replies_per_minute=0 "$@" \
		>"$W/$name.log" 2>&1 &
	VPID=$!
	PIDS+=($VPID)
	HTTPS+=("$HTTP")
	wait_port "$HTTP"
	wait_port "$LMTP"
}

HTTPS=()
start_vacationd bbolt
BBOLT=127.0.0.1:$LMTP
start_vacationd pg1 --state "$(url one)"
PG1=127.0.0.1:$LMTP
BACKENDS=()
for i in 1 2 3; do
	start_vacationd "pg3-$i" --state "$(url three)"
	BACKENDS+=("    server r$i 127.0.0.1:$LMTP")
done
free_port FRONT
cat >"$W/haproxy.cfg" <<EOF
global
    maxconn 512
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend lmtp
    bind 127.0.0.1:$FRONT
    default_backend replicas
backend replicas
    balance roundrobin
$(printf '%s\n' "${BACKENDS[@]}")
EOF
haproxy -db -f "$W/haproxy.cfg" >"$W/haproxy.log" 2>&1 &
PIDS+=($!)
wait_port "$FRONT"
PG3=127.0.0.1:$FRONT

echo "== vacationd state bench: lmtpload -s $SESS -m $MSGS, a new sender per message (a reply each), $REPS rounds," \
	"$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }'), $(date -u +%FT%TZ)"

declare -A RATE P99 P50
run=0
for r in $(seq "$REPS"); do
	for setup in bbolt pg1 pg3; do
		case $setup in
		bbolt) addr=$BBOLT label="bbolt (--data)" ;;
		pg1) addr=$PG1 label="PostgreSQL, 1 replica" ;;
		pg3) addr=$PG3 label="PostgreSQL, 3 replicas + HAProxy" ;;
		esac
		run=$((run + 1))
		out=$("$LOAD" -addr "$addr" -s "$SESS" -m "$MSGS" -from "r${r}${setup}-%d@example.org") || die "$setup: $out"
		rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$out")
		p50=$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")
		p99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
		RATE[$setup]+="$rate " P50[$setup]+="$p50 " P99[$setup]+="$p99 "
		printf '%d  %-34s %8s msg/s  p50 %7s ms  p99 %7s ms\n' "$r" "$label" "$rate" "$p50" "$p99"
	done
done

# Every reply reaches the sink: the outboxes drain (at most 5 minutes).
want=$((run * MSGS))
t0=$(now)
for i in $(seq 3000); do
	[ "$(sink_count replies)" -ge "$want" ] && break
	sleep 0.1
done
got=$(sink_count replies)
if [ "$got" -lt "$want" ]; then
	for h in "${HTTPS[@]}"; do
		HTTP=$h
		echo "vacationd at :$h: outbox depth $(metric vacationd_outbox_depth), sent $(metric 'vacationd_outbox_sent_total{kind="vacation"}')" >&2
	done
	die "$got replies at the sink, want $want"
fi
echo "the outboxes drained $(calc "$(now) - $t0" 1)s after the last round"

echo
echo "medians of $REPS rounds (every one of the $want replies relayed; duplicates at the sink: $((got - want))):"
for setup in bbolt pg1 pg3; do
	case $setup in
	bbolt) label="bbolt (--data)" ;;
	pg1) label="PostgreSQL, 1 replica" ;;
	pg3) label="PostgreSQL, 3 replicas + HAProxy" ;;
	esac
	# shellcheck disable=SC2086
	printf '%-34s %8s msg/s  p50 %7s ms  p99 %7s ms\n' "$label" "$(median ${RATE[$setup]})" \
		"$(median ${P50[$setup]})" "$(median ${P99[$setup]})"
done

#!/usr/bin/env bash
# bench/lmtp.sh [BIN] - throughput of `vacationd serve` against Postfix's
# smtp-sink, with Postfix's smtp-source as the load generator (127.0.0.1 only).
#
#  1. baseline: smtp-source (SMTP) into smtp-sink, which discards the message,
#     and into smtp-sink -d, which writes every message to disk (the baseline
#     /work/shared/peers/peers.sh measured Dovecot against);
#  2. sidecar: smtp-source -L (LMTP) into vacationd with no --deliver-to and
#     a script that replies once per sender (:days 3): msg/s, the ratio to
#     smtp-sink, p50/p99 per-message latency, peak RSS;
#  3. replies: a script that replies to every message (:seconds 0 with
#     sieve_vacation_min_period=0); every reply is committed to the outbox
#     before the LMTP 250 and relayed to an smtp-sink -d, where they are
#     counted. Reply throughput = replies at the sink / time from the first
#     message to the last reply.
#
# Latency is vacationd's own per-message processing time (end of DATA to the
# per-recipient answers, including the fsync of the outbox commit) from the
# vacationd_message_seconds histogram on /metrics, interpolated within its
# buckets as Prometheus' histogram_quantile does. The client-side time per
# message (sessions / rate, which adds connection setup and the LMTP dialogue)
# is printed next to it. Peak RSS is VmHWM from /proc/PID/status.
#
# Each figure is the median of REPS rounds, the runs interleaved so that they
# share the machine's load; latency and RSS cover all rounds.
#
# Environment: MSGS (2000), SESS (10), LEN (1000) as smtp-source's -m, -s, -l;
# REPS (3).
# Exit status: 0 when every run completed and every expected reply arrived
# (figures below target are reported, not failed); 1 otherwise.
set -euo pipefail

BIN=${1:-bin/vacationd}
MSGS=${MSGS:-2000} SESS=${SESS:-10} LEN=${LEN:-1000} REPS=${REPS:-3}

for t in smtp-source smtp-sink; do
	if ! command -v "$t" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$t" ]; then
		echo "bench/lmtp.sh: $t not found (Debian package postfix); skipping"
		exit 0
	fi
done
PATH=$PATH:/usr/sbin
[ -x "$BIN" ] || { echo "bench/lmtp.sh: $BIN is not executable (make build)" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

W=$(mktemp -d /tmp/vacationd-bench.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"

# source_run ARGS...: smtp-source with the common options; prints seconds.
source_run() {
	local t0 t1
	t0=$(now)
	smtp-source -s "$SESS" -m "$MSGS" -l "$LEN" -f dave@example.org -M client.example.org "$@" \
		>"$W/source.log" 2>&1 || { cat "$W/source.log" >&2; die "smtp-source $* failed"; }
	t1=$(now)
	calc "$t1 - $t0" 3
}

# start_vacationd NAME SCRIPT EXTRA...: a fresh vacationd relaying to
# $REPLY_PORT, without the backscatter limits (10 replies per address per
# hour, 1000 a minute), which would stop the reply rows; sets VPID and HTTP.
start_vacationd() {
	local name=$1 script=$2
	shift 2
	mkdir -p "$W/$name/scripts/example.com" "$W/$name/data"
	printf '%s\n' "$script" >"$W/$name/scripts/example.com/bob.sieve"
	free_port LMTP
	free_port HTTP
	"$BIN" serve --lmtp 127.0.0.1:"$LMTP" --http 127.0.0.1:"$HTTP" --data "$W/$name/data" \
		--scripts "$W/$name/scripts" --relay 127.0.0.1:"$REPLY_PORT" --hostname mx.example.com \
		-o sieve_vacation_max_replies_per_address=0 -o sieve_vacation_max_replies_per_minute=0 "$@" \
		>"$W/$name.log" 2>&1 &
	VPID=$!
	PIDS+=($VPID)
	wait_port "$HTTP"
	wait_port "$LMTP"
}

# quantile Q: from the vacationd_message_seconds histogram, in ms.
quantile() {
	metrics | awk -v q="$1" '
		/^vacationd_message_seconds_bucket/ {
			le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
			n++; bound[n] = le; cum[n] = $2
		}
		END {
			total = cum[n]
			if (total == 0) { print "n/a"; exit }
			rank = q * total; lo = 0; prev = 0
			for (i = 1; i <= n; i++) {
				if (cum[i] >= rank) {
					if (bound[i] == "+Inf") { printf ">%.3f", lo * 1000; exit }
					v = lo + (bound[i] - lo) * (rank - prev) / (cum[i] - prev)
					printf "%.3f", v * 1000; exit
				}
				lo = bound[i]; prev = cum[i]
			}
		}'
}

# cpu_us T0 T1: microseconds of CPU per message between two ticks readings.
cpu_us() { calc "($2 - $1) * 1000000 / $HZ / $MSGS" 0; }


echo "== vacationd bench: smtp-source -s $SESS -m $MSGS -l $LEN, $REPS rounds, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

free_port SINK_PORT
start_sink sink-discard "$SINK_PORT"
SINK_PID=$SPID
free_port DUMP_PORT
start_sink sink-dump "$DUMP_PORT" -d

free_port REPLY_PORT
start_sink replies-once "$REPLY_PORT" -c
start_vacationd once 'require "vacation";
vacation :days 3 :subject "Away" "I am away";'
ONCE_LMTP=$LMTP ONCE_HTTP=$HTTP ONCE_PID=$VPID

free_port REPLY_PORT
start_sink replies-every "$REPLY_PORT" -c
start_vacationd every 'require ["vacation", "vacation-seconds"];
vacation :seconds 0 :subject "Away" "I am away";' \
	-o sieve_vacation_min_period=0 --extensions +vacation-seconds
EVERY_LMTP=$LMTP EVERY_HTTP=$HTTP EVERY_PID=$VPID

SINK=() DUMP=() ONCE=() RATIO=() EVERY=() EVERY_ACC=() SINK_CPU=() ONCE_CPU=() EVERY_CPU=()
for r in $(seq "$REPS"); do
	c0=$(ticks "$SINK_PID")
	s=$(source_run 127.0.0.1:"$SINK_PORT")
	SINK+=("$(calc "$MSGS / $s")")
	SINK_CPU+=("$(cpu_us "$c0" "$(ticks "$SINK_PID")")")
	printf '%d  %-50s %6.2fs %7s msg/s  %4s us CPU/msg\n' "$r" "smtp-source -> smtp-sink (discard)" "$s" "${SINK[-1]}" "${SINK_CPU[-1]}"

	s=$(source_run 127.0.0.1:"$DUMP_PORT")
	DUMP+=("$(calc "$MSGS / $s")")
	printf '%d  %-50s %6.2fs %7s msg/s\n' "$r" "smtp-source -> smtp-sink -d (dump to disk)" "$s" "${DUMP[-1]}"

	HTTP=$ONCE_HTTP
	c0=$(ticks "$ONCE_PID")
	s=$(source_run -L -t bob@example.com 127.0.0.1:"$ONCE_LMTP")
	ONCE+=("$(calc "$MSGS / $s")")
	ONCE_CPU+=("$(cpu_us "$c0" "$(ticks "$ONCE_PID")")")
	RATIO+=("$(calc "100 * ${ONCE[-1]} / ${SINK[-1]}" 0)")
	delivered=$(metric 'vacationd_lmtp_recipients_total{outcome="delivered"}')
	[ "$delivered" = $((r * MSGS)) ] || die "sidecar: $delivered recipients delivered, want $((r * MSGS)) (see $W/once.log)"
	for i in $(seq 200); do [ "$(sink_count replies-once)" -ge 1 ] && break; sleep 0.05; done
	replies=$(sink_count replies-once)
	[ "$replies" = 1 ] || die "sidecar: $replies replies at the sink, want 1 (one sender)"
	printf '%d  %-50s %6.2fs %7s msg/s  %4s us CPU/msg  %s%% of smtp-sink, %d reply\n' "$r" \
		"smtp-source -L -> vacationd sidecar (:days 3)" "$s" "${ONCE[-1]}" "${ONCE_CPU[-1]}" "${RATIO[-1]}" "$replies"

	HTTP=$EVERY_HTTP
	c0=$(ticks "$EVERY_PID")
	t0=$(now)
	s=$(source_run -L -t bob@example.com 127.0.0.1:"$EVERY_LMTP")
	EVERY_ACC+=("$(calc "$MSGS / $s")")
	for i in $(seq 1200); do # at most 60s for the relay to catch up
		[ "$(sink_count replies-every)" -ge $((r * MSGS)) ] && break
		sleep 0.05
	done
	t1=$(now)
	replies=$(sink_count replies-every)
	[ "$replies" = $((r * MSGS)) ] || die "reply each: $replies replies at the sink, want $((r * MSGS)) (see $W/every.log)"
	EVERY+=("$(calc "$MSGS / ($t1 - $t0)")")
	EVERY_CPU+=("$(cpu_us "$c0" "$(ticks "$EVERY_PID")")")
	printf '%d  %-50s %6.2fs %7s msg/s  %4s us CPU/msg  (LMTP accepted %s msg/s)\n' "$r" \
		"smtp-source -L -> vacationd, reply each -> smtp-sink" "$(calc "$t1 - $t0" 2)" "${EVERY[-1]}" "${EVERY_CPU[-1]}" "${EVERY_ACC[-1]}"
done

HTTP=$ONCE_HTTP
ONCE_P50=$(quantile 0.5) ONCE_P99=$(quantile 0.99) ONCE_RSS=$(hwm "$ONCE_PID")
HTTP=$EVERY_HTTP
EVERY_P50=$(quantile 0.5) EVERY_P99=$(quantile 0.99) EVERY_RSS=$(hwm "$EVERY_PID")
sent=$(metric 'vacationd_outbox_sent_total{kind="vacation"}')
depth=$(metric 'vacationd_outbox_depth')
[ "$sent" = $((REPS * MSGS)) ] && [ "$depth" = 0 ] || die "reply each: relayed $sent, outbox depth $depth"

SINK_M=$(median "${SINK[@]}") DUMP_M=$(median "${DUMP[@]}") ONCE_M=$(median "${ONCE[@]}") RATIO_M=$(median "${RATIO[@]}")
EVERY_M=$(median "${EVERY[@]}") EVERY_ACC_M=$(median "${EVERY_ACC[@]}")
mark() { awk "BEGIN { exit !($1) }" && echo "met" || echo "NOT MET"; }
echo
echo "medians of $REPS rounds:"
echo "smtp-sink:               $SINK_M msg/s (discard), $DUMP_M msg/s (-d, dump to disk); $(median "${SINK_CPU[@]}") us CPU/msg (discard)"
echo "sidecar (:days 3):       $ONCE_M msg/s = ${RATIO_M}% of smtp-sink (target >= 60%: $(mark "$RATIO_M >= 60"));" \
	"$(calc "100 * $ONCE_M / $DUMP_M" 0)% of smtp-sink -d"
echo "                         latency p50 ${ONCE_P50} ms, p99 ${ONCE_P99} ms (vacationd_message_seconds, $((REPS * MSGS)) messages);" \
	"client-side $(calc "1000 * $SESS / $ONCE_M" 2) ms/msg; $(median "${ONCE_CPU[@]}") us CPU/msg"
echo "                         peak RSS ${ONCE_RSS} MiB (target < 64 MiB: $(mark "$ONCE_RSS < 64"))"
echo "reply each (:seconds 0): $EVERY_M replies/s queued, committed and delivered to smtp-sink (all $((REPS * MSGS)) counted there);" \
	"LMTP accepted $EVERY_ACC_M msg/s"
echo "                         = $(calc "$EVERY_M / 154" 1)x..$(calc "$EVERY_M / 319" 1)x Dovecot's 154..319 msg/s" \
	"(target >= 5x: $(mark "$EVERY_M >= 5 * 154") for 154, $(mark "$EVERY_M >= 5 * 319") for 319)"
echo "                         latency p50 ${EVERY_P50} ms, p99 ${EVERY_P99} ms; client-side $(calc "1000 * $SESS / $EVERY_ACC_M" 2) ms/msg;" \
	"$(median "${EVERY_CPU[@]}") us CPU/reply (LMTP + commit + relay); peak RSS ${EVERY_RSS} MiB"

#!/usr/bin/env bash
# bench/peers.sh BIN LOAD - vacationd against its peers in one run (make bench-peers):
# Dovecot 2.3 LMTP with Pigeonhole, the same with a `discard` script (it also
# consumes the message), and Postfix's smtp-sink -L (LMTP that does nothing).
# Dovecot is configured as ../shared/peers/peers.sh does (mail_fsync = never,
# client_limit 1, replies to submission_host), but on free ports in a private
# directory, so that several benches and tests can run at once.
#
# Each round runs every row once, one after the other (interleaved, so they
# share the machine's load); the figures are medians over REPS rounds. LOAD
# (bench/lmtpload) sends MSGS messages of 1000 bytes over SESS sessions and
# times each one; CPU per message is read from /proc for the server's whole
# process tree (Dovecot's master and its lmtp processes). Replies are counted
# at an smtp-sink -c of each server's own.
#
# Rows:
#   dedup      one sender, a reply once (:days 3); new connection per message,
#              and (reuse) one connection per session
#   every      a reply to every message (:seconds 0): accepted msg/s and
#              replies/s at the sink (time from the first message to the last
#              reply)
#   senders    a new sender per message (:days 3): a reply to each
#   inline     vacationd --deliver-to Dovecot (a user without a script there)
#              against Dovecot alone, connections reused: to Dovecot's TCP
#              listener, and (inline-unix) to its unix socket, as a
#              vacationd on Dovecot's host delivers (Postfix's
#              lmtp:unix:private/dovecot-lmtp); each against a run of
#              Dovecot alone just before it
#   correctness  500 senders twice over 10 sessions (:days 3): second replies
#
# Environment: MSGS (5000; UMSGS, 20000, for the rows with connections
# reused, which take 0.15 s at 5000; DMSGS, 500, for the rows against
# Dovecot, which is 10 to 100 times slower; IMSGS, 3000, for the inline
# rows; RMSGS, 5000,
# for vacationd's reply rows, long enough for a steady state), SESS (10),
# REPS (5: as the issue measured; the rows against Dovecot vary by
# 10-30% from round to round).
# Exit status 0 when every run completed and every expected reply arrived;
# figures below target are reported, not failed.
set -euo pipefail

BIN=${1:-bin/vacationd} LOAD=${2:-bin/lmtpload}
MSGS=${MSGS:-5000} UMSGS=${UMSGS:-20000} DMSGS=${DMSGS:-500} IMSGS=${IMSGS:-3000} RMSGS=${RMSGS:-5000} SESS=${SESS:-10} REPS=${REPS:-5}

for t in smtp-sink dovecot; do
	if ! command -v "$t" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$t" ]; then
		[ "${CI:-}" = true ] && { echo "bench/peers.sh: $t not found" >&2; exit 1; }
		echo "bench/peers.sh: $t not found (Debian packages postfix, dovecot-lmtpd, dovecot-sieve); skipping"
		exit 0
	fi
done
[ "$(id -u)" = 0 ] || { echo "bench/peers.sh: Dovecot needs root to switch users; skipping"; exit 0; }
PATH=$PATH:/usr/sbin
for b in "$BIN" "$LOAD"; do [ -x "$b" ] || { echo "bench/peers.sh: $b is not executable" >&2; exit 1; }; done
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
LOAD=$(cd "$(dirname "$LOAD")" && pwd)/$(basename "$LOAD")

W=$(mktemp -d /tmp/vacationd-peers.XXXXXX)
chmod 755 "$W"
PIDS=()
DOVECOT_PID=
cleanup() {
	[ -n "$DOVECOT_PID" ] && kill -INT "$DOVECOT_PID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}" $DOVECOT_PID; do wait "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"

echo "== bench-peers: $MSGS messages ($UMSGS over reused connections, $DMSGS to Dovecot, $IMSGS inline, $RMSGS in vacationd's reply rows) of 1000 bytes over $SESS sessions, $REPS rounds, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "   $(dovecot --version | head -1 | sed 's/^/Dovecot /'), Postfix $(postconf -d -h mail_version 2>/dev/null), vacationd $(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo '?')"

# --- Dovecot + Pigeonhole, as peers.sh configures it.
free_port DSINK
start_sink dsink "$DSINK" -c
DSINK_PID=$SPID
free_port DLMTP
D=$W/dovecot
mkdir -p "$D"/{run,state,log,mail}
cat >"$D/dovecot.conf" <<EOF
base_dir  = $D/run
state_dir = $D/state
log_path  = $D/log/dovecot.log
instance_name = vacationd-bench-$$
protocols = lmtp
listen = 127.0.0.1
ssl = no
hostname = mx.example.com
postmaster_address = postmaster@example.com
default_internal_user = dovecot
default_login_user = dovenull
mail_uid = nobody
mail_gid = nogroup
mail_home = $D/mail/%d/%n
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/mail/%d/%n
}
submission_host = 127.0.0.1:$DSINK
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DLMTP
  }
  unix_listener lmtp-bench {
    mode = 0666
  }
  process_min_avail = 4
  client_limit = 1
  service_count = 0
  vsz_limit = 512M
}
protocol lmtp {
  mail_plugins = \$mail_plugins sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_vacation_min_period = 0
  sieve_vacation_default_period = 7d
  sieve_vacation_max_period = 0
  sieve_extensions = +vacation-seconds
}
EOF
ONCE='require "vacation";
vacation :days 3 :subject "Away" "I am away";'
EVERY='require ["vacation", "vacation-seconds"];
vacation :seconds 0 :subject "Away" "I am away";'
for u in bob always discard nosieve corr; do mkdir -p "$D/mail/example.com/$u"; done
printf '%s\n' "$ONCE" >"$D/mail/example.com/bob/.dovecot.sieve"
printf '%s\n' "$ONCE" >"$D/mail/example.com/corr/.dovecot.sieve"
printf '%s\n' "$EVERY" >"$D/mail/example.com/always/.dovecot.sieve"
printf 'discard;\n' >"$D/mail/example.com/discard/.dovecot.sieve"
chown -R nobody:nogroup "$D/mail"
dovecot -F -c "$D/dovecot.conf" >"$D/log/stdout.log" 2>&1 &
DOVECOT_PID=$!
wait_port "$DLMTP"

# --- smtp-sink -L: LMTP that accepts and discards.
free_port NULL_PORT
start_sink null "$NULL_PORT" "" -L
NULL_PID=$SPID

# --- vacationd instances, each relaying to its own counting sink, without
# the backscatter limits (10 replies per address per hour, 1000 a minute in
# all), which would stop the rows that measure replies after 10 or 1000.
NOLIMIT=(-o sieve_vacation_max_replies_per_address=0 -o sieve_vacation_max_replies_per_minute=0)
# start_vacationd NAME SCRIPT-FOR-USER USER EXTRA...: sets VPID VLMTP VSINK_NAME.
start_vacationd() {
	local name=$1 script=$2 user=$3 lmtp http sink
	shift 3
	mkdir -p "$W/$name/scripts/example.com" "$W/$name/data"
	printf '%s\n' "$script" >"$W/$name/scripts/example.com/$user.sieve"
	free_port sink
	start_sink "$name-replies" "$sink" -c
	free_port lmtp
	free_port http
	"$BIN" serve --lmtp 127.0.0.1:"$lmtp" --http 127.0.0.1:"$http" --data "$W/$name/data" \
		--scripts "$W/$name/scripts" --relay 127.0.0.1:"$sink" --hostname mx.example.com "${NOLIMIT[@]}" "$@" \
		>"$W/$name.log" 2>&1 &
	VPID=$!
	PIDS+=($VPID)
	wait_port "$http"
	wait_port "$lmtp"
	VLMTP=$lmtp
}
start_vacationd once "$ONCE" bob
ONCE_PID=$VPID ONCE_LMTP=$VLMTP
start_vacationd every "$EVERY" bob -o sieve_vacation_min_period=0 --extensions +vacation-seconds
EVERY_PID=$VPID EVERY_LMTP=$VLMTP
start_vacationd inline "$ONCE" nosieve --deliver-to lmtp:127.0.0.1:"$DLMTP"
INLINE_PID=$VPID INLINE_LMTP=$VLMTP
start_vacationd inline-unix "$ONCE" nosieve --deliver-to lmtp:unix:"$D/run/lmtp-bench"
INLINEU_PID=$VPID INLINEU_LMTP=$VLMTP
start_vacationd corr "$ONCE" corr
CORR_LMTP=$VLMTP

# Results: R_<row>_<field> arrays, one entry per round.
declare -A R
add() { R[$1]="${R[$1]:-} $2"; }
get() { median ${R[$1]}; }

# run ROW PIDS -- LOAD-ARGS...: one load run of N messages (default MSGS)
# against a server whose CPU is that of the processes PIDS (and their
# descendants); records rate, p50, p99 and CPU us/msg under ROW, and with
# OWN set the CPU us/msg of that process alone.
run() {
	local row=$1 pids=$2 m=${N:-$MSGS} out c0 c1 o0 o1 all cpu
	shift 3
	all=$(for p in $pids; do tree "$p"; done)
	c0=$(ticks $all) o0=$(ticks ${OWN:-})
	out=$("$LOAD" -s "$SESS" -m "$m" "$@" 2>"$W/load.err") || { cat "$W/load.err" >&2; die "$row: $out"; }
	all=$(for p in $pids; do tree "$p"; done)
	c1=$(ticks $all) o1=$(ticks ${OWN:-})
	cpu=$(calc "($c1 - $c0) * 1000000 / $HZ / $m" 0)
	[ -n "${OWN:-}" ] && add "${row}_own" "$(calc "($o1 - $o0) * 1000000 / $HZ / $m" 0)"
	RATE=$(sed 's/.*rate=\([0-9.]*\).*/\1/' <<<"$out")
	add "${row}_rate" "$RATE"
	add "${row}_p50" "$(sed 's/.*p50_ms=\([0-9.]*\).*/\1/' <<<"$out")"
	add "${row}_p99" "$(sed 's/.*p99_ms=\([0-9.]*\).*/\1/' <<<"$out")"
	add "${row}_cpu" "$cpu"
	printf '%d  %-22s %s  cpu_us=%s\n' "$ROUND" "$row" "$out" "$cpu"
}

# pair ROW A B: records the ratio of the rates of rows A and B of this
# round (paired: the two ran one after the other, under the same load).
pair() { add "$1" "$(calc "$(last "$2_rate") / $(last "$3_rate")" 3)"; }
last() { awk '{ print $NF }' <<<"${R[$1]}"; }

# reply_row ROW PIDS SINK -- LOAD-ARGS...: run, then wait for a reply to
# each message at SINK. Records replies/s (first message to last reply)
# and the pace at steady state: replies per accepted message while the
# middle 60% of the messages were accepted, from lmtpload's progress and
# samples of the sink's count taken meanwhile.
reply_row() {
	local row=$1 pids=$2 sink=$3 m=${N:-$MSGS} b t0 sp
	shift 4
	b=$(sink_count "$sink") t0=$(now)
	(while :; do echo "$(now) $(($(sink_count "$sink") - b))"; sleep 0.05; done) >"$W/replies.samples" &
	sp=$!
	run "$row" "$pids" -- -progress "$W/accepted.samples" "$@"
	replies "$row" "$sink" "$b" "$m" "$t0"
	kill "$sp"
	wait "$sp" 2>/dev/null || true
	add "${row}_pace" "$(pace "$W/accepted.samples" "$W/replies.samples")"
}

# pace ACCEPTED REPLIES: from two files of "TIME COUNT" samples, the
# replies counted per message accepted between the times when 20% and 80%
# of the messages had been accepted.
pace() {
	awk 'function at(n, T, V, x,   i) {
			if (x <= T[1]) return V[1]
			for (i = 2; i <= n; i++) if (T[i] >= x) return V[i-1] + (V[i] - V[i-1]) * (x - T[i-1]) / (T[i] - T[i-1])
			return V[n]
		}
		FNR == NR { na++; AT[na] = $1; AV[na] = $2; if ($2 > total) total = $2; next }
		{ nr++; RT[nr] = $1; RV[nr] = $2 }
		END {
			for (i = 1; i <= na; i++) { if (!t0 && AV[i] >= 0.2 * total) t0 = AT[i]; if (!t1 && AV[i] >= 0.8 * total) t1 = AT[i] }
			a = at(na, AT, AV, t1) - at(na, AT, AV, t0)
			r = at(nr, RT, RV, t1) - at(nr, RT, RV, t0)
			printf "%.3f", (a > 0 ? r / a : 0)
		}' "$1" "$2"
}

# replies ROW SINK BEFORE WANT T0: waits (60s at most) for WANT more replies
# at SINK, then records replies/s from T0 to the last one.
replies() {
	local row=$1 sink=$2 before=$3 want=$4 t0=$5 n
	local end=$((SECONDS + 60))
	while :; do
		n=$(($(sink_count "$sink") - before))
		[ "$n" -ge "$want" ] || [ "$SECONDS" -ge "$end" ] && break
		sleep 0.01
	done
	[ "$n" -ge "$want" ] || die "$row: $n replies at the sink, want $want (see $W)"
	add "${row}_replies" "$(calc "$n / ($(now) - $t0)")"
}

fresh_maildirs() { rm -rf "$D"/mail/example.com/*/Maildir; }

for ROUND in $(seq "$REPS"); do
	fresh_maildirs
	# dedup path, one sender, new connection per message and reused
	run sink-new "$NULL_PID" -- -addr 127.0.0.1:"$NULL_PORT"
	run vacationd-new "$ONCE_PID" -- -addr 127.0.0.1:"$ONCE_LMTP"
	pair new-vs-sink vacationd-new sink-new
	N=$UMSGS run sink-reuse "$NULL_PID" -- -addr 127.0.0.1:"$NULL_PORT" -reuse
	N=$UMSGS run vacationd-reuse "$ONCE_PID" -- -addr 127.0.0.1:"$ONCE_LMTP" -reuse
	pair reuse-vs-sink vacationd-reuse sink-reuse
	N=$DMSGS run dovecot-vacation "$DOVECOT_PID" -- -addr 127.0.0.1:"$DLMTP"
	pair new-vs-dovecot vacationd-new dovecot-vacation
	N=$DMSGS run dovecot-discard "$DOVECOT_PID" -- -addr 127.0.0.1:"$DLMTP" -to discard@example.com
	pair new-vs-discard vacationd-new dovecot-discard

	# a reply to every message
	N=$RMSGS reply_row vacationd-every "$EVERY_PID" every-replies -- -addr 127.0.0.1:"$EVERY_LMTP"
	N=$DMSGS reply_row dovecot-every "$DOVECOT_PID" dsink -- -addr 127.0.0.1:"$DLMTP" -to always@example.com
	add every-vs-dovecot "$(calc "$(last vacationd-every_replies) / $(last dovecot-every_replies)" 3)"

	# a new sender per message
	N=$RMSGS reply_row vacationd-senders "$ONCE_PID" once-replies -- -addr 127.0.0.1:"$ONCE_LMTP" -from "r$ROUND-s%d@example.org"
	N=$DMSGS reply_row dovecot-senders "$DOVECOT_PID" dsink -- -addr 127.0.0.1:"$DLMTP" -from "r$ROUND-s%d@example.org"
	add senders-vs-dovecot "$(calc "$(last vacationd-senders_replies) / $(last dovecot-senders_replies)" 3)"

	# inline in front of Dovecot, against Dovecot alone (connections reused)
	fresh_maildirs
	N=$IMSGS run dovecot-alone "$DOVECOT_PID" -- -addr 127.0.0.1:"$DLMTP" -to nosieve@example.com -reuse
	fresh_maildirs
	OWN=$INLINE_PID N=$IMSGS run vacationd-inline "$INLINE_PID $DOVECOT_PID" -- -addr 127.0.0.1:"$INLINE_LMTP" -to nosieve@example.com -reuse
	pair inline-vs-alone vacationd-inline dovecot-alone
	add inline-p50 "$(calc "$(last vacationd-inline_p50) - $(last dovecot-alone_p50)" 3)"
	add inline-p99 "$(calc "$(last vacationd-inline_p99) - $(last dovecot-alone_p99)" 3)"
	fresh_maildirs
	N=$IMSGS run dovecot-alone2 "$DOVECOT_PID" -- -addr 127.0.0.1:"$DLMTP" -to nosieve@example.com -reuse
	fresh_maildirs
	OWN=$INLINEU_PID N=$IMSGS run vacationd-inline-unix "$INLINEU_PID $DOVECOT_PID" -- -addr 127.0.0.1:"$INLINEU_LMTP" -to nosieve@example.com -reuse
	pair inline-unix-vs-alone vacationd-inline-unix dovecot-alone2
	add inline-unix-p50 "$(calc "$(last vacationd-inline-unix_p50) - $(last dovecot-alone2_p50)" 3)"
	add inline-unix-p99 "$(calc "$(last vacationd-inline-unix_p99) - $(last dovecot-alone2_p99)" 3)"
done

# correctness: the same 500 senders twice over 10 concurrent sessions.
corr() {
	local name=$1 addr=$2 sink=$3 b n prev i
	b=$(sink_count "$sink")
	"$LOAD" -s 10 -m 1000 -from 'c%d@example.org' -senders 500 -addr "$addr" -to corr@example.com >/dev/null 2>"$W/load.err" ||
		{ cat "$W/load.err" >&2; die "correctness $name"; }
	prev=-1
	for i in $(seq 100); do # until the count holds still for a second
		n=$(($(sink_count "$sink") - b))
		[ "$n" = "$prev" ] && [ "$n" -ge 500 ] && break
		prev=$n
		sleep 1
	done
	echo "$n"
}
CORR_D=$(corr dovecot 127.0.0.1:"$DLMTP" dsink)
CORR_V=$(corr vacationd 127.0.0.1:"$CORR_LMTP" corr-replies)

mark() { awk "BEGIN { exit !($1) }" && echo "met" || echo "NOT MET"; }
row() { printf '%-22s %9s %9s %7s %8s %8s %7s\n' "$@"; }
echo
echo "medians of $REPS rounds ($MSGS messages each, $UMSGS over reused connections, $DMSGS to Dovecot, $IMSGS inline, $RMSGS in vacationd's reply rows, $SESS sessions):"
row "" "msg/s" "replies/s" "pace" "p50 ms" "p99 ms" "CPU us"
for r in sink-new vacationd-new sink-reuse vacationd-reuse dovecot-vacation dovecot-discard vacationd-every dovecot-every \
	vacationd-senders dovecot-senders dovecot-alone vacationd-inline dovecot-alone2 vacationd-inline-unix; do
	rep=- pace=-
	[ -n "${R[${r}_replies]:-}" ] && rep=$(get "${r}_replies") pace=$(get "${r}_pace")
	row "$r" "$(get "${r}_rate")" "$rep" "$pace" "$(get "${r}_p50")" "$(get "${r}_p99")" "$(get "${r}_cpu")"
done
echo
echo "ratios, each the median of the rounds' paired ratios (targets from issue 14):"
echo "  dedup, new connection per message: vacationd / smtp-sink -L = $(get new-vs-sink)x (target >= 0.75: $(mark "$(get new-vs-sink) >= 0.75"));" \
	"CPU $(get vacationd-new_cpu) vs $(get sink-new_cpu) us/msg"
echo "  dedup, connection reused:          vacationd / smtp-sink -L = $(get reuse-vs-sink)x (target >= 0.75: $(mark "$(get reuse-vs-sink) >= 0.75"));" \
	"CPU $(get vacationd-reuse_cpu) vs $(get sink-reuse_cpu) us/msg"
echo "  dedup against Dovecot: $(get new-vs-dovecot)x Dovecot + Pigeonhole, $(get new-vs-discard)x Dovecot with discard"
echo "  reply to every message: pace (replies per accepted message at steady state) $(get vacationd-every_pace)" \
	"(target >= 0.95: $(mark "$(get vacationd-every_pace) >= 0.95")); replies/s $(get every-vs-dovecot)x Dovecot's"
echo "  a new sender per message: pace $(get vacationd-senders_pace) (target >= 0.95: $(mark "$(get vacationd-senders_pace) >= 0.95"));" \
	"replies/s $(get senders-vs-dovecot)x Dovecot's"
echo "  inline: vacationd -> Dovecot / Dovecot alone = $(get inline-vs-alone)x (target >= 0.95: $(mark "$(get inline-vs-alone) >= 0.95"));" \
	"added latency p50 $(get inline-p50) ms, p99 $(get inline-p99) ms (target < 2: $(mark "$(get inline-p99) < 2"));" \
	"vacationd's own CPU $(get vacationd-inline_own) us/msg"
echo "  inline over Dovecot's unix socket: $(get inline-unix-vs-alone)x (target >= 0.95: $(mark "$(get inline-unix-vs-alone) >= 0.95"));" \
	"added latency p50 $(get inline-unix-p50) ms, p99 $(get inline-unix-p99) ms (target < 2: $(mark "$(get inline-unix-p99) < 2"));" \
	"vacationd's own CPU $(get vacationd-inline-unix_own) us/msg"
echo "  correctness (500 senders twice, 10 sessions): second replies Dovecot $((CORR_D - 500)), vacationd $((CORR_V - 500)) (want 0: $(mark "$CORR_V == 500"))"
[ "$CORR_V" = 500 ] || exit 1

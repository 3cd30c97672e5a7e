# bench/lib.sh - shell helpers shared by the bench scripts (sourced).
# Expects W (the work directory) and an array PIDS (processes to stop).

die() { echo "${0##*/}: $*" >&2; exit 1; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# free_port VAR sets VAR to a TCP port on 127.0.0.1 that nothing listens on
# and that it has not given before (a port probed and closed is often the
# kernel's next answer too). Not called in $(...): it records the ports.
USED_PORTS=" "
free_port() {
	local p i
	for i in $(seq 100); do
		p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) ||
			p=$((20000 + RANDOM % 40000))
		case "$USED_PORTS" in *" $p "*) continue ;; esac
		(exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null && continue
		USED_PORTS="$USED_PORTS$p "
		printf -v "$1" '%s' "$p"
		return
	done
	die "no free port"
}

# wait_port PORT: bounded wait (10s) until something listens.
wait_port() {
	local i
	for i in $(seq 200); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.05
	done
	die "nothing listening on 127.0.0.1:$1"
}

# start_sink NAME PORT [-d|-c] [smtp-sink flags...]: smtp-sink on PORT;
# with -d it dumps every message into $W/NAME/, with -c it counts them (see
# sink_count). Sets SPID.
start_sink() {
	local name=$1 port=$2 args=(-h sink.example.net)
	shift 2
	case "${1:-}" in
	-d)
		mkdir -p "$W/$name"
		chmod 777 "$W/$name"
		args+=(-d "$W/$name/%Y%m%d%H%M%S.")
		shift
		;;
	-c) args+=(-c); shift ;;
	"") [ $# -gt 0 ] && shift ;;
	esac
	args+=("$@")
	[ "$(id -u)" = 0 ] && args+=(-u nobody)
	smtp-sink "${args[@]}" 127.0.0.1:"$port" 256 >"$W/$name.log" 2>&1 &
	SPID=$!
	PIDS+=($SPID)
	wait_port "$port"
}

# sink_count NAME: messages received by the smtp-sink -c NAME, from its
# running counter ("sess=N quit=N mesg=N" lines ending in CR).
sink_count() { tr '\r' '\n' <"$W/$1.log" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1 | awk '{ print $1 + 0 }'; }

# ticks PID...: CPU time (user + system) used so far by the processes and
# their reaped children, in clock ticks.
ticks() {
	local p t=0
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 + $14 + $15 }')))
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)

# tree PID: PID and all its descendants.
tree() {
	local p=$1 c
	echo "$p"
	for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done
}

hwm() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# metrics prints /metrics of the vacationd at $HTTP (bash's /dev/tcp, so
# that neither curl nor wget is needed).
metrics() {
	exec 3<>"/dev/tcp/127.0.0.1/$HTTP" || die "cannot connect to 127.0.0.1:$HTTP"
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	sed '1,/^\r*$/d' <&3
	exec 3<&-
}

# metric SERIES: a value from /metrics (0 when absent).
metric() { metrics | awk -v s="$1" '$1 == s { v = $2 } END { print v + 0 }'; }

#!/usr/bin/env bash
# berth serve cannot be locked out: it keeps answering a fresh client
# while 5,000 idle and 500 trickling connections are open, cuts requests
# whose headers or body stall, caps connections per client address, and
# sets its connection limit from the file-descriptor limit.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

FLOOD=(python3 "$TOP/tests/integration/conn_flood.py")
# Each connection takes a descriptor in the test and one in the server.
ulimit -Hn 65536 2>/dev/null
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" -lt 12000 ]; then
	fail "the file-descriptor limit allows 5,500 connections" \
		"ulimit -n is $(ulimit -n); run the test as root or raise the hard limit to 12000 or more"
	exit 1
fi

# established PORT: connections the server side holds on PORT.
established() { ss -Htn state established "( sport = :$1 )" | wc -l; }
# accept_queue PORT: connections waiting for accept(2) on PORT.
accept_queue() { ss -Hltn "( sport = :$1 )" | awk '{print $2; exit}'; }
# wait_for SECONDS CMD...: until CMD succeeds, or SECONDS pass.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 1
	done
}

# ---- 5,000 idle and 500 trickling connections, and a fresh client ----
serve_start --header-timeout 3600 --body-timeout 3600 ||
	{ fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
LIMIT=$((($(ulimit -n) - 256) / 2))
[ "$LIMIT" -gt 16384 ] && LIMIT=16384
expect "the connection limit comes from the descriptor limit ($LIMIT)" \
	grep -q "at most $LIMIT connections at once, 128 per client address" "$T/serve.log"
M=$(make_layout "$T/img" v1 4 2000)
got=$(push_layout a/b v1 "$T/img" "$M")
expect "seed a/b:v1" test "$got" = 201

# 100 source addresses: 55 connections each, under the per-address cap.
mkdir -p "$T/flood"
"${FLOOD[@]}" hold "$SRV_PORT" 5000 500 100 "$T/flood" 2>"$T/flood.err" &
FPID=$!
_pids+=("$FPID")
expect "5,500 connections are opened" wait_for 600 test -e "$T/flood/ready"
held() { [ "$(established "$SRV_PORT")" -ge 5500 ] && [ "$(accept_queue "$SRV_PORT")" = 0 ]; }
expect "the server has accepted all 5,500" wait_for 600 held
got=$(curl -s --max-time 300 "$R/v2/a/b/tags/list")
expect "a fresh curl is answered correctly" test "$got" = '{"name":"a/b","tags":["v1"]}'
run "$BERTH" --root "$T/store" pull -q "$SRV_HOST/a/b:v1"
check "a fresh berth pull succeeds" 0
got=$(curl -s --max-time 300 -o /dev/null -w '%{http_code}' "$R/v2/a/b/manifests/v1")
expect "... and another curl" test "$got" = 200
# The flood's status from a round that began after the requests above:
# the second report after them.
for i in 1 2; do
	touch "$T/answered"
	wait_for 600 test "$T/flood/status" -nt "$T/answered"
done
expect "the flood reports again" test "$T/flood/status" -nt "$T/answered"
expect "the flood is still running" kill -0 "$FPID"
expect "no idle or trickling connection was dropped meanwhile" \
	grep -q '^idle_alive=5000 trickle_alive=500$' "$T/flood/status"
touch "$T/flood/stop"
wait "$FPID"
serve_stop
expect "stops cleanly after the flood" test "$SRV_RC" = 0

# ---- stalled headers, stalled bodies and idle connections are cut ----
: >"$T/serve.log"
serve_start --header-timeout 2 --body-timeout 2 --body-min-rate 1000 ||
	{ fail "serve starts with short deadlines" "$(tail -n 3 "$T/serve.log")"; exit 1; }
out=$("${FLOOD[@]}" stall "$SRV_PORT" 20 600)
expect "every trickler and idle connection is closed by the server ($out)" \
	test "$out" = "closed 60 of 60"
expect "the server log says why: headers" \
	grep -q 'closed [0-9]* stalled connections\? (request headers not complete in time; the first from 127.0.0.1)' "$T/serve.log"
expect "... and bodies" \
	grep -q 'closed [0-9]* stalled connections\? (request body slower than the minimum rate; the first from 127.0.0.1)' "$T/serve.log"
expect "a cut upload is logged as aborted" grep -q '"POST /v2/slow/blobs/uploads/" .* aborted' "$T/access.log"
got=$(curl -s --max-time 300 -o /dev/null -w '%{http_code}' "$SRV_URL/v2/")
expect "the server answers afterwards" test "$got" = 200
serve_stop

# ---- connections per client address ----
serve_start --max-connections-per-ip 10 ||
	{ fail "serve starts with --max-connections-per-ip" "$(tail -n 3 "$T/serve.log")"; exit 1; }
out=$("${FLOOD[@]}" cap "$SRV_PORT" 10 127.0.0.7 127.0.0.8)
expect "an 11th connection from one address is closed, another address is answered ($out)" \
	test "$out" = "extra=closed other=answered"
serve_stop

# ---- the limit and the descriptors ----
run bash -c 'ulimit -n 1024 && exec "$0" serve --addr 127.0.0.1:1 --storage "$1" --max-connections 5000' \
	"$BERTH" "$T/r2"
check "--max-connections over what the descriptors allow is refused" 2 \
	"max-connections 5000 needs about 10256 file descriptors, but the limit is 1024" \
	"hint: raise the limit"
: >"$T/serve.log"
(
	ulimit -n 1024
	serve_start && serve_stop
)
expect "under ulimit -n 1024 the default is 384 connections" \
	grep -q 'at most 384 connections at once' "$T/serve.log"
: >"$T/serve.log"
(
	ulimit -Sn 1024
	serve_start && serve_stop
)
expect "a soft limit under the hard one is raised first ($LIMIT connections)" \
	grep -q "at most $LIMIT connections at once" "$T/serve.log"
done_testing

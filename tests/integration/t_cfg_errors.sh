#!/usr/bin/env bash
# Failures of a registry and what berth says and does about them: 429 with
# and without a short Retry-After (retried, or failing at once with the
# wait and the quota), 5xx retried with backoff, a 4xx never retried, the
# quota shown by `berth ratelimit` (HEAD only) and `berth pull -v`, and
# HTTP proxies from the environment.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
mkimage "$T/img" --tag v1 --seed cfg-errors --layer 16k >"$T/img.json"
digest=$(jget 'j["digest"]' "$T/img.json")
dreg_start
skopeo_push "$T/img" v1 "$DREG/cfg/app:v1"

# proxy_start ARGS...: the misbehaving proxy in front of the registry (PX).
proxy_start() {
	local p
	[ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null
	p=$(free_port)
	: >"$T/proxy.log"
	bg python3 "$TOOLS/cut_proxy.py" "$p" "$DREG" --cuts 0 --log "$T/proxy.log" "$@"
	PROXY_PID=$BG_PID
	wait_tcp "127.0.0.1:$p" || bail "proxy did not start"
	PX=127.0.0.1:$p
}
manifest_requests() { grep -c "/manifests/" "$T/proxy.log"; }

# --- 429 ----------------------------------------------------------------------
proxy_start --fail-status 429 --fail-count 1 --retry-after 1
run berth_ -v --root "$T/s1" pull "$PX/cfg/app:v1"
check "429 with a short Retry-After is waited for and retried" 0 "Digest: $digest" \
	"Too Many Requests, retrying in 1\.[0-9] s"
same "two manifest requests" "$(manifest_requests)" 2

proxy_start --fail-status 429 --fail-count 5 --retry-after 3600 \
	--ratelimit '100;w=21600' --remaining '0;w=21600'
run berth_ -v --root "$T/s2" pull "$PX/cfg/app:v1"
check "429 with a long Retry-After fails at once: exit 7 with the wait and quota" 7 \
	"rate-limiting" "limit 100 per 21600 s" "0 remaining" "retry after 3600 s" \
	"hint: .*berth login $PX.*mirror"
expect "no waiting for an hour: no retry announced" sh -c "! grep -q 'retrying' '$T/.err'"
same "only one manifest request" "$(manifest_requests)" 1

# --- 5xx and 4xx ------------------------------------------------------------------
proxy_start --fail-status 503 --fail-count 2
run berth_ -v --root "$T/s3" pull "$PX/cfg/app:v1"
check "503 twice: retried with backoff, then succeeds" 0 "Digest: $digest" "retrying in" "\(2 of 3\)"
same "three manifest requests" "$(manifest_requests)" 3

echo '{"retries": 0}' >"$BERTH_CONFIG"
proxy_start --fail-status 500 --fail-count 1
run berth_ --root "$T/s4" pull "$PX/cfg/app:v1"
check "with retries 0 a 500 fails at once: exit 15" 15 "failed with 500 Internal Server Error" "$PX"
same "one manifest request" "$(manifest_requests)" 1
rm -f "$BERTH_CONFIG"

proxy_start
run berth_ --root "$T/s5" pull "$PX/cfg/app:nosuchtag"
check "404 is not retried: exit 4" 4 "manifest 'nosuchtag' not found"
same "one manifest request for the 404 (and one tag probe)" "$(grep -c 'manifests/nosuchtag' "$T/proxy.log")" 1

proxy_start --fail-status 400 --fail-count 5
run berth_ --root "$T/s6" pull "$PX/cfg/app:v1"
check "400 is not retried: exit 10" 10 "400 Bad Request"
same "one manifest request for the 400" "$(manifest_requests)" 1

# --- the quota ------------------------------------------------------------------------
proxy_start --ratelimit '100;w=21600' --remaining '76;w=21600'
run berth_ ratelimit "$PX/cfg/app:v1"
check "berth ratelimit shows limit and remaining" 0 "limit: 100 per 21600 s" "remaining: 76 per 21600 s"
expect "berth ratelimit used HEAD only" sh -c "! grep -q '^GET .*/manifests/' '$T/proxy.log' && grep -q '^HEAD .*/manifests/v1' '$T/proxy.log'"
run berth_ -v --root "$T/s7" pull "$PX/cfg/app:v1"
check "berth pull -v reports the remaining quota" 0 "pull quota 76 of 100 remaining"

# --- a registry that accepts the connection and never answers ----------------------------
SILENT=$(free_port)
bg python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)   # read nothing, answer nothing
' "$SILENT"
wait_tcp "127.0.0.1:$SILENT" || bail "silent server did not start"
echo '{"read-timeout": 1, "retries": 1}' >"$BERTH_CONFIG"
start=$(date +%s)
run berth_ --root "$T/s10" pull "127.0.0.1:$SILENT/cfg/app:v1"
elapsed=$(( $(date +%s) - start ))
check "a registry that never answers: exit 8, 'timed out'" 8 "timed out" "127.0.0.1:$SILENT"
# Two tries of 1 s; the default read-timeout (60 s) would take 120 s.
expect "read-timeout bounds the wait (${elapsed} s for two tries of 1 s)" test "$elapsed" -lt 60
rm -f "$BERTH_CONFIG"

# --- a blob trickling at 2.5 bytes/s ---------------------------------------------------
# Bytes keep coming, so only the minimum speed can cut it.
hostile_start
echo '{"read-timeout": 3, "min-speed": 100}' >"$BERTH_CONFIG"
run berth_ --root "$T/s11" pull "$HOSTILE/hostile/trickle:v1"
check "a blob trickling at 2.5 bytes/s: exit 8, 'too slow' naming the settings" 8 \
	"too slow: less than 100 bytes/s over 3 s" "$HOSTILE" "min-speed" "read-timeout"
if grep -q "connection broke" <<<"$ERR"; then
	fail "a blob trickling at 2.5 bytes/s: not a broken connection" "$ERR"
else
	ok "a blob trickling at 2.5 bytes/s: not a broken connection"
fi
echo '{"min-speed": -1}' >"$BERTH_CONFIG"
run berth_ --root "$T/s11" pull "$HOSTILE/hostile/trickle:v1"
check "min-speed must be a number from 0" 2 "min-speed" "a number from 0 to"
rm -f "$BERTH_CONFIG"

# --- proxies from the environment --------------------------------------------------------
dead=127.0.0.1:$(free_port)
run env HTTP_PROXY="http://$dead" "$BERTH" --root "$T/s8" pull "$DREG/cfg/app:v1"
check "HTTP_PROXY is honoured (a dead proxy fails: exit 8)" 8 "$dead|proxy"
run env HTTP_PROXY="http://$dead" NO_PROXY="127.0.0.1" "$BERTH" --root "$T/s9" pull "$DREG/cfg/app:v1"
check "NO_PROXY exempts the registry" 0 "Digest: $digest"

done_testing

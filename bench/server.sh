#!/usr/bin/env bash
# berth serve against Debian's docker-registry (distribution) on the same
# generated content, loaded with wrk (GET) and ab (HEAD: wrk 4.1 hangs on
# HEAD) over 127.0.0.1 in one run:
#
#   manifest GET by tag, blob HEAD, 5 MiB blob GET; 64 connections each
#
# Prints requests/s, p99 latency and the server's peak RSS (VmHWM) for both,
# and berth's ratio over distribution. Then manifest GET by tag against a
# third berth with token authentication (a policy, a token from its /token,
# sent with every request) beside the unauthenticated figure: token
# verification is cached per token, so the two should be close. Not a
# test: nothing fails on numbers.
#
#   bench/server.sh [SECONDS]        (make bench-server runs it)
#   BERTH=/path/to/berth CONNS=64 bench/server.sh
set -u

DUR=${1:-10}
CONNS=${CONNS:-64}
BERTH=${BERTH:-$PWD/build/berth}
REGISTRY=${REGISTRY:-/usr/bin/docker-registry}
T=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

for tool in wrk ab curl python3 "$REGISTRY" "$BERTH"; do
	command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing" >&2; exit 1; }
done

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
up() {
	local n=100
	while [ $n -gt 0 ]; do curl -s -o /dev/null "$1" && return 0; sleep 0.1; n=$((n - 1)); done
	echo "bench: $1 did not come up" >&2
	exit 1
}

# ---- content: a 5 MiB layer, a config, a manifest ----
head -c $((5 << 20)) /dev/urandom >"$T/layer"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$T/config"
LAYER=sha256:$(sha256sum "$T/layer" | cut -d' ' -f1)
CONFIG=sha256:$(sha256sum "$T/config" | cut -d' ' -f1)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}' \
	"$CONFIG" "$(stat -c %s "$T/config")" "$LAYER" "$(stat -c %s "$T/layer")" >"$T/manifest"
MT=application/vnd.oci.image.manifest.v1+json

push() { # push BASE_URL
	local base=$1 f d loc
	for f in layer config; do
		d=sha256:$(sha256sum "$T/$f" | cut -d' ' -f1)
		loc=$(curl -s -D - -o /dev/null -X POST "$base/v2/bench/app/blobs/uploads/" |
			tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
		case $loc in http*) ;; *) loc=$base$loc ;; esac
		case $loc in *\?*) loc="$loc&digest=$d" ;; *) loc="$loc?digest=$d" ;; esac
		curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
			--data-binary "@$T/$f" "$loc" || { echo "bench: push of $f to $base failed" >&2; exit 1; }
	done
	curl -sf -o /dev/null -X PUT -H "Content-Type: $MT" --data-binary "@$T/manifest" \
		"$base/v2/bench/app/manifests/latest" || { echo "bench: manifest push to $base failed" >&2; exit 1; }
}

# ---- the two servers ----
BP=$(port)
"$BERTH" serve --addr "127.0.0.1:$BP" --storage "$T/berth" --access-log /dev/null \
	--log-level warn 2>"$T/berth.log" &
PIDS+=($!)
BPID=$!
DP=$(port)
mkdir -p "$T/dist"
cat >"$T/dist/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $T/dist/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$DP
  secret: berth-bench
EOF
"$REGISTRY" serve "$T/dist/config.yml" >/dev/null 2>"$T/dist.log" &
PIDS+=($!)
DPID=$!
up "http://127.0.0.1:$BP/v2/"
up "http://127.0.0.1:$DP/v2/"
push "http://127.0.0.1:$BP"
push "http://127.0.0.1:$DP"

hwm() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }

# wrk_run URL [HEADER] -> "rps p99ms"
wrk_run() {
	local out
	out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" --latency ${2:+-H "$2"} "$1" 2>&1)
	local rps p99
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
	echo "${rps:-0} ${p99:-0}"
}

# ab_head URL -> "rps p99ms"
ab_head() {
	local n out
	n=$(( CONNS * 400 ))
	out=$(ab -q -k -i -c "$CONNS" -n "$n" -t "$DUR" "$1" 2>&1)
	awk '/^Requests per second/ {r=$4} $1 == "99%" {p=$2} END {print (r ? r : 0), (p ? p : 0)}' <<<"$out"
}

printf '%-22s %12s %10s %10s | %12s %10s %10s | %8s %8s\n' \
	test "berth req/s" "p99 ms" "RSS MiB" "dist req/s" "p99 ms" "RSS MiB" "x req/s" "x RSS"
row() { # row NAME BERTH_RESULT DIST_RESULT
	local name=$1 b=($2) d=($3) bm dm
	bm=$(hwm "$BPID")
	dm=$(hwm "$DPID")
	printf '%-22s %12.0f %10.2f %10d | %12.0f %10.2f %10d | %8.2f %8.2f\n' "$name" \
		"${b[0]}" "${b[1]}" "$bm" "${d[0]}" "${d[1]}" "$dm" \
		"$(python3 -c "print(${b[0]} / max(${d[0]}, 1e-9))")" \
		"$(python3 -c "print($bm / max($dm, 1))")"
}

ACCEPT="Accept: $MT"
row "manifest GET by tag" \
	"$(wrk_run "http://127.0.0.1:$BP/v2/bench/app/manifests/latest" "$ACCEPT")" \
	"$(wrk_run "http://127.0.0.1:$DP/v2/bench/app/manifests/latest" "$ACCEPT")"
row "blob HEAD" \
	"$(ab_head "http://127.0.0.1:$BP/v2/bench/app/blobs/$LAYER")" \
	"$(ab_head "http://127.0.0.1:$DP/v2/bench/app/blobs/$LAYER")"
row "5 MiB blob GET" \
	"$(wrk_run "http://127.0.0.1:$BP/v2/bench/app/blobs/$LAYER")" \
	"$(wrk_run "http://127.0.0.1:$DP/v2/bench/app/blobs/$LAYER")"
echo "($CONNS connections, ${DUR}s per test, $(nproc) CPUs shared by client and servers;" \
	"RSS is each server's peak so far)"

# ---- token authentication on berth: the same manifest GET ----
htpasswd -Bbc "$T/htpasswd" bench bench-pass 2>/dev/null
TP=$(port)
"$BERTH" serve --addr "127.0.0.1:$TP" --storage "$T/berth-token" --access-log /dev/null \
	--log-level warn --auth token --htpasswd "$T/htpasswd" 2>"$T/berth-token.log" &
PIDS+=($!)
up "http://127.0.0.1:$TP/v2/"
TOKEN=$(curl -s -u bench:bench-pass "http://127.0.0.1:$TP/token?service=berth&scope=repository:bench/app:pull,push" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
AUTH_HDR="Authorization: Bearer $TOKEN"
for f in layer config; do
	d=sha256:$(sha256sum "$T/$f" | cut -d' ' -f1)
	curl -sf -o /dev/null -X POST -H "$AUTH_HDR" -H 'Content-Type: application/octet-stream' \
		--data-binary "@$T/$f" "http://127.0.0.1:$TP/v2/bench/app/blobs/uploads/?digest=$d" ||
		{ echo "bench: push to the token server failed" >&2; exit 1; }
done
curl -sf -o /dev/null -X PUT -H "$AUTH_HDR" -H "Content-Type: $MT" --data-binary "@$T/manifest" \
	"http://127.0.0.1:$TP/v2/bench/app/manifests/latest" || { echo "bench: manifest push failed" >&2; exit 1; }
# wrk takes one -H; the token goes in a Lua script with the Accept header.
printf 'wrk.headers["Accept"] = "%s"\nwrk.headers["Authorization"] = "Bearer %s"\n' "$MT" "$TOKEN" >"$T/auth.lua"
wrk_lua() { # wrk_lua URL SCRIPT -> "rps p99ms"
	local out rps p99
	out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -s "$2" "$1" 2>&1)
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
	echo "${rps:-0} ${p99:-0}"
}
NOAUTH=($(wrk_run "http://127.0.0.1:$BP/v2/bench/app/manifests/latest" "$ACCEPT"))
WITHTOK=($(wrk_lua "http://127.0.0.1:$TP/v2/bench/app/manifests/latest" "$T/auth.lua"))
echo
printf '%-34s %12s %10s\n' "berth manifest GET by tag" "req/s" "p99 ms"
printf '%-34s %12.0f %10.2f\n' "no authentication" "${NOAUTH[0]}" "${NOAUTH[1]}"
printf '%-34s %12.0f %10.2f\n' "token authentication (cached)" "${WITHTOK[0]}" "${WITHTOK[1]}"
printf '%-34s %12.2f\n' "ratio token / none" "$(python3 -c "print(${WITHTOK[0]} / max(${NOAUTH[0]}, 1e-9))")"

#!/usr/bin/env bash
# berth serve's pull-through cache against docker-registry's proxy mode
# (`proxy: remoteurl:`), the same upstream, the same run.
#
#   bench/proxy.sh    BENCH_RUNS=N (default 3) runs of each pull;
#                     BENCH_IMAGE=big|small (default big: the 1 GiB image
#                     of bench/pull.sh); BERTH=PATH for another build
#
# 1. The images and the upstream docker-registry of bench/images.sh.
# 2. For each run: a fresh berth serve (mirror of the upstream) and a fresh
#    docker-registry proxy, each with empty storage; skopeo copies the image
#    through each to a local directory twice: cold (the cache empty: every
#    byte comes from the upstream through it) and warm (all local). The
#    same copy straight from the upstream is the baseline.
# 3. Manifest GETs of the cached tag, 64 connections (wrk, 10 s), against
#    each cache.
# 4. Prints medians, the ratios and berth serve's peak RSS, with the
#    targets of the issue. Numbers from a busy machine are not final: the
#    load average is printed with them.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$PWD
RUNS=${BENCH_RUNS:-3}
IMAGE=${BENCH_IMAGE:-big}
BERTH=${BERTH:-$TOP/build/berth}
BENCH_NAME=bench/proxy.sh
. bench/images.sh

for tool in python3 skopeo /usr/bin/docker-registry /usr/bin/time curl wrk; do
	command -v "$tool" >/dev/null ||
		die "'$tool' is missing: run scripts/install-deps.sh"
done
[ -x "$BERTH" ] && [ -x "$(dirname "$BERTH")/berth-serve" ] ||
	die "'$BERTH' or berth-serve beside it is missing: run make"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"
[[ $IMAGE =~ ^(big|small)$ ]] || die "BENCH_IMAGE is big or small"

bench_images

WORK=$(mktemp -d "$DATA_ROOT/proxy.XXXXXX")
REG_PID= PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}" $REG_PID; do
		kill "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/bin"
cp "$BERTH" "$(dirname "$BERTH")/berth-serve" "$WORK/bin/"
BERTH=$WORK/bin/berth
: >"$WORK/registries.conf"
export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf

bench_registry "$WORK"
UP=$REG

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_up() {
	for _ in $(seq 300); do
		curl -s -o /dev/null "http://$1/v2/" && return 0
		sleep 0.1
	done
	die "$2 did not start"
}

# berth_cache DIR: a berth serve mirroring the upstream; sets ADDR, PID.
berth_cache() {
	local port
	port=$(free_port)
	ADDR=127.0.0.1:$port
	echo "{\"upstreams\": [{\"url\": \"http://$UP\", \"mirror\": true, \"tag-ttl\": 3600}]}" \
		>"$1.json"
	"$BERTH" serve --addr "$ADDR" --storage "$1" --config "$1.json" \
		--access-log off --log-level warn 2>>"$WORK/berth.log" &
	PID=$!
	PIDS+=("$PID")
	wait_up "$ADDR" "berth serve"
}

# dreg_proxy DIR: docker-registry in proxy mode; sets ADDR, PID.
dreg_proxy() {
	local port
	port=$(free_port)
	ADDR=127.0.0.1:$port
	mkdir -p "$1"
	cat >"$1.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $1}
  maintenance: {uploadpurging: {enabled: false}}
http: {addr: $ADDR, secret: berth-bench-proxy}
proxy: {remoteurl: "http://$UP"}
YML
	/usr/bin/docker-registry serve "$1.yml" >>"$WORK/dreg-proxy.log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_up "$ADDR" "docker-registry (proxy)"
}

stop() {
	kill "$1" 2>/dev/null || :
	wait "$1" 2>/dev/null || :
}

# pull HOST: seconds for skopeo to copy the image from HOST to a directory.
pull() {
	rm -rf "$WORK/out"
	/usr/bin/time -f %e -o "$WORK/t" skopeo --policy "$WORK/policy.json" \
		copy -q --src-tls-verify=false "docker://$1/bench/$IMAGE:1" \
		"dir:$WORK/out" || die "skopeo could not pull from $1"
	cat "$WORK/t"
}

# reqs HOST: manifest GETs per second of the cached tag, 64 connections.
reqs() {
	wrk -t2 -c64 -d10s \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$1/v2/bench/$IMAGE/manifests/1" |
		awk '/^Requests\/sec:/ { print $2 }'
}

declare -A R
add() { R[$1]="${R[$1]:-} $2"; }

for run in $(seq 1 "$RUNS"); do
	echo "run $run of $RUNS" >&2
	add direct "$(pull "$UP")"
	berth_cache "$WORK/berth-$run"
	add berth_cold "$(pull "$ADDR")"
	add berth_warm "$(pull "$ADDR")"
	add berth_rps "$(reqs "$ADDR")"
	add berth_rss_kib "$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status")"
	stop "$PID"
	rm -rf "$WORK/berth-$run"
	dreg_proxy "$WORK/dreg-$run"
	add dreg_cold "$(pull "$ADDR")"
	add dreg_warm "$(pull "$ADDR")"
	add dreg_rps "$(reqs "$ADDR")"
	stop "$PID"
	rm -rf "$WORK/dreg-$run"
done

rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
{
	echo "# berth serve pull-through cache benchmark"
	echo
	echo "- machine: $(nproc) CPUs, Linux $(uname -r); load average at end:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- berth $rev, $(skopeo --version), image $IMAGE: $(image_summary "$IMAGE")"
	echo "- $RUNS runs; medians; skopeo copies to a directory"
	echo
	python3 - "$RUNS" <<PY
import statistics, sys
R = {k: [float(x) for x in v.split()] for k, v in (
$(for k in "${!R[@]}"; do echo "    (\"$k\", \"${R[$k]}\"),"; done)
)}
m = {k: statistics.median(v) for k, v in R.items()}
def verdict(ok):
    return "meets the target" if ok else "misses the target"
print("| measure | berth serve | docker-registry proxy | straight from upstream |")
print("|---|---|---|---|")
print("| cold pull, s | %.2f | %.2f | %.2f |" % (m["berth_cold"], m["dreg_cold"], m["direct"]))
print("| warm pull, s | %.2f | %.2f | |" % (m["berth_warm"], m["dreg_warm"]))
print("| manifest GET req/s (64 connections) | %.0f | %.0f | |" % (m["berth_rps"], m["dreg_rps"]))
print()
c = m["berth_cold"] / m["direct"]
w = m["berth_rps"] / m["dreg_rps"] if m["dreg_rps"] else float("inf")
rss = max(R["berth_rss_kib"]) / 1024
print("- cold pull through berth / straight: %.2fx (target at most 1.2x: %s)" % (c, verdict(c <= 1.2)))
print("- warm manifest req/s berth / docker-registry proxy: %.1fx (target at least 5x: %s)" % (w, verdict(w >= 5)))
print("- warm pull berth / docker-registry proxy: %.2fx" % (m["berth_warm"] / m["dreg_warm"]))
print("- berth serve peak RSS: %.1f MiB (target under 48 MiB: %s)" % (rss, verdict(rss < 48)))
PY
} | tee "$WORK/report.md"
cp "$WORK/report.md" "$DATA_ROOT/proxy-last.md"

#!/usr/bin/env bash
# berth copy against skopeo copy, registry to registry (not a test).
#
#   bench/copy.sh     BENCH_RUNS=N (default 3) runs per case;
#                     BERTH=PATH to measure another build of berth
#
# The "big" image of bench/pull.sh (about 1 GiB of files in 6 gzip layers,
# generated once under build/bench-data/) is pushed to one docker-registry
# (bench/images.sh) and copied to a second one, started here, with
# `berth copy docker:// docker://` and `skopeo copy docker:// docker://`:
#   cold  into a fresh destination registry each run (every blob uploaded)
#   warm  the same copy again (every blob there)
# Prints per tool and case the median wall time and peak RSS, and the ratio
# berth/skopeo; the report is kept in build/bench-data/copy-last.md.
#
# Then `berth sync` of a repository of 200 tags (small distinct images)
# into a destination that has them all but 10 moved since the last sync:
# the wall time of that second sync (target: under 2 s) and its summary.
# BENCH_CASES=sync runs only this part (no 1 GiB image needed).
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$PWD
RUNS=${BENCH_RUNS:-3}
BERTH=${BERTH:-$TOP/build/berth}
BENCH_NAME=bench/copy.sh
. bench/images.sh

for tool in python3 skopeo /usr/bin/docker-registry /usr/bin/time curl; do
	command -v "$tool" >/dev/null ||
		die "'$tool' is missing: run scripts/install-deps.sh"
done
[ -x "$BERTH" ] || die "'$BERTH' is missing: run make"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"

CASES=${BENCH_CASES:-copy sync}
mkdir -p "$DATA_ROOT"
[[ $CASES == *copy* ]] && bench_images

WORK=$(mktemp -d "$DATA_ROOT/run.XXXXXX")
REG_PID= DST_PID=
cleanup() {
	local p
	for p in $REG_PID ${DST_PID:-}; do
		kill "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

cp "$BERTH" "$WORK/berth"
BERTH=$WORK/berth
echo '{}' >"$WORK/berth.json"
: >"$WORK/registries.conf"
export BERTH_CONFIG=$WORK/berth.json
export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf

# Without the copy cases the big images are neither made nor pushed.
if [[ $CASES == *copy* ]]; then bench_registry "$WORK"; else BENCH_PUSH= bench_registry "$WORK"; fi
SRC=$REG

# dst_start: a fresh destination docker-registry, empty storage and a new
# port, so neither tool can reuse anything from an earlier run (skopeo's
# blob-info cache is keyed by registry host). Sets DST and DST_PID.
dst_start() {
	local port
	port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	DST=127.0.0.1:$port
	rm -rf "$WORK/dst"
	sed -e "s|rootdirectory: .*|rootdirectory: $WORK/dst|" \
		-e "s|addr: .*|addr: $DST|" "$WORK/registry.yml" >"$WORK/dst.yml"
	/usr/bin/docker-registry serve "$WORK/dst.yml" >/dev/null 2>"$WORK/dst.log" &
	DST_PID=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://$DST/v2/" && break
		sleep 0.1
	done
	curl -s -o /dev/null "http://$DST/v2/" || die "the destination registry did not start"
}

dst_stop() {
	kill "$DST_PID" 2>/dev/null || :
	wait "$DST_PID" 2>/dev/null || :
	DST_PID=
}

# one TOOL REPO: copy bench/big:1 to DST/REPO:1; prints "SECONDS KIB".
one() {
	local cmd
	case $1 in
	berth) cmd=("$BERTH" copy -q "docker://$SRC/bench/big:1" "docker://$DST/$2:1") ;;
	skopeo) cmd=(skopeo --policy "$WORK/policy.json" copy -q --src-tls-verify=false
		--dest-tls-verify=false "docker://$SRC/bench/big:1" "docker://$DST/$2:1") ;;
	esac
	/usr/bin/time -f '%e %M' -o "$WORK/time" "${cmd[@]}" >/dev/null ||
		die "$1 copy to $2 failed"
	cat "$WORK/time"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# sync_bench: 200 tags synced, 10 of them moved, synced again (timed).
sync_bench() {
	local i out
	for i in $(seq 0 209); do
		python3 tests/tools/mkimage.py "$WORK/many" --tag "t$i" \
			--layer 4k --seed "$i" >/dev/null || die "mkimage failed"
	done
	for i in $(seq 0 199); do
		"$BERTH" copy -q "oci:$WORK/many:t$i" "docker://$SRC/bench/many:t$i" \
			>/dev/null || die "pushing bench/many:t$i failed"
	done
	dst_start
	"$BERTH" sync -q "docker://$SRC/bench/many" "docker://$DST/mirror" \
		>"$WORK/sync1.out" || die "the first sync failed"
	for i in $(seq 0 9); do
		"$BERTH" copy -q "oci:$WORK/many:t$((200 + i))" \
			"docker://$SRC/bench/many:t$i" >/dev/null || die "moving t$i failed"
	done
	/usr/bin/time -f '%e %M' -o "$WORK/time" "$BERTH" sync -q \
		"docker://$SRC/bench/many" "docker://$DST/mirror" >"$WORK/sync2.out" ||
		die "the second sync failed"
	dst_stop
	out=$(tail -n1 "$WORK/sync2.out")
	read -r secs kib <"$WORK/time"
	{
		echo
		echo "# berth sync benchmark"
		echo
		echo "| case | berth (s) | target | peak RSS | berth's summary |"
		echo "|---|---|---|---|---|"
		awk -v s="$secs" -v m="$kib" -v o="$out" 'BEGIN {
			printf "| sync of 200 tags where 10 changed | %.2f | < 2 s | %.1f MiB | %s |\n",
				s, m / 1024, o }'
	} | tee -a "$WORK/report.md"
}

if [[ $CASES != *copy* ]]; then
	: >"$WORK/report.md"
	sync_bench
	cp "$WORK/report.md" "$DATA_ROOT/copy-last.md"
	exit 0
fi

declare -A T M
load=$(cut -d' ' -f1-3 /proc/loadavg)
for tool in berth skopeo; do
	: >"$WORK/$tool.cold" >"$WORK/$tool.warm"
	for i in $(seq "$RUNS"); do
		dst_start
		one "$tool" "bench/copy" >>"$WORK/$tool.cold"
		one "$tool" "bench/copy" >>"$WORK/$tool.warm"
		dst_stop
	done
	for c in cold warm; do
		T[$tool.$c]=$(cut -d' ' -f1 "$WORK/$tool.$c" | median)
		M[$tool.$c]=$(cut -d' ' -f2 "$WORK/$tool.$c" | sort -n | tail -n1)
	done
done
{
	echo "# berth copy benchmark"
	echo
	echo "- machine: $(nproc) CPUs, Linux $(uname -r); load average at start: $load, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- $(skopeo --version); big: $(image_summary big); $RUNS runs per case"
	echo
	echo "| case | berth (s) | skopeo (s) | berth/skopeo | berth peak RSS | skopeo peak RSS |"
	echo "|---|---|---|---|---|---|"
	for c in cold warm; do
		awk -v c="$c" -v b="${T[berth.$c]}" -v s="${T[skopeo.$c]}" \
			-v bm="${M[berth.$c]}" -v sm="${M[skopeo.$c]}" 'BEGIN {
			printf "| %s | %.2f | %.2f | %.2f | %.1f MiB | %.1f MiB |\n",
				c, b, s, (s > 0 ? b / s : 0), bm / 1024, sm / 1024 }'
	done
} | tee "$WORK/report.md"
[[ $CASES == *sync* ]] && sync_bench
cp "$WORK/report.md" "$DATA_ROOT/copy-last.md"

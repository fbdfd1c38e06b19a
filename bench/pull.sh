#!/usr/bin/env bash
# berth pull against skopeo copy, side by side (`make bench`).
#
#   bench/pull.sh     BENCH_RUNS=N (default 5) runs per image;
#                     BERTH=PATH to measure another build of berth
#
# 1. Generates two images once, cached under build/bench-data/KEY/ (KEY
#    changes with the generator and the image specs, so editing either
#    regenerates): "big", about 1 GiB of files in 6 gzip layers (about
#    400 MB compressed), and "small", 50 small layers.
# 2. Starts Debian's docker-registry on a free 127.0.0.1 port with its own
#    configuration (storage kept in the cache) and pushes both images with
#    skopeo.
# 3. bench/measure.py pulls each image with berth and with skopeo, cold and
#    warm, and prints medians, the ratio berth/skopeo and a verdict per
#    target. Missing a target does not fail the benchmark; a failed pull does.
#    The report of the last complete run is also kept in
#    build/bench-data/pull-last.md, every pull's numbers in
#    build/bench-data/pull-last.json.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$PWD
RUNS=${BENCH_RUNS:-5}
BERTH=${BERTH:-$TOP/build/berth}
BENCH_NAME=bench/pull.sh
. bench/images.sh

for tool in python3 skopeo /usr/bin/docker-registry /usr/bin/time curl; do
	command -v "$tool" >/dev/null ||
		die "'$tool' is missing: run scripts/install-deps.sh"
done
[ -x "$BERTH" ] || die "'$BERTH' is missing: run make"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"

bench_images

WORK=$(mktemp -d "$DATA_ROOT/run.XXXXXX")
REG_PID=
cleanup() {
	if [ -n "$REG_PID" ]; then
		kill "$REG_PID" 2>/dev/null || :
		wait "$REG_PID" 2>/dev/null || :
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# A private copy: a rebuild during the run must not change what is measured.
cp "$BERTH" "$WORK/berth"
BERTH=$WORK/berth

# Neither tool reads the user's configuration: berth gets an empty config
# file, skopeo a policy that accepts anything and no registries.conf.
echo '{}' >"$WORK/berth.json"
: >"$WORK/registries.conf"
export BERTH_CONFIG=$WORK/berth.json
export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf

bench_registry "$WORK"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
regv=$(/usr/bin/docker-registry --version 2>/dev/null | awk '{ print $3 }')
{
	echo "# berth pull benchmark"
	echo
	echo "- machine: $(nproc) CPUs ($cpu), $mem RAM, Linux $(uname -r)"
	echo "- berth $rev, $(skopeo --version), docker-registry $regv"
	echo "- big: $(image_summary big)"
	echo "- small: $(image_summary small)"
	echo "- $RUNS runs per image; load average at start:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	python3 bench/measure.py --registry "$REG" --berth "$BERTH" \
		--work "$WORK" --runs "$RUNS" --policy "$WORK/policy.json" \
		--access-log "$WORK/access.log" --registry-pid "$REG_PID" \
		--json "$DATA_ROOT/pull-last.json" \
		--image big=bench/big:1 --image small=bench/small:1
} | tee "$WORK/report.md"
cp "$WORK/report.md" "$DATA_ROOT/pull-last.md"

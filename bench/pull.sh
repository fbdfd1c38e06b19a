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
DATA_ROOT=$TOP/build/bench-data

# The images. Layer sizes of "big" add up to 1 GiB; "small" has 50 layers
# of 8 to 200 KiB.
BIG_LAYERS=(64m 320m 256m 192m 128m 64m)
SMALL_LAYERS=()
for i in $(seq 0 49); do
	SMALL_LAYERS+=("$((8 + (i * 37) % 193))k")
done
DATA_VERSION=1

die() {
	echo "bench/pull.sh: $*" >&2
	exit 1
}

for tool in python3 skopeo /usr/bin/docker-registry /usr/bin/time curl; do
	command -v "$tool" >/dev/null ||
		die "'$tool' is missing: run scripts/install-deps.sh"
done
[ -x "$BERTH" ] || die "'$BERTH' is missing: run make"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"

key=$({
	echo "$DATA_VERSION ${BIG_LAYERS[*]} ${SMALL_LAYERS[*]}"
	cat bench/genimage.py
} | sha256sum | cut -c1-12)
DATA=$DATA_ROOT/v$DATA_VERSION-$key
mkdir -p "$DATA_ROOT"
# Old generations are a gigabyte each: keep only the current one.
for d in "$DATA_ROOT"/v*; do
	[ -e "$d" ] && [ "$d" != "$DATA" ] && rm -rf "$d"
done

gen() {
	local name=$1
	shift
	if [ ! -e "$DATA/$name.done" ]; then
		echo "generating image '$name' in $DATA/$name (once)" >&2
		rm -rf "$DATA/$name"
		mkdir -p "$DATA"
		python3 bench/genimage.py "$DATA/$name" --tag 1 --seed "$name" "$@" \
			>"$DATA/$name.json"
		touch "$DATA/$name.done"
	fi
}
big_args=()
for l in "${BIG_LAYERS[@]}"; do big_args+=(--layer "$l"); done
small_args=()
for l in "${SMALL_LAYERS[@]}"; do small_args+=(--layer "$l"); done
gen big "${big_args[@]}"
gen small "${small_args[@]}"

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
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$WORK/policy.json"
: >"$WORK/registries.conf"
export BERTH_CONFIG=$WORK/berth.json
export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf

port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
mkdir -p "$DATA/registry"
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $DATA/registry
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $REG
  secret: berth-bench
EOF
# The access log (stdout) lets the benchmark count each pull's requests.
/usr/bin/docker-registry serve "$WORK/registry.yml" \
	>"$WORK/access.log" 2>"$WORK/registry.log" &
REG_PID=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://$REG/v2/" && break
	sleep 0.1
done
curl -s -o /dev/null "http://$REG/v2/" ||
	die "docker-registry did not start: $(tail -n 3 "$WORK/registry.log")"

for name in big small; do
	skopeo --policy "$WORK/policy.json" copy -q --dest-tls-verify=false \
		"oci:$DATA/$name:1" "docker://$REG/bench/$name:1" ||
		die "skopeo could not push '$name' to the registry"
done

summary() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
z = sum(l["size"] for l in d["layers"])
print("%d layers, %.1f MiB uncompressed, %.1f MiB gzip"
      % (len(d["layers"]), d["uncompressed"] / 2**20, z / 2**20))
' "$1"
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
regv=$(/usr/bin/docker-registry --version 2>/dev/null | awk '{ print $3 }')
{
	echo "# berth pull benchmark"
	echo
	echo "- machine: $(nproc) CPUs ($cpu), $mem RAM, Linux $(uname -r)"
	echo "- berth $rev, $(skopeo --version), docker-registry $regv"
	echo "- big: $(summary "$DATA/big.json")"
	echo "- small: $(summary "$DATA/small.json")"
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

#!/usr/bin/env bash
# From registry to file tree: berth pull --unpack against docker, containerd,
# podman and skopeo + umoci, side by side (`make bench-unpack`). Needs root
# (the engines mount overlay file systems).
#
#   bench/unpack.sh   BENCH_RUNS=N (default 3) runs per image and tool;
#                     BERTH=PATH to measure another build of berth;
#                     BENCH_TOOLS=berth,docker,containerd,podman,umoci (the
#                     default: all) to run some of them
#
# 1. The images of bench/pull.sh ("big": 1 GiB of files in 6 gzip layers;
#    "small": 50 small layers), generated once and cached under
#    build/bench-data/, pushed to Debian's docker-registry on 127.0.0.1.
# 2. Starts dockerd 20.10 (overlay2, no networking) and containerd 1.6, each
#    with its own configuration and root under a temporary directory in
#    build/bench-data/, and gives podman its own --root there
#    (tests/integration/docker_lib.sh: the same daemons the tests use).
# 3. bench/measure_unpack.py runs every tool on each image, cold (nothing
#    local) and warm (image local, target empty), and prints medians of wall
#    time, CPU (the daemon's too) and peak RSS, and berth / fastest peer.
#    berth's rows say "not available" when its pull has no --unpack. The
#    report is kept in build/bench-data/unpack-last.md, every command's
#    numbers in build/bench-data/unpack-last.json.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$PWD
RUNS=${BENCH_RUNS:-3}
BERTH=${BERTH:-$TOP/build/berth}
BENCH_NAME=bench/unpack.sh
. bench/images.sh

for tool in python3 skopeo umoci dockerd docker containerd ctr podman \
	/usr/bin/docker-registry /usr/bin/time curl; do
	command -v "$tool" >/dev/null ||
		die "'$tool' is missing: run scripts/install-deps.sh"
done
[ "$(id -u)" -eq 0 ] || die "needs root: dockerd, containerd and podman mount overlay file systems"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"

bench_images

# The daemons' fixtures, with their cleanup on exit. $T, the work directory,
# is under $TMPDIR (/tmp): podman's overlay driver refuses a runroot path of
# more than 50 characters.
set +eu
. tests/integration/lib.sh
. tests/integration/docker_lib.sh
set -euo pipefail
WORK=$T

berth_args=()
if [ -x "$BERTH" ] && "$BERTH" pull --help 2>&1 | grep -q -- '--unpack'; then
	# A private copy: a rebuild during the run must not change what is
	# measured.
	cp "$BERTH" "$WORK/berth"
	berth_args=(--berth "$WORK/berth")
	# The revision of the tree BERTH was built in, when it is a git tree.
	berth_rev=$(git -C "$(dirname "$BERTH")/.." describe --always --dirty 2>/dev/null ||
		echo "$BERTH")
else
	echo "berth pull has no --unpack in '$BERTH': berth's rows are 'not available'" >&2
	berth_rev="not available (no pull --unpack)"
fi

# No tool reads the user's configuration.
echo '{}' >"$WORK/berth.json"
: >"$WORK/registries.conf"
export BERTH_CONFIG=$WORK/berth.json
export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf

bench_registry "$WORK"
_pids+=("$REG_PID")
docker_start "$REG"
containerd_start
_podman_setup
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nexec %q --address %q "$@"\n' "$(command -v ctr)" "$CONTAINERD_ADDR" >"$WORK/bin/ctr"
printf '#!/bin/sh\nexec %s "$@"\n' "$(printf '%q ' "${PODMAN[@]}")" >"$WORK/bin/podman"
chmod +x "$WORK/bin/ctr" "$WORK/bin/podman"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
regv=$(/usr/bin/docker-registry --version 2>/dev/null | awk '{ print $3 }')
{
	echo "# berth unpack benchmark"
	echo
	echo "- $(date -u '+%Y-%m-%d %H:%M UTC'): \`BENCH_RUNS=$RUNS bench/unpack.sh\`"
	echo "- machine: $(nproc) CPUs ($cpu), $mem RAM, Linux $(uname -r)," \
		"$(df -T "$WORK" | awk 'NR == 2 { print $2 }') under the work directory"
	echo "- berth $berth_rev; $(docker version --format 'docker {{.Server.Version}}');" \
		"containerd $(containerd --version | awk '{ print $3 }');" \
		"$(podman --version); $(skopeo --version); umoci $(umoci --version | awk '{ print $3 }');" \
		"docker-registry $regv"
	echo "- big: $(image_summary big)"
	echo "- small: $(image_summary small)"
	echo "- $RUNS runs per image and tool; load average at start:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	python3 bench/measure_unpack.py --registry "$REG" --work "$WORK" \
		--runs "$RUNS" --policy "$WORK/policy.json" --bin "$WORK/bin" \
		--dockerd-pid "$DOCKERD_PID" --containerd-pid "$CONTAINERD_PID" \
		--json "$DATA_ROOT/unpack-last.json" "${berth_args[@]}" \
		--tools "${BENCH_TOOLS:-berth,docker,containerd,podman,umoci}" \
		--image big=bench/big:1 --image small=bench/small:1 || exit 1
	echo
	echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$WORK/report.md" || die "a command failed: see the lines above"
cp "$WORK/report.md" "$DATA_ROOT/unpack-last.md"

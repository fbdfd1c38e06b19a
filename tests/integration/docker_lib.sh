# Peer container engines for integration tests, sourced after lib.sh: Debian's
# dockerd 20.10, containerd 1.6 and podman, each with every file it writes
# under the test's temp dir ($T), and stopped on exit.
#
#   docker_start [HOST:PORT...]  start dockerd (overlay2, no networking) that
#                                treats the given 127.0.0.1 registries as
#                                plain HTTP; exports DOCKER_HOST; sets
#                                DOCKERD_PID, DOCKERD_DIR, DOCKERD_LOG
#                                (DOCKERD_NAME: its directory under $T,
#                                default docker; DOCKERD_MIRRORS: the
#                                registry-mirrors, quoted and comma-separated;
#                                DOCKERD_LOG_LEVEL, default info)
#   containerd_start             start containerd; sets CONTAINERD_PID,
#                                CONTAINERD_DIR, CONTAINERD_ADDR, CONTAINERD_LOG
#   ctr_ ARGS...                 ctr talking to that containerd
#   docker_stop, containerd_stop stop one before the end (it is done on exit)
#   podman_ ARGS...              podman with its own root, runroot, storage,
#                                policy and registries configuration under $T
#                                (PODMAN_DRIVER, default overlay); PODMAN
#                                holds its whole command line
#
# Engines need root. A fixture that cannot start ends the script with
# "not ok - fixture: ..." and the daemon's log tail: never a skip.

# Stops run before lib.sh's cleanup, so a daemon removes its containers and
# mounts while its files still exist, and `rm -rf $T` never meets a mount.
_peer_stops=()
_peer_cleanup() {
	local i
	set +e # a script's set -e must not cut the cleanup short
	for ((i = ${#_peer_stops[@]} - 1; i >= 0; i--)); do
		${_peer_stops[i]}
	done
	_unmount_under "$T"
}
trap '_peer_cleanup; _cleanup' EXIT

# A fixture failure before lib.sh's registry.sh bail is defined.
_peer_bail() {
	echo "not ok - fixture: $1"
	exit 1
}

_peer_need_root() {
	[ "$(id -u)" -eq 0 ] ||
		_peer_bail "$1 needs root here (it mounts overlay file systems): run the test as root"
	command -v "$2" >/dev/null ||
		_peer_bail "'$2' is missing: run scripts/install-deps.sh"
}

# _unmount_under DIR: unmount every mount point below DIR, deepest first.
_unmount_under() {
	local m
	[ -d "$1" ] || return 0
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}

# _stop_pid PID SECONDS: SIGTERM, then SIGKILL once SECONDS have passed.
_stop_pid() {
	kill -0 "$1" 2>/dev/null || return 0
	kill "$1" 2>/dev/null
	if ! wait_for "$2" _pid_gone "$1"; then
		kill -9 "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	return 0
}
_pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# ---- dockerd ---------------------------------------------------------------

docker_start() {
	_peer_need_root dockerd dockerd
	local d=$T/${DOCKERD_NAME:-docker} r regs=""
	mkdir -p "$d/data" "$d/exec"
	for r in "$@"; do regs="$regs${regs:+, }\"$r\""; done
	# deprecated-key-path: dockerd 20.10 would otherwise write its
	# identity key to /etc/docker/key.json.
	cat >"$d/daemon.json" <<JSON
{
  "deprecated-key-path": "$d/key.json",
  "insecure-registries": [$regs],
  "registry-mirrors": [${DOCKERD_MIRRORS:-}],
  "log-level": "${DOCKERD_LOG_LEVEL:-info}"
}
JSON
	DOCKERD_DIR=$d
	DOCKERD_LOG=$d/dockerd.log
	# dockerd 20.10 always creates /run/docker/plugins (its plugin
	# directory is not configurable); it is removed again if this
	# dockerd made it and it is still empty.
	_docker_made_run=
	[ -e /run/docker ] || _docker_made_run=1
	bg dockerd --iptables=false --ip6tables=false --bridge=none \
		--storage-driver=overlay2 --data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
		--config-file "$d/daemon.json" >"$DOCKERD_LOG" 2>&1
	DOCKERD_PID=$BG_PID
	_peer_stops+=(docker_stop)
	export DOCKER_HOST=unix://$d/docker.sock
	# No docker client configuration of the user's either.
	if [ -z "${DOCKER_CONFIG:-}" ]; then
		export DOCKER_CONFIG=$d/client
		mkdir -p "$DOCKER_CONFIG"
		echo '{}' >"$DOCKER_CONFIG/config.json"
	fi
	if ! wait_for 180 _docker_up; then
		_peer_bail "dockerd did not start within 180 s: $(tail -n 8 "$DOCKERD_LOG" | tr '\n' '|')"
	fi
}

_docker_up() {
	kill -0 "$DOCKERD_PID" 2>/dev/null ||
		_peer_bail "dockerd exited: $(tail -n 8 "$DOCKERD_LOG" | tr '\n' '|')"
	docker version >/dev/null 2>&1
}

docker_stop() {
	local ids
	[ -n "${DOCKERD_PID:-}" ] || return 0
	if kill -0 "$DOCKERD_PID" 2>/dev/null; then
		ids=$(docker ps -aq 2>/dev/null)
		[ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
		_stop_pid "$DOCKERD_PID" 60
	fi
	_unmount_under "$DOCKERD_DIR"
	if [ -n "$_docker_made_run" ]; then
		rmdir /run/docker/plugins /run/docker 2>/dev/null
	fi
	DOCKERD_PID=
}

# ---- containerd ------------------------------------------------------------

containerd_start() {
	_peer_need_root containerd containerd
	local d=$T/containerd
	mkdir -p "$d/root" "$d/state"
	CONTAINERD_DIR=$d
	CONTAINERD_ADDR=$d/containerd.sock
	CONTAINERD_LOG=$d/containerd.log
	# Only what pulling and unpacking need: no CRI, no snapshotters but
	# overlayfs and native, no /opt plugin directory, no debug or metrics
	# listeners.
	cat >"$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "$CONTAINERD_ADDR"

[ttrpc]
  address = "$CONTAINERD_ADDR.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""
TOML
	bg containerd --config "$d/config.toml" >"$CONTAINERD_LOG" 2>&1
	CONTAINERD_PID=$BG_PID
	_peer_stops+=(containerd_stop)
	if ! wait_for 120 _containerd_up; then
		_peer_bail "containerd did not start within 120 s: $(tail -n 8 "$CONTAINERD_LOG" | tr '\n' '|')"
	fi
}

_containerd_up() {
	kill -0 "$CONTAINERD_PID" 2>/dev/null ||
		_peer_bail "containerd exited: $(tail -n 8 "$CONTAINERD_LOG" | tr '\n' '|')"
	ctr_ version >/dev/null 2>&1
}

ctr_() {
	ctr --address "$CONTAINERD_ADDR" "$@"
}

containerd_stop() {
	[ -n "${CONTAINERD_PID:-}" ] || return 0
	_stop_pid "$CONTAINERD_PID" 60
	_unmount_under "$CONTAINERD_DIR"
	CONTAINERD_PID=
}

# ---- podman ----------------------------------------------------------------

# podman_ ARGS...: podman reading no configuration of the machine's but its
# signature policy, and writing nothing outside $T/podman (but the empty
# /run/crun it probes). Registries on 127.0.0.1 need --tls-verify=false.
# PODMAN holds the command line (environment and options) it runs.
podman_() {
	[ -n "${PODMAN+set}" ] || _podman_setup
	"${PODMAN[@]}" "$@"
}

_podman_setup() {
	local d=$T/podman drv=${PODMAN_DRIVER:-overlay}
	command -v podman >/dev/null ||
		_peer_bail "'podman' is missing: run scripts/install-deps.sh"
	mkdir -p "$d/root" "$d/run" "$d/tmp"
	: >"$d/registries.conf"
	echo '{}' >"$d/auth.json"
	printf '[storage]\ndriver = "%s"\nrunroot = "%s"\ngraphroot = "%s"\n' \
		"$drv" "$d/run" "$d/root" >"$d/storage.conf"
	printf '[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n' >"$d/containers.conf"
	PODMAN=(env CONTAINERS_CONF="$d/containers.conf"
		CONTAINERS_STORAGE_CONF="$d/storage.conf"
		CONTAINERS_REGISTRIES_CONF="$d/registries.conf"
		REGISTRY_AUTH_FILE="$d/auth.json" TMPDIR="$d/tmp"
		"$(command -v podman)" --root "$d/root" --runroot "$d/run" --tmpdir "$d/tmp"
		--storage-driver "$drv" --cgroup-manager cgroupfs --events-backend file)
	_peer_stops+=(_podman_stop)
}

# Podman's overlay driver leaves its layer mounts in place.
_podman_stop() {
	podman_ rm -af >/dev/null 2>&1
	_unmount_under "$T/podman"
}

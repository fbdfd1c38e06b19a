#!/usr/bin/env bash
# Real engines pulling through berth serve's pull-through cache, configured
# the way their users configure a mirror: dockerd 20.10 with
# "registry-mirrors" in its daemon.json (a Docker Hub name like "cachebox",
# which dockerd asks the mirror for as library/cachebox), containerd 1.6
# with a hosts.toml mirror (ctr --hosts-dir), podman with a registries.conf
# mirror. The upstream is a docker-registry on 127.0.0.1; its log must show
# each blob fetched once, however many pulls by however many engines.
#
# These engines fall back to docker.io when a mirror fails. No traffic may
# leave 127.0.0.1: the script runs itself in a network namespace with only
# a loopback interface, so a fallback dies at DNS inside the namespace.
if [ -z "${BERTH_CACHE_NETNS:-}" ]; then
	exec unshare --net env BERTH_CACHE_NETNS=1 bash -c \
		'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/serve_lib.sh
. tests/integration/docker_lib.sh

expect "no network but loopback" test -z "$(ip -o link show | grep -v ': lo:')"

mkimage "$T/img" --tag latest --seed cache-engines --platform "$HOST_PLATFORM" \
	--layer 256k --layer 2m >"$T/img.json"
digest=$(jget 'j["digest"]' "$T/img.json")
blobs=$(jget '" ".join([l["digest"] for l in j["images"][0]["layers"]] + [j["images"][0]["config"]["digest"]])' "$T/img.json")
registry_start
skopeo_push "$T/img" latest "$REG/library/cachebox:latest"
mark=$(reg_mark)

cat >"$T/serve.json" <<EOF
{"upstreams": [{"url": "http://$REG", "mirror": true, "tag-ttl": 3600}]}
EOF
serve_start --config "$T/serve.json" || bail "berth serve did not start"

# fetched_once NAME: every blob of the image was fetched from the upstream
# exactly once since the mark.
fetched_once() {
	local b n bad=""
	for b in $blobs; do
		n=$(reg_since "$mark" | grep -c "\"GET /v2/library/cachebox/blobs/$b ")
		[ "$n" = 1 ] || bad="$bad ${b:7:12}=$n"
	done
	same "$1" "${bad:-none}" none
}

# --- dockerd, two daemons, three pulls -----------------------------------
DOCKERD_MIRRORS="\"http://$SRV_HOST\"" DOCKERD_NAME=docker-a docker_start
run docker pull cachebox
check "dockerd A pulls 'cachebox' through the mirror" 0 "Digest: $digest"
run docker rmi cachebox
run docker pull cachebox
check "dockerd A pulls it again" 0 "Digest: $digest"
docker_stop
DOCKERD_MIRRORS="\"http://$SRV_HOST\"" DOCKERD_NAME=docker-b docker_start
run docker pull cachebox
check "dockerd B pulls it" 0 "Digest: $digest"
run docker image inspect --format '{{.RepoDigests}}' cachebox
check "...as docker.io's library/cachebox" 0 "cachebox@$digest"
fetched_once "three pulls by two dockerds: each blob fetched from the upstream once"

# --- containerd: hosts.toml ----------------------------------------------
containerd_start
mkdir -p "$T/hosts/docker.io"
cat >"$T/hosts/docker.io/hosts.toml" <<EOF
server = "https://registry-1.docker.io"

[host."http://$SRV_HOST"]
  capabilities = ["pull", "resolve"]
EOF
run ctr_ images pull --hosts-dir "$T/hosts" docker.io/library/cachebox:latest
check "containerd pulls through the hosts.toml mirror" 0
same "...the upstream's image" \
	"$(ctr_ images ls -q | grep -c '^docker.io/library/cachebox:latest$')" 1
expect "...whose digest is the upstream's" bash -c "ctr --address '$CONTAINERD_ADDR' images ls | grep -q '$digest'"

# --- podman: registries.conf ---------------------------------------------
_podman_setup
cat >"$T/podman/registries.conf" <<EOF
[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "$SRV_HOST"
insecure = true
EOF
run podman_ pull -q docker.io/library/cachebox:latest
check "podman pulls through the registries.conf mirror" 0
same "...the upstream's image" \
	"$(podman_ image inspect --format '{{.Digest}}' docker.io/library/cachebox:latest)" "$digest"
fetched_once "after containerd and podman too: each blob fetched once"

# --- berth's cache down: dockerd falls back to docker.io ------------------
serve_stop
DOCKERD_MIRRORS="\"http://$SRV_HOST\"" DOCKERD_NAME=docker-c DOCKERD_LOG_LEVEL=debug docker_start
start=$SECONDS
run timeout 300 docker pull cachebox
took=$((SECONDS - start))
check "cache down: dockerd's pull fails (docker.io is out of reach here)" 1
expect "...after trying the mirror and falling back to docker.io" \
	grep -q "registry-1.docker.io" "$DOCKERD_LOG"
echo "# dockerd with its mirror down gave up after ${took} s"

done_testing

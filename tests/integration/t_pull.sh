#!/usr/bin/env bash
# berth pull against docker-registry: images generated here, pushed with
# skopeo, pulled with berth; the output lines and the store are checked.
. tests/integration/lib.sh
. tests/integration/registry.sh

registry_start
hostile_start

# --- images -----------------------------------------------------------
mkimage "$T/src" --tag one --layer 64k --seed pull-one >"$T/one.json"
mkimage "$T/src" --tag five --files 2 --seed pull-five \
	--layer 8k --layer 16k --layer 32k --layer 64k --layer 128k >"$T/five.json"
mkimage "$T/src" --tag multi --platforms linux/amd64,linux/arm64/v8 \
	--layer 16k --layer 16k --seed pull-multi >"$T/multi.json"
skopeo_push "$T/src" one "$REG/test/app:v1"
skopeo_push "$T/src" one "$REG/test/app:latest"
skopeo_push "$T/src" five "$REG/test/five:v1"
skopeo_push "$T/src" multi "$REG/test/multi:v1" --all
skopeo_push "$T/src" five "$REG/test/docker:v1" --format v2s2

one_digest=$(jget 'j["digest"]' "$T/one.json")
five_digest=$(jget 'j["digest"]' "$T/five.json")
multi_digest=$(jget 'j["digest"]' "$T/multi.json")

# layer_lines JSON IMAGE_INDEX STATUS: the expected per-layer lines.
layer_lines() {
	local d
	for d in $(jget "[l['digest'] for l in j['images'][$2]['layers']]" "$1"); do
		echo "$(short "$d"): $3"
	done
}

# image_index JSON PLATFORM: position of PLATFORM's image in mkimage's summary.
image_index() {
	jget "[i['platform'] for i in j['images']].index('$2')" "$1"
}

# entry_is NAME STORE REF DIGEST MEDIATYPE: index.json names REF with both
# annotations and points at DIGEST.
entry_is() {
	local e
	if ! e=$(storecheck entry "$2" "$3"); then
		fail "$1" "no index.json entry named '$3': $(storecheck refs "$2" | tr '\n' ' ')"
		return
	fi
	same "$1" "$(jget '[j["digest"], j["mediaType"], j["annotations"]["org.opencontainers.image.ref.name"], j["annotations"].get("io.containerd.image.name")]' <<<"$e")" \
		"$(printf '%s\n' "$4" "$5" "$3" "$3")"
}

OCI_M=application/vnd.oci.image.manifest.v1+json
DOCKER_M=application/vnd.docker.distribution.manifest.v2+json

# --- a one-layer image --------------------------------------------------
S=$T/s1
run "$BERTH" --root "$S" pull "$REG/test/app:v1"
same_output "pull one-layer image: output" "$(
	echo "v1: Pulling from test/app"
	layer_lines "$T/one.json" 0 "Pull complete"
	echo "Digest: $one_digest"
	echo "Status: Downloaded newer image for $REG/test/app:v1"
	echo "$REG/test/app:v1"
)"
entry_is "pull one-layer image: index.json entry" "$S" "$REG/test/app:v1" "$one_digest" "$OCI_M"
store_consistent "pull one-layer image: store consistent" "$S"
same "pull one-layer image: blobs stored" "$(storecheck blobs "$S" | sort)" \
	"$(jget '[j["digest"], j["images"][0]["config"]["digest"]] + [l["digest"] for l in j["images"][0]["layers"]]' "$T/one.json" | sort)"
same "pull one-layer image: oci-layout" "$(jget 'j["imageLayoutVersion"]' "$S/oci-layout")" "1.0.0"

# --- five layers ----------------------------------------------------------
run "$BERTH" --root "$S" pull "$REG/test/five:v1"
same_output "pull five-layer image: output" "$(
	echo "v1: Pulling from test/five"
	layer_lines "$T/five.json" 0 "Pull complete"
	echo "Digest: $five_digest"
	echo "Status: Downloaded newer image for $REG/test/five:v1"
	echo "$REG/test/five:v1"
)"
entry_is "pull five-layer image: index.json entry" "$S" "$REG/test/five:v1" "$five_digest" "$OCI_M"
entry_is "pull five-layer image: first image still there" "$S" "$REG/test/app:v1" "$one_digest" "$OCI_M"
store_consistent "pull five-layer image: store consistent" "$S"
same "pull five-layer image: 7 more blobs" "$(storecheck blobs "$S" | wc -l)" 10

# --- default tag, -q, by digest -----------------------------------------
S=$T/s2
run "$BERTH" --root "$S" pull "$REG/test/app"
same_output "pull without tag: output" "$(
	echo "Using default tag: latest"
	echo "latest: Pulling from test/app"
	layer_lines "$T/one.json" 0 "Pull complete"
	echo "Digest: $one_digest"
	echo "Status: Downloaded newer image for $REG/test/app:latest"
	echo "$REG/test/app:latest"
)"
entry_is "pull without tag: stored as :latest" "$S" "$REG/test/app:latest" "$one_digest" "$OCI_M"

S=$T/s3
run "$BERTH" --root "$S" pull -q "$REG/test/five:v1"
same "pull -q: only the reference" "$RC:$OUT" "0:$REG/test/five:v1"
entry_is "pull -q: stored" "$S" "$REG/test/five:v1" "$five_digest" "$OCI_M"

S=$T/s4
ref="$REG/test/app@$one_digest"
run "$BERTH" --root "$S" pull "$ref"
same_output "pull by digest: output" "$(
	echo "$one_digest: Pulling from test/app"
	layer_lines "$T/one.json" 0 "Pull complete"
	echo "Digest: $one_digest"
	echo "Status: Downloaded newer image for $ref"
	echo "$ref"
)"
entry_is "pull by digest: stored under name@digest" "$S" "$ref" "$one_digest" "$OCI_M"
store_consistent "pull by digest: store consistent" "$S"

# BERTH_ROOT instead of --root.
S=$T/s5
run env BERTH_ROOT="$S" "$BERTH" pull -q "$REG/test/app:v1"
same "BERTH_ROOT selects the store: exit and output" "$RC:$OUT" "0:$REG/test/app:v1"
entry_is "BERTH_ROOT selects the store: entry" "$S" "$REG/test/app:v1" "$one_digest" "$OCI_M"

# --sync: same result, flushed.
S=$T/s6
run "$BERTH" --root "$S" pull --sync -q "$REG/test/five:v1"
same "pull --sync: exit and output" "$RC:$OUT" "0:$REG/test/five:v1"
store_consistent "pull --sync: store consistent" "$S"

# --- a two-platform index -----------------------------------------------
# pull_platform NAME PLATFORM_FLAG... : pull test/multi:v1 into a new store
# and check it holds exactly the index and WANT's image.
pull_platform() {
	local name=$1 want=$2 i plat_digest
	shift 2
	S=$T/multi-$RANDOM$RANDOM
	i=$(image_index "$T/multi.json" "$want")
	plat_digest=$(jget "j['images'][$i]['digest']" "$T/multi.json")
	run "$BERTH" --root "$S" pull "$@" "$REG/test/multi:v1"
	same_output "$name: output" "$(
		echo "v1: Pulling from test/multi"
		layer_lines "$T/multi.json" "$i" "Pull complete"
		echo "Digest: $multi_digest"
		echo "Status: Downloaded newer image for $REG/test/multi:v1"
		echo "$REG/test/multi:v1"
	)"
	entry_is "$name: entry is the $want manifest" "$S" "$REG/test/multi:v1" "$plat_digest" "$OCI_M"
	same "$name: stores the index and one platform's blobs only" \
		"$(storecheck blobs "$S" | sort)" \
		"$(jget "[j['digest'], j['images'][$i]['digest'], j['images'][$i]['config']['digest']] + [l['digest'] for l in j['images'][$i]['layers']]" "$T/multi.json" | sort)"
	store_consistent "$name: store consistent" "$S"
}
case $HOST_PLATFORM in
linux/amd64) pull_platform "pull index, host platform" linux/amd64 ;;
linux/arm64) pull_platform "pull index, host platform" linux/arm64/v8 ;;
esac
pull_platform "pull index --platform linux/arm64/v8" linux/arm64/v8 --platform linux/arm64/v8
pull_platform "pull index --platform linux/arm64 (means v8)" linux/arm64/v8 --platform linux/arm64
pull_platform "pull index --platform linux/aarch64 (normalised)" linux/arm64/v8 --platform linux/aarch64
pull_platform "pull index --platform linux/x86_64 (normalised)" linux/amd64 --platform linux/x86_64

# --- Docker schema2 media types ----------------------------------------
S=$T/s7
docker_digest=$(skopeo_ inspect --tls-verify=false "docker://$REG/test/docker:v1" | jget 'j["Digest"]')
run "$BERTH" --root "$S" pull "$REG/test/docker:v1"
same_output "pull Docker schema2 image: output" "$(
	echo "v1: Pulling from test/docker"
	layer_lines "$T/five.json" 0 "Pull complete"
	echo "Digest: $docker_digest"
	echo "Status: Downloaded newer image for $REG/test/docker:v1"
	echo "$REG/test/docker:v1"
)"
entry_is "pull Docker schema2 image: entry keeps its media type" "$S" "$REG/test/docker:v1" "$docker_digest" "$DOCKER_M"
store_consistent "pull Docker schema2 image: store consistent" "$S"

# --- concurrency of layer downloads --------------------------------------
# hostile/parallel sends each of its 4 layers slowly; the server logs how
# many blob GETs were in flight when each started.
max_inflight() {
	grep -E '^GET /v2/hostile/parallel/blobs/' "$HOSTILE_LOG" |
		sed -E 's/.*inflight=([0-9]+)$/\1/' | sort -n | tail -n1
}
S=$T/s8
: >"$HOSTILE_LOG"
run "$BERTH" --root "$S" pull -q "$HOSTILE/hostile/parallel:v1"
n=$(max_inflight)
if [ "$RC" = 0 ] && [ "${n:-0}" -ge 2 ] && [ "${n:-0}" -le 3 ]; then
	ok "layers download concurrently (default 3): $n at once"
else
	fail "layers download concurrently (default 3)" "exit $RC, max in flight ${n:-none}; $(head -c 300 <<<"$ERR")"
fi
S=$T/s9
: >"$HOSTILE_LOG"
run "$BERTH" --root "$S" pull -q --max-concurrent-downloads 1 "$HOSTILE/hostile/parallel:v1"
same "--max-concurrent-downloads 1: one at a time" "$RC:$(max_inflight)" "0:1"
store_consistent "--max-concurrent-downloads 1: store consistent" "$S"

# --- redirected blob downloads (object-storage backends) -----------------
S=$T/s10
: >"$HOSTILE_LOG"
run "$BERTH" --root "$S" pull -q "$HOSTILE/hostile/redirect:v1"
same "pull follows blob redirects" "$RC:$OUT" "0:$HOSTILE/hostile/redirect:v1"
same "pull follows blob redirects: fetched from the target" \
	"$(grep -c '^GET /storage/' "$HOSTILE_LOG")" 3
store_consistent "pull follows blob redirects: store consistent" "$S"

done_testing

#!/usr/bin/env bash
# berth copy between two docker-registry instances, berth serve and OCI
# layout directories, checked with skopeo and umoci; blobs skipped, mounted
# and resumed; lying sources and refusing destinations tag nothing.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/serve_lib.sh

registry_start
A=$REG A_LOG=$REG_LOG
registry_start
B=$REG B_LOG=$REG_LOG
hostile_start --release "$T/release"
export BERTH_ROOT=$T/store

mark() { wc -l <"$1"; }
since() { tail -n +"$(($2 + 1))" "$1"; }
raw() { skopeo_ inspect --raw --tls-verify=false "docker://$1"; }
sha() { echo "sha256:$(sha256sum | cut -c1-64)"; }
digest_re() { echo "sha256(:|%3[Aa])${1#sha256:}"; }
# tagged HOST/REPO:TAG: the registry answers the manifest HEAD with 200.
tagged() {
	local host=${1%%/*} rest=${1#*/}
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$host/v2/${rest%:*}/manifests/${rest##*:}")" = 200 ]
}
has_blob() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I \
		"http://$1/v2/$2/blobs/$3")" = 200 ]
}
untagged() { ! tagged "$@"; }
lacks_blob() { ! has_blob "$@"; }

img=$(mkimage "$T/img" --tag v1 --layer 300k --layer 3m --layer 20k)
img_digest=$(jget 'j["digest"]' <<<"$img")
multi=$(mkimage "$T/img" --tag multi --platforms "linux/amd64,linux/arm64,linux/arm/v7" --layer 200k)
multi_digest=$(jget 'j["digest"]' <<<"$multi")
host_child=$(jget "[i['digest'] for i in j['images'] if i['platform'] == '$HOST_PLATFORM'][0]" <<<"$multi")
skopeo_push "$T/img" v1 "$A/src/app:v1"
skopeo_push "$T/img" multi "$A/src/multi:v1" --all

# --- registry to registry -------------------------------------------------
run "$BERTH" copy "docker://$A/src/app:v1" "docker://$B/dst/app:v1"
check "copy registry to registry" 0 "^$img_digest\$" "Copied 4 blobs"
same "copy: the destination has the source's manifest byte for byte" \
	"$(raw "$B/dst/app:v1" | sha)" "$img_digest"
expect "copy: skopeo copies it back, verifying every digest" \
	skopeo_ copy -q --src-tls-verify=false "docker://$B/dst/app:v1" "oci:$T/back:v1"

m=$(mark "$B_LOG")
run "$BERTH" copy "docker://$A/src/app:v1" "docker://$B/dst/app:v1"
check "copy again" 0 "^$img_digest\$" "Copied 0 blobs, 4 already there"
if since "$B_LOG" "$m" | grep -E '"(POST|PUT|PATCH) [^ ]*/blobs/'; then
	fail "copy again: nothing uploaded" "the destination saw blob uploads"
else
	ok "copy again: nothing uploaded"
fi

m=$(mark "$A_LOG")
run "$BERTH" copy "docker://$A/src/app:v1" "docker://$A/other/app:v1"
check "copy within one registry" 0 "^$img_digest\$" "4 mounted"
same "copy within one registry: every blob mounted, none uploaded" \
	"$(since "$A_LOG" "$m" | grep -cE '"POST [^ ]*/blobs/uploads/\?([^ ]*&)?mount=sha256[^ ]* HTTP/[0-9.]+" 201'):$(since "$A_LOG" "$m" | grep -cE '"PUT [^ ]*/blobs/')" \
	"4:0"

if grep -q $'\033' <<<"$OUT"; then
	fail "copy to a pipe: no escape sequences" "$(cat -v <<<"$OUT" | head -n 3)"
else
	ok "copy to a pipe: no escape sequences"
fi
same "copy to a pipe: one line per blob" "$(grep -cE '^[0-9a-f]{12}: (Copied|Already exists|Mounted)$' <<<"$OUT")" 4

# script(1) gives the command a pseudo-terminal.
TERM=xterm script -qec "'$BERTH' copy docker://$A/src/app:v1 docker://$B/tty/app:v1" "$T/tty.out" >/dev/null
same "copy on a terminal succeeds" "$?" 0
if grep -q $'\033\\[[0-9]*A' "$T/tty.out" && grep -q "Copied" "$T/tty.out" &&
	grep -q "$img_digest" "$T/tty.out"; then
	ok "copy on a terminal: lines redrawn in place, final states, the digest"
else
	fail "copy on a terminal: lines redrawn in place, final states, the digest" "$(head -c 300 "$T/tty.out" | cat -v)"
fi

run "$BERTH" copy -q "docker://$A/src/app:v1" "docker://$B/quiet/app:v1"
same "copy -q prints only the digest" "$RC:$OUT" "0:$img_digest"

# --- indexes --------------------------------------------------------------
run "$BERTH" copy "docker://$A/src/multi:v1" "docker://$B/dst/one:v1"
check "copy of an index: the host's image by default" 0 "^$host_child\$"
same "copy of an index: the host's image manifest at the destination" \
	"$(raw "$B/dst/one:v1" | sha)" "$host_child"

run "$BERTH" copy --all "docker://$A/src/multi:v1" "docker://$B/dst/multi:v1"
check "copy --all" 0 "^$multi_digest\$"
same "copy --all: the index byte for byte" "$(raw "$B/dst/multi:v1" | sha)" "$multi_digest"
for p in linux/amd64 linux/arm64 linux/arm/v7; do
	d=$(jget "[i['digest'] for i in j['images'] if i['platform'] == '$p'][0]" <<<"$multi")
	same "copy --all: the $p image is there" "$(raw "$B/dst/multi@$d" | sha)" "$d"
done
expect "copy --all: skopeo copies the whole index back" \
	skopeo_ copy -q --all --src-tls-verify=false "docker://$B/dst/multi:v1" "oci:$T/back:multi"

run "$BERTH" copy --platform linux/arm64 --platform linux/arm/v7 \
	"docker://$A/src/multi:v1" "docker://$B/dst/subset:v1"
check "copy --platform twice: a new index" 0 "digest differs"
sub_digest=$(tail -n1 <<<"$OUT")
same "copy --platform: the printed digest is the new index's" \
	"$(raw "$B/dst/subset:v1" | sha)" "$sub_digest"
same "copy --platform: just the two platforms" \
	"$(raw "$B/dst/subset:v1" | jget '[m["platform"]["architecture"] for m in j["manifests"]]')" \
	"$(printf 'arm64\narm\n')"
expect "copy --platform: its digest is not the source's" [ "$sub_digest" != "$multi_digest" ]
arm64=$(jget "[i['digest'] for i in j['images'] if i['platform'] == 'linux/arm64'][0]" <<<"$multi")
run "$BERTH" copy --platform linux/arm64 "docker://$A/src/multi:v1" "docker://$B/dst/arm64:v1"
check "copy --platform once: that image alone" 0 "^$arm64\$"
same "copy --platform once: its manifest at the destination" "$(raw "$B/dst/arm64:v1" | sha)" "$arm64"
run "$BERTH" copy --all --platform linux/arm64 "docker://$A/src/multi:v1" "docker://$B/dst/arm64idx:v1"
check "copy --all --platform once: an index of one" 0 "digest differs"
same "copy --all --platform once: the index holds the arm64 image" \
	"$(raw "$B/dst/arm64idx:v1" | jget '[m["digest"] for m in j["manifests"]]')" "$arm64"
run "$BERTH" copy --platform linux/s390x "docker://$A/src/multi:v1" "docker://$B/dst/none:v1"
check "copy --platform of a platform the index lacks" 12 "linux/arm64"
amd=$(jget "[i['digest'] for i in j['images'] if i['platform'] == 'linux/amd64'][0]" <<<"$multi")
if [ "$HOST_PLATFORM" != linux/amd64 ]; then
	expect "copy --platform: the other platform's image was not copied" \
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$B/v2/dst/subset/manifests/$amd")" = 404 ]
fi

# --- OCI layouts ----------------------------------------------------------
run "$BERTH" copy "oci:$T/img:v1" "docker://$B/fromoci/app:v1"
check "copy oci: to docker://" 0 "^$img_digest\$"
same "copy oci: to docker://: the manifest byte for byte" \
	"$(raw "$B/fromoci/app:v1" | sha)" "$img_digest"

run "$BERTH" copy "docker://$A/src/app:v1" "oci:$T/out:v1"
check "copy docker:// to oci:" 0 "^$img_digest\$"
same "copy docker:// to oci:: skopeo reads the layout" \
	"$(skopeo_ inspect --raw "oci:$T/out:v1" | sha)" "$img_digest"
expect "copy docker:// to oci:: umoci unpacks it" \
	umoci unpack --rootless --image "$T/out:v1" "$T/bundle"
run "$BERTH" copy --all "docker://$A/src/multi:v1" "oci:$T/out:multi"
check "copy --all docker:// to oci:" 0 "^$multi_digest\$"
expect "copy --all to oci:: skopeo copies the index out of the layout" \
	skopeo_ copy -q --all "oci:$T/out:multi" "oci:$T/back2:multi"
same "copy to oci:: both tags in index.json" \
	"$(jget '[m["annotations"]["org.opencontainers.image.ref.name"] for m in j["manifests"]]' "$T/out/index.json")" \
	"$(printf 'v1\nmulti\n')"

# --- berth serve as the destination ---------------------------------------
serve_start
run "$BERTH" copy "docker://$A/src/app:v1" "docker://$SRV_HOST/dst/app:v1"
check "copy to berth serve" 0 "^$img_digest\$"
same "copy to berth serve: the manifest byte for byte" \
	"$(raw "$SRV_HOST/dst/app:v1" | sha)" "$img_digest"

# --- lying sources --------------------------------------------------------
bad_layer=$(curl -s "http://$HOSTILE/v2/hostile/badblob/manifests/v1" | jget 'j["layers"][1]["digest"]')
m=$(mark "$B_LOG")
run "$BERTH" copy "docker://$HOSTILE/hostile/badblob:v1" "docker://$B/lies/badblob:v1"
check "copy from a source that lies about a blob" 11 "does not match its digest" \
	"$bad_layer" "$HOSTILE" "docker://$HOSTILE/hostile/badblob:v1"
expect "lying source: nothing tagged" untagged "$B/lies/badblob:v1"
expect "lying source: the bad blob never completed at the destination" \
	lacks_blob "$B" lies/badblob "$bad_layer"
if since "$B_LOG" "$m" | grep -E "\"PUT [^ ]*digest=$(digest_re "$bad_layer")[^ ]* HTTP/[0-9.]+\" (201|400)"; then
	fail "lying source: its upload never reached the registry's own check" "the PUT was sent whole"
else
	ok "lying source: its upload never reached the registry's own check"
fi

run "$BERTH" copy "docker://$HOSTILE/hostile/cutoff:v1" "docker://$B/lies/cutoff:v1"
check "copy from a source that cuts a blob short" 8 "cut off|smaller" "$HOSTILE"
expect "truncated source: nothing tagged" untagged "$B/lies/cutoff:v1"

run "$BERTH" copy "docker://$HOSTILE/hostile/badsize:v1" "docker://$B/lies/badsize:v1"
check "copy from a source whose blob is longer than its descriptor" 11 "larger than" "$HOSTILE"
expect "longer blob: nothing tagged" untagged "$B/lies/badsize:v1"

# --- an interrupted copy resumes ------------------------------------------
held_cfg=$(curl -s "http://$HOSTILE/v2/hostile/held/manifests/v1" | jget 'j["config"]["digest"]')
held_layer=$(curl -s "http://$HOSTILE/v2/hostile/held/manifests/v1" | jget 'j["layers"][0]["digest"]')
m=$(mark "$B_LOG")
"$BERTH" copy "docker://$HOSTILE/hostile/held:v1" "docker://$B/resume/app:v1" \
	>"$T/held.out" 2>&1 &
held_pid=$!
cfg_put() { since "$B_LOG" "$m" | grep -qE "\"PUT [^ ]*digest=$(digest_re "$held_cfg")[^ ]* HTTP/[0-9.]+\" 201"; }
layer_get() { grep -q "GET /v2/hostile/held/blobs/$held_layer" "$HOSTILE_LOG"; }
if wait_for 300 cfg_put && wait_for 300 layer_get; then
	kill -9 "$held_pid"
	wait "$held_pid" 2>/dev/null
	expect "killed mid-blob: the config is there" has_blob "$B" resume/app "$held_cfg"
	expect "killed mid-blob: the layer is not" lacks_blob "$B" resume/app "$held_layer"
	expect "killed mid-blob: nothing tagged" untagged "$B/resume/app:v1"
	touch "$T/release"
	m=$(mark "$B_LOG")
	run "$BERTH" copy "docker://$HOSTILE/hostile/held:v1" "docker://$B/resume/app:v1"
	check "the copy run again completes" 0 "Copied 1 blobs, 1 already there"
	same "run again: the config is not sent again, the layer is" \
		"$(since "$B_LOG" "$m" | grep -cE "\"PUT [^ ]*digest=$(digest_re "$held_cfg")"):$(since "$B_LOG" "$m" | grep -cE "\"PUT [^ ]*digest=$(digest_re "$held_layer")[^ ]* HTTP/[0-9.]+\" 201")" \
		"0:1"
	expect "run again: tagged" tagged "$B/resume/app:v1"
else
	kill -9 "$held_pid" 2>/dev/null
	fail "interrupted copy" "the held copy never got going: $(head -c 300 "$T/held.out")"
fi

# --- destinations that refuse ---------------------------------------------
RPORT=$(free_port)
: >"$T/refuse.log"
bg python3 "$TOOLS/refusing_registry.py" "$RPORT" --log "$T/refuse.log"
wait_http "http://127.0.0.1:$RPORT/v2/" || bail "refusing registry did not start"
R=127.0.0.1:$RPORT
first_blob=$(jget 'j["images"][0]["config"]["digest"]' <<<"$img")
for c in "unauthorized 5 401|auth" "denied 6 denied" "toobig 11 too large" "limited 7 429|37"; do
	set -- $c
	run "$BERTH" copy --max-concurrent 1 "docker://$A/src/app:v1" "docker://$R/refuse/$1:v1"
	check "destination refuses ($1)" "$2" "$3" "$R" "blob 'sha256:" "docker://$A/src/app:v1"
done
if grep -q "PUT /v2/refuse/[a-z]*/manifests/" "$T/refuse.log"; then
	fail "refused destinations: no manifest sent" "$(grep manifests "$T/refuse.log" | head -n3)"
else
	ok "refused destinations: no manifest sent"
fi

# --- bad usage ------------------------------------------------------------
run "$BERTH" copy "$A/src/app:v1" "docker://$B/x:v1"
check "a location without a transport is a local image" 4 "local" "docker://$A/src/app:v1"
run "$BERTH" copy "oci:$T/nothing" "docker://$B/x:v1"
check "an OCI source that is not there" 4 "index.json"

done_testing

#!/usr/bin/env bash
# berth copy to and from oci-archive:, docker-archive: and the local store,
# each direction read back (or written first) by skopeo; digests kept
# byte for byte where the format keeps them; a lying archive tags nothing.
. tests/integration/lib.sh
. tests/integration/registry.sh

export BERTH_ROOT=$T/store
# Where berth keeps an archive's temporary layout while it copies.
export TMPDIR=$T/tmp
mkdir "$TMPDIR"
registry_start
A=$REG

raw() { skopeo_ inspect --raw --tls-verify=false "$1"; }
sha() { echo "sha256:$(sha256sum | cut -c1-64)"; }
tagged() {
	local host=${1%%/*} rest=${1#*/}
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$host/v2/${rest%:*}/manifests/${rest##*:}")" = 200 ]
}
untagged() { ! tagged "$@"; }

img=$(mkimage "$T/img" --tag v1 --layer 300k --layer 2m)
img_digest=$(jget 'j["digest"]' <<<"$img")
img_config=$(jget 'j["images"][0]["config"]["digest"]' <<<"$img")
multi=$(mkimage "$T/img" --tag multi --platforms "linux/amd64,linux/arm64" --layer 100k)
multi_digest=$(jget 'j["digest"]' <<<"$multi")
skopeo_push "$T/img" v1 "$A/src/app:v1"
skopeo_push "$T/img" multi "$A/src/multi:v1" --all

# --- oci-archive: ---------------------------------------------------------
run "$BERTH" copy "docker://$A/src/app:v1" "oci-archive:$T/a.tar:v1"
check "copy docker:// to oci-archive:" 0 "^$img_digest\$"
same "oci-archive: skopeo reads the manifest byte for byte" \
	"$(raw "oci-archive:$T/a.tar:v1" | sha)" "$img_digest"
expect "oci-archive: skopeo copies the image out, verifying every digest" \
	skopeo_ copy -q "oci-archive:$T/a.tar:v1" "oci:$T/sk1:v1"
same "oci-archive: no temporary directory left behind" "$(ls -A "$TMPDIR")" ""

run "$BERTH" copy --all "docker://$A/src/multi:v1" "oci-archive:$T/m.tar:multi"
check "copy --all to oci-archive:" 0 "^$multi_digest\$"
same "oci-archive --all: the index byte for byte" \
	"$(raw "oci-archive:$T/m.tar:multi" | sha)" "$multi_digest"
expect "oci-archive --all: skopeo copies every platform out" \
	skopeo_ copy -q --all "oci-archive:$T/m.tar:multi" "oci:$T/sk2:multi"

skopeo_ copy -q --all --src-tls-verify=false "docker://$A/src/multi:v1" \
	"oci-archive:$T/sk-multi.tar:m" || bail "skopeo copy to oci-archive failed"
run "$BERTH" copy --all "oci-archive:$T/sk-multi.tar:m" "docker://$A/fromarch/multi:v1"
check "copy skopeo's oci-archive: --all to docker://" 0 "^$multi_digest\$"
same "from skopeo's oci-archive: the index byte for byte" \
	"$(raw "docker://$A/fromarch/multi:v1" | sha)" "$multi_digest"
skopeo_ copy -q --src-tls-verify=false "docker://$A/src/app:v1" \
	"oci-archive:$T/sk-one.tar" || bail "skopeo copy to oci-archive failed"
run "$BERTH" copy "oci-archive:$T/sk-one.tar" "docker://$A/fromarch/app:v1"
check "copy skopeo's untagged oci-archive: (its only image)" 0 "^$img_digest\$"

run "$BERTH" copy "oci-archive:$T/a.tar:nope" "docker://$A/x/y:v1"
check "oci-archive: a tag the archive lacks" 4 "no image 'nope'"
printf 'not a tar' >"$T/junk.tar"
run "$BERTH" copy "oci-archive:$T/junk.tar" "docker://$A/x/y:v1"
check "oci-archive: a file that is no archive" 10 "junk.tar"
run "$BERTH" copy "oci-archive:$T/absent.tar" "docker://$A/x/y:v1"
check "oci-archive: a file that is not there" 4 "absent.tar"

# A blob changed in place, its size kept: the archive lies.
mkdir "$T/lie" && tar -xf "$T/a.tar" -C "$T/lie"
layer=$(jget 'j["layers"][0]["digest"]' "$T/lie/blobs/sha256/${img_digest#sha256:}")
printf 'X' | dd of="$T/lie/blobs/sha256/${layer#sha256:}" bs=1 seek=100 conv=notrunc status=none
tar -cf "$T/lie.tar" -C "$T/lie" .
run "$BERTH" copy "oci-archive:$T/lie.tar:v1" "docker://$A/lies/app:v1"
check "oci-archive: a blob that does not match its name" 11 "$layer" "lie.tar"
expect "lying oci-archive: nothing tagged" untagged "$A/lies/app:v1"

# Indexes nested deeper than any image needs (the shape of an index that
# would contain itself): refused, nothing tagged.
python3 - "$T/nest" "$T/img" "${img_digest#sha256:}" <<'PY'
import hashlib, json, os, shutil, sys
out, src, top = sys.argv[1:]
shutil.copytree(src, out)
blobs = os.path.join(out, "blobs", "sha256")
child = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": "sha256:" + top,
         "size": os.path.getsize(os.path.join(blobs, top))}
for _ in range(6):
    b = json.dumps({"schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [child]}).encode()
    h = hashlib.sha256(b).hexdigest()
    open(os.path.join(blobs, h), "wb").write(b)
    child = {"mediaType": "application/vnd.oci.image.index.v1+json",
             "digest": "sha256:" + h, "size": len(b)}
child["annotations"] = {"org.opencontainers.image.ref.name": "nest"}
json.dump({"schemaVersion": 2, "manifests": [child]},
          open(os.path.join(out, "index.json"), "w"))
PY
run "$BERTH" copy --all "oci:$T/nest:nest" "docker://$A/nest/app:v1"
check "indexes nested too deep" 14 "nested more than 4 indexes" "index 'sha256:" "$T/nest"
expect "indexes nested too deep: nothing tagged" untagged "$A/nest/app:v1"

# --- docker-archive: ------------------------------------------------------
run "$BERTH" copy "docker://$A/src/app:v1" "docker-archive:$T/d.tar:example.com/app:v1"
check "copy docker:// to docker-archive:" 0 "^sha256:"
same "docker-archive: manifest.json names the image" \
	"$(tar -xOf "$T/d.tar" manifest.json | jget 'j[0]["RepoTags"]')" "example.com/app:v1"
same "docker-archive: the config byte for byte" \
	"$(skopeo_ inspect --config --raw "docker-archive:$T/d.tar" | sha)" "$img_config"
same "docker-archive: docker's own layout (manifest.json names the config)" \
	"$(tar -xOf "$T/d.tar" manifest.json | jget 'j[0]["Config"]')" "${img_config#sha256:}.json"
expect "docker-archive: skopeo copies it to a registry" \
	skopeo_ copy -q --dest-tls-verify=false "docker-archive:$T/d.tar" "docker://$A/skd/app:v1"
run "$BERTH" copy "docker://$A/src/app:v1" "docker-archive:$T/d0.tar"
check "copy to docker-archive: without a name" 0
same "docker-archive without a name: no RepoTags" \
	"$(tar -xOf "$T/d0.tar" manifest.json | jget 'j[0]["RepoTags"]')" "null"

skopeo_ copy -q --src-tls-verify=false "docker://$A/src/app:v1" \
	"docker-archive:$T/sk.tar:skopeo/app:v1" || bail "skopeo copy to docker-archive failed"
run "$BERTH" copy "docker-archive:$T/sk.tar" "docker://$A/fromdocker/app:v1"
check "copy skopeo's docker-archive: to docker://" 0 "^sha256:"
same "from docker-archive: the config byte for byte" \
	"$(raw "docker://$A/fromdocker/app:v1" | jget 'j["config"]["digest"]')" "$img_config"
expect "from docker-archive: skopeo copies it back, verifying every digest" \
	skopeo_ copy -q --src-tls-verify=false "docker://$A/fromdocker/app:v1" "oci:$T/sk3:v1"
run "$BERTH" copy "docker-archive:$T/sk.tar:skopeo/app:v1" "docker://$A/fromdocker/named:v1"
check "docker-archive: the image named" 0 "^sha256:"
run "$BERTH" copy "docker-archive:$T/sk.tar:other/app:v1" "docker://$A/fromdocker/x:v1"
check "docker-archive: a name the archive lacks" 4 "no image 'docker.io/other/app:v1'"
run "$BERTH" copy --all "docker://$A/src/multi:v1" "docker-archive:$T/multi.tar"
check "docker-archive: an index is refused" 14 "multi-platform" "--platform"
expect "docker-archive refused: no file written" [ ! -e "$T/multi.tar" ]
run "$BERTH" copy "docker://$A/src/app:v1" "docker-archive:$T/d.tar:x@sha256:${img_digest#sha256:}"
check "docker-archive: a name by digest is refused" 2 "by tag"

# --- the local store --------------------------------------------------------
run "$BERTH" copy "docker://$A/src/app:v1" "localhost/local/app:v1"
check "copy docker:// into the local store" 0 "^$img_digest\$"
run "$BERTH" images localhost/local/app
check "into the store: berth images lists it" 0 "localhost/local/app +v1"
same "into the store: skopeo reads it, byte for byte" \
	"$(raw "oci:$BERTH_ROOT:localhost/local/app:v1" | sha)" "$img_digest"
run "$BERTH" fsck
check "into the store: fsck finds nothing wrong" 0
run "$BERTH" copy "localhost/local/app:v1" "docker://$A/fromstore/app:v1"
check "copy the local store to docker://" 0 "^$img_digest\$"
same "from the store: the manifest byte for byte" \
	"$(raw "docker://$A/fromstore/app:v1" | sha)" "$img_digest"
run "$BERTH" copy --all "oci-archive:$T/m.tar:multi" "localhost/local/multi:v1"
check "copy --all oci-archive: into the store" 0 "^$multi_digest\$"
run "$BERTH" copy --all "localhost/local/multi:v1" "oci-archive:$T/m2.tar"
check "copy --all the store to oci-archive:" 0 "^$multi_digest\$"
same "store to oci-archive: skopeo reads the index byte for byte" \
	"$(raw "oci-archive:$T/m2.tar" | sha)" "$multi_digest"
run "$BERTH" copy "docker-archive:$T/sk.tar" "localhost/local/fromdocker:v1"
check "copy docker-archive: into the store" 0 "^sha256:"
run "$BERTH" unpack "localhost/local/fromdocker:v1" "$T/tree"
check "from docker-archive into the store: berth unpacks it" 0
same "after every copy: no temporary directory left behind" "$(ls -A "$TMPDIR")" ""
run "$BERTH" copy "localhost/absent:v1" "docker://$A/x/y:v1"
check "the store: an image it lacks" 4 "localhost/absent:v1" "docker://"
run "$BERTH" copy "dir:$T/d" "docker://$A/x/y:v1"
check "a skopeo transport berth does not read" 2 "unknown location"

done_testing

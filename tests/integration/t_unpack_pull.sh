#!/usr/bin/env bash
# berth pull --unpack DIR against docker-registry: the tree is the one
# `berth pull` + `berth unpack` give (tests/tools/tree_diff.py), the blobs
# are in the store afterwards, layers already in the store or listed twice
# are read from their blobs, and the options need --unpack.
. tests/integration/lib.sh
. tests/integration/registry.sh

registry_start

# gzip, zstd and plain layers; whiteouts, hard and symbolic links, setuid.
cat >"$T/spec.json" <<'EOF'
{"layers": [
 {"compression": "gzip", "entries": [
   {"path": "etc", "type": "dir"},
   {"path": "etc/os-release", "type": "file", "content": "NAME=test\n"},
   {"path": "usr/bin/tool", "type": "file", "mode": "4755", "size": 300000},
   {"path": "usr/lib/big", "type": "file", "size": 3000000},
   {"path": "old", "type": "dir"},
   {"path": "old/gone", "type": "file", "content": "x"},
   {"path": "opq", "type": "dir"},
   {"path": "opq/a", "type": "file", "content": "a"},
   {"path": "link", "type": "symlink", "target": "usr/bin/tool"}]},
 {"compression": "zstd", "entries": [
   {"path": "old/.wh.gone", "type": "file"},
   {"path": "opq/.wh..wh..opq", "type": "file"},
   {"path": "opq/b", "type": "file", "content": "b"},
   {"path": "usr/bin/hard", "type": "link", "target": "usr/bin/tool"},
   {"path": "var/data", "type": "file", "size": 2000000}]},
 {"compression": "none", "entries": [
   {"path": "etc/motd", "type": "file", "content": "hello\n",
    "mtime": 1704067200}]}
]}
EOF
python3 "$TOOLS/mklayout.py" "$T/src" --tag v1 "$T/spec.json" >"$T/img.json" ||
	bail "mklayout.py failed"
# --preserve-digests: the plain layer stays plain (skopeo would gzip it).
skopeo_push "$T/src" v1 "$REG/test/unpack:v1" --preserve-digests
mapfile -t layers < <(jget "'\n'.join(l['digest'] for l in j['images'][0]['layers'])" "$T/img.json")

# --- the reference: pull, then unpack -----------------------------------
S1=$T/store1
run "$BERTH" --root "$S1" pull -q "$REG/test/unpack:v1"
check "berth pull" 0 || bail "$ERR"
run "$BERTH" --root "$S1" unpack "$REG/test/unpack:v1" "$T/ref"
check "berth unpack" 0 || bail "$ERR"

# --- pull --unpack into an empty store ------------------------------------
S2=$T/store2
run "$BERTH" --root "$S2" pull --unpack "$T/one" "$REG/test/unpack:v1"
check "pull --unpack: exit and message" 0 "Unpacked into $T/one"
run python3 "$TOOLS/tree_diff.py" "$T/ref" "$T/one"
check "pull --unpack gives the tree of pull + unpack" 0
same "the whiteout removed its file" "$(ls -A "$T/one/old")" ""
same "the opaque directory holds only its own layer's file" "$(ls -A "$T/one/opq")" "b"
missing=""
for d in "${layers[@]}"; do
	[ -f "$S2/blobs/sha256/${d#sha256:}" ] || missing="$missing $d"
done
same "every layer blob is in the store afterwards" "$missing" ""
run "$BERTH" --root "$S2" fsck
check "the store passes fsck" 0
run "$BERTH" --root "$S2" images
check "the image is recorded" 0 "test/unpack"
same "no staging directory is left" \
	"$(find "$T" -maxdepth 1 -name '.one.berth-stage-*' | wc -l)" "0"

# --- everything in the store already: layers read from their blobs --------
run "$BERTH" --root "$S2" pull --unpack "$T/two" "$REG/test/unpack:v1"
check "pull --unpack of a stored image" 0 "Image is up to date"
run python3 "$TOOLS/tree_diff.py" "$T/ref" "$T/two"
check "... gives the same tree" 0

# --- some layers stored, some downloaded ----------------------------------
S3=$T/store3
mkdir -p "$S3"
cp -a "$S2/." "$S3/"
rm "$S3/blobs/sha256/${layers[1]#sha256:}"
run "$BERTH" --root "$S3" pull --unpack "$T/three" "$REG/test/unpack:v1"
check "pull --unpack with the middle layer missing" 0
run python3 "$TOOLS/tree_diff.py" "$T/ref" "$T/three"
check "... gives the same tree" 0

# --- a layer listed twice ---------------------------------------------------
cat >"$T/twice.json" <<'EOF'
{"layers": [
 {"compression": "gzip", "entries": [
   {"path": "a", "type": "file", "content": "one"}]},
 {"compression": "gzip", "entries": [
   {"path": "a", "type": "file", "content": "two"}]},
 {"compression": "gzip", "entries": [
   {"path": "a", "type": "file", "content": "one"}]}
]}
EOF
python3 "$TOOLS/mklayout.py" "$T/src" --tag twice "$T/twice.json" >"$T/twice.out" ||
	bail "mklayout.py failed"
skopeo_push "$T/src" twice "$REG/test/twice:v1"
run "$BERTH" --root "$T/store4" pull --unpack "$T/four" "$REG/test/twice:v1"
check "pull --unpack of an image listing a layer twice" 0
same "... the last layer wins" "$(cat "$T/four/a")" "one"

# --- DIR not empty, --force ------------------------------------------------
run "$BERTH" --root "$T/store5" pull --unpack "$T/one" "$REG/test/unpack:v1"
check "a non-empty DIR is refused" 17 "not empty" "--force"
expect "... and kept as it was" test -f "$T/one/etc/motd"
expect "... and no image was half-pulled into DIR" test ! -e "$T/one/a"
run "$BERTH" --root "$T/store5" pull --unpack "$T/four" --force "$REG/test/unpack:v1"
check "--force replaces it" 0
run python3 "$TOOLS/tree_diff.py" "$T/ref" "$T/four"
check "... with the image's tree" 0

# --- options that need --unpack ----------------------------------------------
run "$BERTH" --root "$T/store6" pull --force "$REG/test/unpack:v1"
check "--force without --unpack is a usage error" 2 "need --unpack DIR"
run "$BERTH" pull --help
check "--help lists --unpack" 0 "--unpack DIR" "--max-unpacked-size"

done_testing

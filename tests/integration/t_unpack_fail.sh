#!/usr/bin/env bash
# berth pull --unpack DIR when something goes wrong: a layer whose bytes
# differ from its digest (a blob corrupted in docker-registry's storage), a
# layer whose tar differs from the config's diff_ids, a truncated layer, a
# download cut off, a full disk (a small loop-mounted ext4), kill -9 in the
# middle. Each states the exact message and checks DIR afterwards: as it
# was (absent here), no staging directory left once a later run is done.
#
# The disk-full case needs root, mkfs.ext4 and a free loop device, as
# t_serve_diskfull.sh; without them it fails (never skipped).
. tests/integration/lib.sh
. tests/integration/registry.sh

MNT=$T/mnt
mounted=""
unmount() {
	[ -n "$mounted" ] || return 0
	umount "$MNT" || umount -l "$MNT"
	mounted=""
}
trap 'unmount; _cleanup' EXIT

registry_start
hostile_start

# Three gzip layers of a few MiB each.
cat >"$T/spec.json" <<'EOF'
{"layers": [
 {"compression": "gzip", "entries": [
   {"path": "one/a", "type": "file", "size": 2000000}]},
 {"compression": "gzip", "entries": [
   {"path": "two/b", "type": "file", "size": 3000000},
   {"path": "two/c", "type": "file", "size": 3000000}]},
 {"compression": "gzip", "entries": [
   {"path": "three/d", "type": "file", "size": 2000000}]}
]}
EOF
python3 "$TOOLS/mklayout.py" "$T/src" --tag v1 "$T/spec.json" >"$T/img.json" ||
	bail "mklayout.py failed"

# rewrite MODE: a copy of the image, tagged MODE, with layer 2 changed and
# the manifest (and config) written to match, except for what MODE breaks:
#   diffid    the config's diff ID of layer 2 is another layer's
#   truncate  layer 2's gzip stream cut in half (its digest and size those
#             of the cut bytes: only decoding can tell)
rewrite() {
	python3 - "$T/src" "$1" <<'PY' || bail "cannot write the '$1' image"
import hashlib, json, os, sys
root, mode = sys.argv[1], sys.argv[2]
blob = lambda d: os.path.join(root, "blobs", "sha256", d.split(":")[1])
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    open(blob(d), "wb").write(data)
    return d
idx = json.load(open(os.path.join(root, "index.json")))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
cfg = json.load(open(blob(m["config"]["digest"])))
l2 = m["layers"][1]
if mode == "diffid":
    cfg["rootfs"]["diff_ids"][1] = cfg["rootfs"]["diff_ids"][0]
elif mode == "truncate":
    data = open(blob(l2["digest"]), "rb").read()
    data = data[: len(data) // 2]
    l2["digest"], l2["size"] = put(data), len(data)
c = json.dumps(cfg, separators=(",", ":")).encode()
m["config"]["digest"], m["config"]["size"] = put(c), len(c)
body = json.dumps(m, separators=(",", ":")).encode()
idx["manifests"].append({"mediaType": m["mediaType"], "digest": put(body),
    "size": len(body),
    "annotations": {"org.opencontainers.image.ref.name": mode}})
json.dump(idx, open(os.path.join(root, "index.json"), "w"))
PY
}
rewrite diffid
rewrite truncate
skopeo_push "$T/src" v1 "$REG/test/corrupt:v1"
skopeo_push "$T/src" v1 "$REG/test/good:v1"
skopeo_push "$T/src" diffid "$REG/test/diffid:v1"
skopeo_push "$T/src" truncate "$REG/test/truncate:v1"
l2=$(jget "j['images'][0]['layers'][1]['digest']" "$T/img.json")

# no_trace NAME DIR STORE: DIR was never made, no staging directory is
# beside it, and the store records no image.
no_trace() {
	local name=$1 dir=$2 store=$3
	expect "$name: DIR does not exist" test ! -e "$dir"
	same "$name: no staging directory beside DIR" \
		"$(find "$(dirname "$dir")" -maxdepth 1 -name ".$(basename "$dir").berth-stage-*" | wc -l)" 0
	same "$name: no image recorded" \
		"$(jget 'len(j["manifests"])' "$store/index.json" 2>/dev/null || echo 0)" 0
}

# --- a layer whose tar is not the config's diff ID ---------------------------
run "$BERTH" --root "$T/s2" pull --unpack "$T/d2" "$REG/test/diffid:v1"
want=$(jget "j['images'][0]['layers'][1]['diff_id']" "$T/img.json")
said=$(jget "j['images'][0]['layers'][0]['diff_id']" "$T/img.json")
check "a layer whose tar differs from the config's diff_ids" 11 \
	"^berth: layer 2 \(${l2:0:19}\): its content is $want, but the config's rootfs.diff_ids says $said$"
no_trace "diff ID mismatch" "$T/d2" "$T/s2"
expect "diff ID mismatch: the (correct) blobs are stored" \
	test -f "$T/s2/blobs/sha256/${l2#sha256:}"

# --- a truncated layer ---------------------------------------------------------
t2=$(python3 -c 'import json,sys
idx = json.load(open(sys.argv[1] + "/index.json"))
d = [m["digest"] for m in idx["manifests"]
     if m["annotations"]["org.opencontainers.image.ref.name"] == "truncate"][0]
print(json.load(open(sys.argv[1] + "/blobs/sha256/" + d[7:]))["layers"][1]["digest"])' "$T/src")
run "$BERTH" --root "$T/s3" pull --unpack "$T/d3" "$REG/test/truncate:v1"
check "a truncated layer" 10 \
	"^berth: layer 2 \(${t2:0:19}\): gzip layer is truncated: it ends inside member 1$"
no_trace "truncated layer" "$T/d3" "$T/s3"

# --- a download cut off ----------------------------------------------------------
run "$BERTH" --root "$T/s4" pull --unpack "$T/d4" "$HOSTILE/hostile/cutoff:v1"
check "a download cut off" 8 "^berth: download of blob 'sha256:[0-9a-f]{64}' from '$HOSTILE' was cut off after [0-9]+ of [0-9]+ bytes$"
no_trace "cut off" "$T/d4" "$T/s4"

# --- a full disk ---------------------------------------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v mkfs.ext4 >/dev/null || ! losetup -f >/dev/null; then
	fail "a loop-mounted file system is available" \
		"needs root, mkfs.ext4 (scripts/install-deps.sh) and a free loop device (losetup -f)"
else
	mkdir -p "$MNT"
	truncate -s 8M "$T/fs.img"
	if mkfs.ext4 -q -F -m 0 "$T/fs.img" && mount -o loop "$T/fs.img" "$MNT"; then
		mounted=1
		# The store has room; DIR's file system does not (10 MB of files).
		run "$BERTH" --root "$T/s5" pull --unpack "$MNT/d5" "$REG/test/good:v1"
		check "a full disk" 13 \
			"^berth: layer [23] \(sha256:[0-9a-f]{12}\): entry '[a-z/]+': writing: no space left on the file system$" \
			"^hint: free space on the destination's file system, or unpack elsewhere$"
		expect "full disk: DIR does not exist" test ! -e "$MNT/d5"
		same "full disk: the staging directory is removed" \
			"$(find "$MNT" -mindepth 1 -maxdepth 1 -name '.d5.berth-stage-*' | wc -l)" 0
		same "full disk: no image recorded" \
			"$(jget 'len(j["manifests"])' "$T/s5/index.json" 2>/dev/null || echo 0)" 0
		unmount
	else
		fail "an 8 MiB ext4 image mounts" "mkfs.ext4 or mount -o loop failed"
	fi
fi

# --- kill -9 in the middle, then a run that succeeds ---------------------------------
# hostile/slow sends its 4 MiB layer at about 1 MB/s: the staging directory
# has the first entries long before the end.
staged() {
	local s
	for s in "$T"/.d6.berth-stage-*; do
		[ -d "$s" ] && [ -n "$(ls -A "$s")" ] && return 0
	done
	return 1
}
"$BERTH" --root "$T/s6" pull --unpack "$T/d6" "$HOSTILE/hostile/slow:v1" >"$T/kill.out" 2>&1 &
pid=$!
if wait_for 120 staged; then
	ok "kill -9: the staging directory fills while the layer downloads"
else
	fail "kill -9: the staging directory fills while the layer downloads" "$(cat "$T/kill.out")"
fi
kill -9 "$pid"
wait "$pid" 2>/dev/null
expect "kill -9: DIR does not exist" test ! -e "$T/d6"
run "$BERTH" --root "$T/s6" pull --unpack "$T/d6" "$HOSTILE/hostile/slow:v1"
check "kill -9: the next run succeeds" 0 "Unpacked into $T/d6"
same "kill -9: no staging directory is left" \
	"$(find "$T" -maxdepth 1 -name '.d6.berth-stage-*' | wc -l)" 0
run "$BERTH" --root "$T/s7" pull "$HOSTILE/hostile/slow:v1"
check "kill -9: a plain pull of the same image" 0
run "$BERTH" --root "$T/s7" unpack "$HOSTILE/hostile/slow:v1" "$T/d7"
check "kill -9: ... and berth unpack" 0
run python3 "$TOOLS/tree_diff.py" "$T/d7" "$T/d6"
check "kill -9: the re-run's tree is the image's" 0

# --- a blob that differs from its digest ------------------------------------
# Last, as the images share the blob. The registry stores blobs by digest
# and serves them as they are: flip a
# byte of layer 2's gzip header (its mtime), which inflates as well as ever,
# so only the digest tells.
f=$REG_DIR/data/docker/registry/v2/blobs/sha256/${l2:7:2}/${l2#sha256:}/data
[ -f "$f" ] || bail "no blob file '$f' in the registry's storage"
python3 - "$f" <<'PY' || bail "cannot corrupt the blob"
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[4] ^= 0xff
open(p, "wb").write(bytes(b))
PY
run "$BERTH" --root "$T/s1" pull --unpack "$T/d1" "$REG/test/corrupt:v1"
check "a layer that differs from its digest" 11 \
	"^berth: registry '$REG' sent bad data: digest mismatch for blob '$l2': content is sha256:[0-9a-f]{64}$"
no_trace "digest mismatch" "$T/d1" "$T/s1"
expect "digest mismatch: the bad blob is not stored" \
	test ! -e "$T/s1/blobs/sha256/${l2#sha256:}"

done_testing

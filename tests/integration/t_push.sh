#!/usr/bin/env bash
# berth import and berth push to docker-registry, checked with skopeo
# inspect / skopeo copy back; HEAD before upload; cross-repository mount.
. tests/integration/lib.sh
. tests/integration/registry.sh

registry_start
S=$T/store

# digest_re DIGEST: matches DIGEST in a logged URL, ':' encoded or not.
digest_re() {
	echo "sha256(:|%3[Aa])${1#sha256:}"
}

# A rootfs: a few generated files, as a plain and as a gzip tarball.
mkdir -p "$T/rootfs/etc" "$T/rootfs/usr/bin" "$T/rootfs/srv/data"
echo "berth-test" >"$T/rootfs/etc/hostname"
printf '#!/bin/sh\necho hello\n' >"$T/rootfs/usr/bin/hello"
chmod 755 "$T/rootfs/usr/bin/hello"
head -c 200000 /dev/urandom >"$T/rootfs/srv/data/random.bin"
seq 1 20000 >"$T/rootfs/srv/data/numbers.txt"
ln -s ../etc/hostname "$T/rootfs/srv/hostname-link"
tar -C "$T/rootfs" --owner=0 --group=0 --numeric-owner -cf "$T/rootfs.tar" .
tar -C "$T/rootfs" --owner=0 --group=0 --numeric-owner -czf "$T/rootfs.tar.gz" .
tar_sha=sha256:$(sha256sum <"$T/rootfs.tar" | cut -c1-64)
tgz_diff=sha256:$(gunzip -c "$T/rootfs.tar.gz" | sha256sum | cut -c1-64)

# --- import ----------------------------------------------------------------
IMP=$REG/test/imported:v1
run "$BERTH" --root "$S" import "$T/rootfs.tar" "$IMP"
check "import plain tarball" 0 "^sha256:[0-9a-f]{64}$"
imp_digest=$(tail -n1 <<<"$OUT")
same "import: index.json entry points at the printed digest" \
	"$(storecheck entry "$S" "$IMP" | jget 'j["digest"]' 2>&1)" "$imp_digest"
store_consistent "import: store consistent" "$S"
man=$S/blobs/sha256/${imp_digest#sha256:}
if [ -f "$man" ]; then
	same "import: one gzip layer, OCI media types" \
		"$(jget '[j["mediaType"], j["config"]["mediaType"], len(j["layers"]), j["layers"][0]["mediaType"]]' "$man")" \
		"$(printf '%s\n' application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.config.v1+json 1 \
			application/vnd.oci.image.layer.v1.tar+gzip)"
	cfg=$S/blobs/sha256/$(jget 'j["config"]["digest"][7:]' "$man")
	same "import: config has the tarball's diff_id and the host platform" \
		"$(jget '[j["rootfs"]["type"]] + j["rootfs"]["diff_ids"] + [j["os"], j["architecture"]]' "$cfg" 2>&1)" \
		"$(printf '%s\n' layers "$tar_sha" linux "$HOST_ARCH")"
	layer=$S/blobs/sha256/$(jget 'j["layers"][0]["digest"][7:]' "$man")
	same "import: the layer is the tarball, gzip-compressed" \
		"sha256:$(gunzip -c "$layer" | sha256sum | cut -c1-64)" "$tar_sha"
else
	fail "import: manifest blob stored" "$man missing"
fi

run "$BERTH" --root "$S" import "$T/rootfs.tar.gz" "$REG/test/imported:gz"
check "import gzip tarball" 0 "^sha256:[0-9a-f]{64}$"
gz_digest=$(tail -n1 <<<"$OUT")
same "import gzip tarball: index.json entry points at the printed digest" \
	"$(storecheck entry "$S" "$REG/test/imported:gz" | jget 'j["digest"]' 2>&1)" "$gz_digest"
run "$BERTH" --root "$S" inspect "$REG/test/imported:gz"
same "import gzip tarball: diff_id of the uncompressed tar" \
	"$RC:$(jget 'j[0]["RootFS"]["Layers"]' <<<"$OUT" 2>&1)" "0:$tgz_diff"

# --- push --------------------------------------------------------------------
m=$(reg_mark)
run "$BERTH" --root "$S" push "$IMP"
man_size=$(stat -c %s "$man" 2>/dev/null)
imp_layer=$(jget 'j["layers"][0]["digest"]' "$man" 2>/dev/null)
check "push imported image" 0 "^$(short "$imp_layer"): Pushed$" \
	"^v1: digest: $imp_digest size: $man_size$"
same "push: last line is the digest line" "$(tail -n1 <<<"$OUT")" "v1: digest: $imp_digest size: $man_size"
run skopeo_ inspect --tls-verify=false "docker://$IMP"
same "push: skopeo inspect sees the same digest and layer" \
	"$RC:$(jget '[j["Digest"]] + j["Layers"]' <<<"$OUT" 2>&1)" "0:$(printf '%s\n' "$imp_digest" "$imp_layer")"
skopeo_ inspect --tls-verify=false --raw "docker://$IMP" >"$T/raw.json"
if cmp -s "$T/raw.json" "$man"; then
	ok "push: registry serves the manifest byte for byte"
else
	fail "push: registry serves the manifest byte for byte" "differs from $man"
fi
same "push: config and layer uploaded whole (no PATCH)" \
	"$(reg_since "$m" | grep -cE '"PATCH /v2/test/imported/blobs/uploads/'):$(reg_since "$m" | grep -E '"(PUT|POST) /v2/test/imported/blobs/uploads/[^ ]*digest=' | grep -cE '" 201 ')" \
	"0:2"

run skopeo_ copy --src-tls-verify=false "docker://$IMP" "oci:$T/back:v1"
check "push: skopeo copy back" 0
same "push: copied-back blobs are the pushed ones" \
	"$(ls "$T/back/blobs/sha256" 2>&1 | sort)" \
	"$(printf '%s\n' "$imp_digest" "$(jget 'j["config"]["digest"]' "$man" 2>&1)" "$imp_layer" | sed 's/^sha256://' | sort)"
mkdir -p "$T/extracted"
if [ -n "$imp_layer" ] && tar -C "$T/extracted" -xzf "$T/back/blobs/sha256/${imp_layer#sha256:}" &&
	diff -r "$T/rootfs" "$T/extracted" >/dev/null; then
	ok "push: layer unpacks to the original files"
else
	fail "push: layer unpacks to the original files" "$(diff -r "$T/rootfs" "$T/extracted" 2>&1 | head -n 3)"
fi

# --- re-push: HEAD finds every blob, nothing uploaded -----------------------------
m=$(reg_mark)
run "$BERTH" --root "$S" push "$IMP"
check "re-push: layers already exist" 0 "^$(short "$imp_layer"): Layer already exists$" \
	"^v1: digest: $imp_digest size: $man_size$"
same "re-push: no upload request" \
	"$RC:$(reg_since "$m" | grep -cE '"(POST|PUT|PATCH) /v2/[^ ]+/blobs/')" "0:0"
if reg_since "$m" | grep -qE "\"HEAD /v2/test/imported/blobs/$(digest_re "$imp_layer") "; then
	ok "re-push: HEAD asked for the layer"
else
	fail "re-push: HEAD asked for the layer" "no HEAD of $imp_layer in the access log"
fi

# --- cross-repository mount ----------------------------------------------------
OTHER=$REG/test/other:v1
run "$BERTH" --root "$S" tag "$IMP" "$OTHER"
check "tag for another repository" 0
m=$(reg_mark)
run "$BERTH" --root "$S" push "$OTHER"
check "push to another repository mounts the layer" 0 \
	"^$(short "$imp_layer"): Mounted from test/imported$" "^v1: digest: $imp_digest size: $man_size$"
same "mount: registry saw POST ?mount=&from= answered 201" \
	"$(reg_since "$m" | grep -E "\"POST /v2/test/other/blobs/uploads/\?[^ ]*mount=$(digest_re "$imp_layer")" | grep -cE '" 201 ')" 1
same "mount: no layer bytes uploaded" \
	"$RC:$(reg_since "$m" | grep -cE "\"(PUT|PATCH) /v2/test/other/blobs/uploads/[^ ]*digest=$(digest_re "$imp_layer")")" "0:0"
run skopeo_ inspect --tls-verify=false "docker://$OTHER"
same "mount: skopeo inspect of the mounted image" "$RC:$(jget 'j["Digest"]' <<<"$OUT" 2>&1)" "0:$imp_digest"

# --- a pulled multi-layer image pushed to a second registry -------------------------
REG1=$REG
mkimage "$T/src" --tag three --seed push-three --layer 16k --layer 32k --layer 64k >"$T/three.json"
skopeo_push "$T/src" three "$REG1/test/three:v1"
three_digest=$(jget 'j["digest"]' "$T/three.json")
run "$BERTH" --root "$S" pull -q "$REG1/test/three:v1"
check "pull an image to re-push elsewhere" 0
registry_start
REG2=$REG
run "$BERTH" --root "$S" tag "$REG1/test/three:v1" "$REG2/copy/three:v2"
check "tag for a second registry" 0
run "$BERTH" --root "$S" push "$REG2/copy/three:v2"
want=$(for d in $(jget '[l["digest"] for l in j["images"][0]["layers"]]' "$T/three.json"); do
	echo "^$(short "$d"): Pushed$"
done)
mapfile -t pats <<<"$want"
check "push to a second registry: every layer pushed" 0 "${pats[@]}" \
	"^v2: digest: $three_digest size: $(jget 'j["size"]' "$T/three.json")$"
run skopeo_ copy --src-tls-verify=false "docker://$REG2/copy/three:v2" "oci:$T/back2:v2"
check "push to a second registry: skopeo copy back" 0
same "push to a second registry: same blobs as the source image" \
	"$(ls "$T/back2/blobs/sha256" | sort)" \
	"$(jget '[j["digest"], j["images"][0]["config"]["digest"]] + [l["digest"] for l in j["images"][0]["layers"]]' "$T/three.json" | sed 's/^sha256://' | sort)"

# --- failures ------------------------------------------------------------------------
before=$(storecheck snapshot "$S")
run "$BERTH" --root "$S" push "$REG1/test/not-here:v1"
check "push of an image not in the store" 4 "not found|$REG1/test/not-here"
dead=127.0.0.1:$(free_port)
run "$BERTH" --root "$S" tag "$IMP" "$dead/test/x:v1"
run "$BERTH" --root "$S" push "$dead/test/x:v1"
check "push to a registry not listening" 8 "[Cc]onnection refused" "$dead"
run "$BERTH" --root "$S" rmi "$dead/test/x:v1"
run "$BERTH" --root "$S" import "$T/rootfs.tar" "$REG1/Bad/Name:v1"
check "import with an invalid reference" 3 "invalid reference"
# Like docker import: "open FILE: no such file or directory"; a local file
# system failure is EIO.
run "$BERTH" --root "$S" import "$T/no-such.tar" "$REG1/test/x:v1"
check "import of a missing file" 13 "no-such\.tar" "[Nn]o such file"
same "failed pushes and imports left index.json alone" "$(storecheck snapshot "$S")" "$before"
store_consistent "store consistent at the end" "$S"

done_testing

#!/usr/bin/env bash
# Images addressed with sha512 digests: pushed to berth serve with curl,
# pulled with berth, verified on disk with sha512sum.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

serve_start || { echo "not ok - fixture: berth serve did not start"; exit 1; }

# A layer, a config and a manifest whose descriptors all use sha512.
python3 - "$T/img" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
os.makedirs(out)
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as tar:
    data = os.urandom(200000)
    info = tarfile.TarInfo("data.bin"); info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
layer = gzip.compress(raw.getvalue(), mtime=0)
d512 = lambda b: "sha512:" + hashlib.sha512(b).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": [
        "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()]}}).encode()
manifest = json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": d512(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": d512(layer), "size": len(layer)}]}).encode()
for name, b in (("layer", layer), ("config", config), ("manifest", manifest)):
    open(os.path.join(out, name), "wb").write(b)
    open(os.path.join(out, name + ".digest"), "w").write(d512(b))
PY
for b in layer config; do
	d=$(cat "$T/img/$b.digest")
	st=$(http_status POST "$SRV_URL/v2/s512/app/blobs/uploads/?digest=$d" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$T/img/$b")
	same "sha512 $b upload" "$st" 201
done
same "sha512 manifest upload" "$(put_manifest s512/app v1 "$T/img/manifest")" 201

run "$BERTH" --root "$T/store" pull "$SRV_HOST/s512/app:v1"
check "pull of a sha512 image (manifest addressed by sha256, blobs by sha512)" 0 "Pull complete" "Digest: sha256:"
layer=$(cat "$T/img/layer.digest")
f=$T/store/blobs/sha512/${layer#sha512:}
[ -f "$f" ] && [ "sha512:$(sha512sum "$f" | cut -d' ' -f1)" = "$layer" ] &&
	ok "the layer is stored under blobs/sha512 with its content" ||
	fail "the layer is stored under blobs/sha512 with its content" "$(ls -R "$T/store/blobs")"
run "$BERTH" --root "$T/store" fsck
check "fsck verifies sha512 blobs" 0 "checked 3 blobs: 0 problems"

done_testing

#!/usr/bin/env bash
# Non-distributable (foreign) layers: the registry does not hold them, their
# descriptor's `urls` say where they are (here a server on 127.0.0.1 the
# test starts). berth pull refuses them unless the registry is listed in
# allow-nondistributable-artifacts, then fetches them from their URLs and
# checks their digest; berth pull --unpack unpacks them.
. tests/integration/lib.sh
. tests/integration/registry.sh

# docker-registry refuses layer URLs unless told which to accept.
REGISTRY_EXTRA_YML='validation:
  manifests:
    urls:
      allow:
        - "^http://127[.]0[.]0[.]1:"' registry_start
export BERTH_CONFIG=$T/berth.json
echo '{}' >"$BERTH_CONFIG"

# The layer (one file), served over HTTP from $T/www.
mkdir -p "$T/www"
WWW_PORT=$(free_port)
bg python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$WWW_PORT" \
	>"$T/www.log" 2>&1
wait_http "http://127.0.0.1:$WWW_PORT/" || bail "the layer server did not start"
URL=http://127.0.0.1:$WWW_PORT/layer.tar.gz

# Pushes an image whose only layer is foreign (its blob never reaches the
# registry) and prints the layer's digest.
python3 - "$REG" "$T/www/layer.tar.gz" "$URL" >"$T/layer.digest" <<'EOF' || bail "pushing the image failed"
import gzip, hashlib, io, json, sys, tarfile, urllib.request

reg, path, url = sys.argv[1:4]
tar = io.BytesIO()
with tarfile.open(fileobj=tar, mode="w", format=tarfile.PAX_FORMAT) as t:
    data = b"from a foreign layer\n"
    info = tarfile.TarInfo("etc/foreign.txt")
    info.size, info.mtime = len(data), 1704067200
    t.addfile(info, io.BytesIO(data))
raw = tar.getvalue()
gz = gzip.compress(raw, mtime=0)
open(path, "wb").write(gz)
dig = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": [dig(raw)]}}).encode()

def req(method, u, body=b"", ctype=None):
    r = urllib.request.Request("http://%s%s" % (reg, u), data=body, method=method)
    if ctype:
        r.add_header("Content-Type", ctype)
    return urllib.request.urlopen(r)

# The config: an upload started, then completed with one PUT.
loc = req("POST", "/v2/fx/app/blobs/uploads/").headers["Location"]
loc = loc.split(reg, 1)[-1]
req("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + dig(config),
    config, "application/octet-stream")
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": dig(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                "digest": dig(gz), "size": len(gz), "urls": [url]}]}).encode()
req("PUT", "/v2/fx/app/manifests/v1", manifest,
    "application/vnd.oci.image.manifest.v1+json")
print(dig(gz))
EOF
LAYER=$(cat "$T/layer.digest")
REF=$REG/fx/app:v1
MT_RE='application/vnd\.oci\.image\.layer\.nondistributable\.v1\.tar\+gzip'

# --- refused by default ---------------------------------------------------
run "$BERTH" --root "$T/s1" pull --unpack "$T/d1" "$REF"
check "a foreign layer is refused by default" 14 \
	"^berth: layer '$LAYER' is non-distributable \\(foreign, '$MT_RE'\\): berth fetches it from its URLs \\($URL\\) only when allowed$" \
	"^hint: if you trust where it comes from, add '$REG' to allow-nondistributable-artifacts in berth's config file, then pull again$"
expect "refused: DIR not made" test ! -e "$T/d1"
same "refused: no image recorded" "$(storecheck refs "$T/s1")" ""
expect "refused: nothing fetched from the URL" sh -c '! grep -q "GET /layer.tar.gz" "$1"' - "$T/www.log"

# --- allowed: fetched from its URL, digest-verified, unpacked ---------------
echo "{\"allow-nondistributable-artifacts\": [\"$REG\"]}" >"$BERTH_CONFIG"
run "$BERTH" --root "$T/s2" pull --unpack "$T/d2" "$REF"
check "allowed: pull --unpack of a foreign layer" 0 "^Unpacked into $T/d2: 1 layers"
same "allowed: the file from the foreign layer" "$(cat "$T/d2/etc/foreign.txt")" "from a foreign layer"
expect "allowed: the layer came from its URL" grep -q "GET /layer.tar.gz" "$T/www.log"
expect "allowed: the layer is in the store" test -f "$T/s2/blobs/sha256/${LAYER#sha256:}"
same "allowed: the image is recorded" "$(storecheck refs "$T/s2")" "$REF"
run "$BERTH" --root "$T/s2" unpack "$REF" "$T/d2b"
check "allowed: berth unpack of the stored image" 0
same "allowed: the same file" "$(cat "$T/d2b/etc/foreign.txt")" "from a foreign layer"

# --- allowed, but the URL serves other bytes: refused by digest ------------
mv "$T/www/layer.tar.gz" "$T/layer.tar.gz.good"
echo "not the layer" | gzip >"$T/www/layer.tar.gz"
run "$BERTH" --root "$T/s3" pull --unpack "$T/d3" "$REF"
check "other bytes at the URL are refused" 11 "digest mismatch for blob '$LAYER'|is truncated"
expect "other bytes: DIR not made" test ! -e "$T/d3"
expect "other bytes: the blob is not stored" test ! -e "$T/s3/blobs/sha256/${LAYER#sha256:}"
same "other bytes: no image recorded" "$(storecheck refs "$T/s3")" ""

done_testing

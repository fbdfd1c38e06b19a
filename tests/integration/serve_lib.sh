# Helpers for the `berth serve` integration tests. Source it after lib.sh.
#
#   serve_start [FLAGS...]   start berth serve on a free 127.0.0.1 port with
#                            storage $T/reg (or $SRV_STORAGE if set); sets
#                            SRV_PID SRV_PORT SRV_HOST SRV_URL SRV_STORAGE;
#                            $BERTH_SERVE_EXTRA adds flags (words) to every
#                            start, e.g. "--metadata postgres://..."
#   serve_stop               SIGTERM it and wait
#   make_layout DIR TAG SEED [SIZE...]
#                            write an OCI image layout with one gzip layer
#                            per SIZE (bytes of generated file content)
#   push_blob REPO FILE      monolithic POST upload; prints the digest
#   put_manifest REPO REF FILE [MEDIATYPE]   prints the HTTP status
#   store_fsck DIR           every blob file under DIR/blobs matches its name
#   http_status METHOD URL [CURL ARGS...]    prints the status code only

SRV_CURL=(curl -s --max-time 60)

serve_start() {
	SRV_PORT=$(free_port)
	SRV_HOST=127.0.0.1:$SRV_PORT
	: "${SRV_STORAGE:=$T/reg}"
	local scheme=http
	case " $* " in *" --tls-cert "*) scheme=https ;; esac
	SRV_URL=$scheme://$SRV_HOST
	# shellcheck disable=SC2086
	bg "$BERTH" serve --addr "$SRV_HOST" --storage "$SRV_STORAGE" \
		--access-log "$T/access.log" ${BERTH_SERVE_EXTRA:-} \
		"$@" 2>>"$T/serve.log"
	SRV_PID=$BG_PID
	local end=$((SECONDS + 120))
	until curl -sk -o /dev/null "$SRV_URL/v2/"; do
		if ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "berth serve exited; log:" >&2
			tail -n 20 "$T/serve.log" >&2
			return 1
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			echo "berth serve did not come up on $SRV_URL" >&2
			return 1
		fi
		sleep 0.1
	done
}

serve_stop() {
	kill -TERM "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_RC=$?
}

http_status() {
	local method=$1 url=$2
	shift 2
	"${SRV_CURL[@]}" -k -o "$T/.body" -D "$T/.headers" -w '%{http_code}' \
		-X "$method" "$@" "$url"
}

# The value of a header of the last http_status call.
last_header() {
	grep -i "^$1:" "$T/.headers" | tail -n1 | cut -d' ' -f2- | tr -d '\r'
}

last_body() { cat "$T/.body"; }

sha256_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

push_blob() {
	local repo=$1 file=$2 d
	d=$(sha256_of "$file")
	"${SRV_CURL[@]}" -k -o /dev/null -X POST --data-binary "@$file" \
		-H 'Content-Type: application/octet-stream' \
		"$SRV_URL/v2/$repo/blobs/uploads/?digest=$d" || return 1
	echo "$d"
}

put_manifest() {
	local repo=$1 ref=$2 file=$3
	local mt=${4:-application/vnd.oci.image.manifest.v1+json}
	http_status PUT "$SRV_URL/v2/$repo/manifests/$ref" \
		-H "Content-Type: $mt" --data-binary "@$file"
}

# push_layout REPO TAG DIR MANIFEST: pushes the blobs of the layout DIR
# (make_layout's), then its manifest MANIFEST as TAG; prints the PUT's status.
push_layout() {
	local repo=$1 tag=$2 dir=$3 m=$4 f
	for f in "$dir"/blobs/sha256/*; do
		[ "sha256:$(basename "$f")" = "$m" ] && continue
		push_blob "$repo" "$f" >/dev/null
	done
	put_manifest "$repo" "$tag" "$dir/blobs/sha256/${m#sha256:}"
}

# store_fsck DIR: prints the blobs whose content does not match their name.
store_fsck() {
	local dir=$1 f alg want got bad=0
	while IFS= read -r f; do
		alg=$(basename "$(dirname "$(dirname "$f")")")
		want=$(basename "$f")
		got=$("${alg}sum" "$f" | cut -d' ' -f1)
		if [ "$got" != "$want" ]; then
			echo "corrupt blob: $f" >&2
			bad=1
		fi
	done < <(find "$dir/blobs" -type f)
	return $bad
}

make_layout() {
	python3 - "$@" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile

out, tag, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
sizes = [int(s) for s in sys.argv[4:]] or [4096]
rnd = random.Random(seed)
os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)

def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d

layers, diffs = [], []
for i, size in enumerate(sizes):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        content = rnd.randbytes(size)
        info = tarfile.TarInfo("layer%d/file-%d.bin" % (i, seed))
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        t.addfile(info, io.BytesIO(content))
    raw = buf.getvalue()
    gz = gzip.compress(raw, compresslevel=1, mtime=0)
    diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": put(gz), "size": len(gz)})
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["SEED=%d" % seed]},
    "rootfs": {"type": "layers", "diff_ids": diffs},
}, sort_keys=True).encode()
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": put(config), "size": len(config)},
    "layers": layers,
}, sort_keys=True).encode()
md = put(manifest)
index_path = os.path.join(out, "index.json")
index = {"schemaVersion": 2, "manifests": []}
if os.path.exists(index_path):
    index = json.load(open(index_path))
index["manifests"] = [m for m in index["manifests"]
                      if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
index["manifests"].append({
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": md, "size": len(manifest),
    "annotations": {"org.opencontainers.image.ref.name": tag}})
json.dump(index, open(index_path, "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))
print(md)
PY
}

# sk ARGS...: skopeo with a policy of its own (never /etc/containers).
sk() {
	if [ ! -f "$T/sk-policy.json" ]; then
		printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$T/sk-policy.json"
	fi
	skopeo --policy "$T/sk-policy.json" "$@"
}

# blob_names DIR: the sorted blob file names of an OCI layout.
blob_names() { ls "$1/blobs/sha256" | sort; }

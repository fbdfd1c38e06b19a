#!/usr/bin/env bash
# daemon.json's push settings: max-concurrent-uploads bounds how many blobs
# go up at once; foreign (non-distributable) layers are left out unless the
# registry is listed in allow-nondistributable-artifacts.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
dreg_start
# docker-registry refuses foreign layer URLs unless its configuration
# allows them: give it that, as a registry taking Windows images has.
sed -i 's|^version: 0.1$|version: 0.1\nvalidation: {manifests: {urls: {allow: ["^https://"]}}}|' "$DREG_DIR/config.yml"
kill "$BG_PID" && wait "$BG_PID" 2>/dev/null
bg /usr/bin/docker-registry serve "$DREG_DIR/config.yml" >>"$DREG_LOG" 2>>"$DREG_DIR/registry.log"
wait_http "http://$DREG/v2/" || bail "docker-registry did not restart"
mkimage "$T/img" --tag v1 --layer 16k --layer 16k --layer 16k --layer 16k --layer 16k >/dev/null ||
	bail "mkimage failed"
skopeo_push "$T/img" v1 "$DREG/up/src:v1"
run berth_ pull "$DREG/up/src:v1"
check "fixture: the image is local" 0

# A proxy that holds every blob HEAD until N are held at once (at most
# 20 s) and records how many it held at once: a client that runs N at once
# is seen doing so however slow the machine.
max_inflight() { grep -o 'inflight=[0-9]*' "$T/proxy.log" | cut -d= -f2 | sort -n | tail -n 1; }

for n in 1 3; do
	PP=$(free_port)
	: >"$T/proxy.log"
	bg python3 "$TOOLS/cut_proxy.py" "$PP" "$DREG" --cuts 0 --blob-head-delay 20 \
		--blob-head-hold "$n" --log "$T/proxy.log"
	wait_tcp "127.0.0.1:$PP" || bail "proxy did not start"
	echo "{\"max-concurrent-uploads\": $n}" >"$BERTH_DAEMON_JSON"
	run berth_ tag "$DREG/up/src:v1" "127.0.0.1:$PP/up/c$n:v1"
	run berth_ push "127.0.0.1:$PP/up/c$n:v1"
	check "push with max-concurrent-uploads $n" 0 "digest: sha256:"
	same "at most $n blob requests at once (6 blobs)" "$(max_inflight)" "$n"
done
rm -f "$BERTH_DAEMON_JSON"

# A Docker image with a foreign layer, made from the local one: its first
# layer becomes a foreign layer with a URL (never fetched here).
python3 - "$BERTH_ROOT" "$DREG/up/src:v1" "$DREG/up/foreign:v1" <<'PY' || bail "cannot make the foreign image"
import hashlib, json, os, sys
root, src, dst = sys.argv[1:]
index = json.load(open(os.path.join(root, "index.json")))
entry = next(e for e in index["manifests"]
             if e["annotations"]["org.opencontainers.image.ref.name"] == src)
blob = lambda d: os.path.join(root, "blobs", *d.split(":"))
m = json.load(open(blob(entry["digest"])))
m["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json"
m["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json"
for l in m["layers"]:
    l["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.gzip"
m["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
m["layers"][0]["urls"] = ["https://layers.example.invalid/base.tar.gz"]
body = json.dumps(m).encode()
d = "sha256:" + hashlib.sha256(body).hexdigest()
open(blob(d), "wb").write(body)
index["manifests"].append({"mediaType": m["mediaType"], "digest": d, "size": len(body),
    "annotations": {"org.opencontainers.image.ref.name": dst, "io.containerd.image.name": dst}})
json.dump(index, open(os.path.join(root, "index.json"), "w"))

PY
foreign=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][-1]["digest"])' "$BERTH_ROOT/index.json")
fl=$(python3 -c 'import json,sys; r=sys.argv[1]; d=json.load(open(r+"/index.json"))["manifests"][-1]["digest"]; print(json.load(open(r+"/blobs/"+d.replace(":","/")))["layers"][0]["digest"])' "$BERTH_ROOT")

mark=$(wc -l <"$DREG_LOG")
run berth_ push "$DREG/up/foreign:v1"
check "push of an image with a foreign layer: the layer is skipped" 0 \
	"$(short "$fl"): Skipped foreign layer" "digest: $foreign"
expect "the foreign layer was not uploaded" sh -c "! tail -n +$((mark + 1)) '$DREG_LOG' | grep -q 'blobs/uploads.*digest=$fl'"
expect "the registry holds the manifest" bash -c 'skopeo --policy "$1" inspect --raw --tls-verify=false "docker://$2" >/dev/null' bash "$T/containers/policy.json" "$DREG/up/foreign:v1"

echo "{\"allow-nondistributable-artifacts\": [\"$DREG\"]}" >"$BERTH_DAEMON_JSON"
run berth_ tag "$DREG/up/foreign:v1" "$DREG/up/foreign2:v1"
run berth_ push "$DREG/up/foreign2:v1"
check "allow-nondistributable-artifacts lists the registry: the foreign layer is pushed" 0 \
	"$(short "$fl"): (Pushed|Mounted from|Layer already exists)"
expect "... and no layer is skipped" bash -c '! grep -q "Skipped foreign layer" <<<"$1"' bash "$OUT"
rm -f "$BERTH_DAEMON_JSON"

done_testing

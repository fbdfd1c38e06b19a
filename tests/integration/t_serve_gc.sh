#!/usr/bin/env bash
# Online garbage collection of berth serve while clients push, pull and
# delete: nothing a client was told exists is lost, every surviving tag
# pulls byte-exact, and once the grace period is over the storage holds
# exactly the bytes the surviving manifests reference.
# 200 images through four clients take 13 minutes on a busy two-CPU
# machine:
# timeout: 2400
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

N=${GC_IMAGES:-200} # images; half are deleted
CFG=$T/serve.json
printf '{"gc-grace": "20s", "log-level": "info"}\n' >"$CFG"
serve_start --config "$CFG" --audit-log "$T/audit.log" || {
	fail "serve starts" "see $T/serve.log"
	exit 1
}
H=$SRV_HOST

gc_post() { "${SRV_CURL[@]}" -X POST "$SRV_URL/admin/v1/gc$1"; }

# The digests a report lists, "kind repository digest" sorted (uploads
# and temporary files left out: they come and go with the clients).
report_items() {
	python3 -c '
import json, sys
r = json.load(sys.stdin)
for d in r["deleted"]:
    if d["kind"] in ("manifest", "blob_link", "blob"):
        print(d["kind"], d.get("repository", "-"), d["digest"])
' | sort
}

# ---- a HEAD 200, a collection, then the manifest PUT: it must stand ----

printf 'layer the pusher checks\n' >"$T/race-layer"
printf '{"architecture":"amd64","os":"linux"}' >"$T/race-config"
# Garbage the dry run and the real run must agree on.
printf 'never referenced\n' >"$T/loose"
LOOSE=$(push_blob race/other "$T/loose")
L=$(push_blob race/app "$T/race-layer")
C=$(push_blob race/app "$T/race-config")
# Each blob's grace period runs from its own push, and on a busy machine
# the pushes are seconds apart: wait until the dry run lists all three.
collectable() {
	local r
	r=$(gc_post '?dry-run=true') &&
		grep -q "$L" <<<"$r" && grep -q "$C" <<<"$r" && grep -q "$LOOSE" <<<"$r"
}
expect "the unreferenced blobs become collectable after the grace period" wait_for 300 collectable
run "${SRV_CURL[@]}" -o /dev/null -w '%{http_code}' -I "$SRV_URL/v2/race/app/blobs/$L"
check "a pusher's HEAD finds the layer" 0 '^200$'
run "${SRV_CURL[@]}" -o /dev/null -w '%{http_code}' -I "$SRV_URL/v2/race/app/blobs/$C"
check "and the config" 0 '^200$'
run gc_post '?dry-run=true'
check "after the HEAD the dry run keeps it" 0 '"dry_run":true'
DRY=$(report_items <<<"$OUT")
lacks() { ! grep -q "$1" <<<"$2"; }
expect "the dry run no longer lists the layer" lacks "$L" "$DRY"
expect "the dry run lists the loose blob" grep -q "blob_link race/other $LOOSE" <<<"$DRY"
run gc_post ''
check "a collection runs between the HEAD and the PUT" 0 '"dry_run":false'
REAL=$(report_items <<<"$OUT")
same "the real run deleted what the dry run listed" "$REAL" "$DRY"
python3 - "$C" "$L" "$T" >"$T/race-manifest" <<'PY'
import json, os, sys
c, l, t = sys.argv[1], sys.argv[2], sys.argv[3]
size = lambda p: os.path.getsize(p)
print(json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": c, "size": size(t + "/race-config")},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": l, "size": size(t + "/race-layer")}]}), end="")
PY
run put_manifest race/app v1 "$T/race-manifest"
check "the manifest PUT after the collection succeeds" 0 '^201$'
run "${SRV_CURL[@]}" -o "$T/race-got" "$SRV_URL/v2/race/app/blobs/$L"
expect "the layer pulls byte-exact" cmp -s "$T/race-got" "$T/race-layer"
expect "the collection's deletions are in the audit log as gc" \
	grep -q "\"actor\":\"gc\".*$LOOSE" "$T/audit.log"

# ---- the gc settings reload on SIGHUP ----

# The grace period must outlast every push (first blob to manifest PUT):
# small, yet generous for a busy machine.
GRACE=${GC_GRACE:-15}
printf '{"gc-grace": "%ss", "log-level": "info"}\n' "$GRACE" >"$CFG"
kill -HUP "$SRV_PID"
reloaded() { grep -q "gc-grace $GRACE s" "$T/serve.log"; }
expect "SIGHUP reloads gc-grace" wait_for 60 reloaded

# ---- 4 clients and a collection loop ----

# N small images: a base layer shared by every fifth, a layer and a
# config of their own; tags img-000...
python3 - "$T/img" "$N" >"$T/images" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out + "/blobs/sha256", exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(out + "/blobs/sha256/" + d, "wb").write(data)
    return "sha256:" + d, len(data)
def layer(name, content):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        t.addfile(info, io.BytesIO(content))
    raw = buf.getvalue()
    return put(gzip.compress(raw, compresslevel=1, mtime=0)), \
        "sha256:" + hashlib.sha256(raw).hexdigest()
rnd = random.Random(10)
bases = [layer("base/%d" % b, rnd.randbytes(3000)) for b in range(5)]
index = {"schemaVersion": 2, "manifests": []}
for i in range(n):
    (bd, bs), bdiff = bases[i % 5]
    (od, osz), odiff = layer("own/%d" % i, rnd.randbytes(500 + rnd.randrange(2000)))
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "config": {"Env": ["IMAGE=%d" % i]},
                      "rootfs": {"type": "layers", "diff_ids": [bdiff, odiff]}}).encode()
    cd, cs = put(cfg)
    lt = "application/vnd.oci.image.layer.v1.tar+gzip"
    m = json.dumps({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cd, "size": cs},
        "layers": [{"mediaType": lt, "digest": bd, "size": bs},
                   {"mediaType": lt, "digest": od, "size": osz}]}).encode()
    md, ms = put(m)
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": md, "size": ms,
        "annotations": {"org.opencontainers.image.ref.name": "img-%03d" % i}})
    print("img-%03d %s %s %s %s" % (i, md, cd, bd, od))
json.dump(index, open(out + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(out + "/oci-layout", "w"))
PY
expect "the images are generated" test "$(wc -l <"$T/images")" -eq "$N"

# Each client appends what went wrong to its own file.
mkdir -p "$T/fail" "$T/pulled"
HALF=$((N / 2))
tag_of() { printf 'img-%03d' "$1"; }
digest_of() { awk -v t="$(tag_of "$1")" '$1 == t {print $2}' "$T/images"; }

# 1. skopeo pushes the first half to gc/sk and pulls every fourth back.
client_skopeo() {
	local i t
	for ((i = 0; i < HALF; i++)); do
		t=$(tag_of $i)
		sk copy -q --dest-tls-verify=false "oci:$T/img:$t" "docker://$H/gc/sk:$t" \
			>/dev/null 2>>"$T/fail/skopeo.err" || echo "push $t" >>"$T/fail/skopeo"
		((i % 4 == 0)) && { sk copy -q --src-tls-verify=false "docker://$H/gc/sk:$t" \
			"oci:$T/pulled/sk:$t" >/dev/null 2>>"$T/fail/skopeo.err" ||
			echo "pull $t" >>"$T/fail/skopeo"; }
		touch "$T/pulled/$t.done"
	done
}

# 2. curl pushes the second half to gc/curl as docker does: HEAD each
# blob, upload only what is missing, then the manifest.
client_curl() {
	local i t d code
	for ((i = HALF; i < N; i++)); do
		t=$(tag_of $i)
		read -r _ m c b o < <(grep "^$t " "$T/images")
		for d in "$c" "$b" "$o"; do
			code=$("${SRV_CURL[@]}" -o /dev/null -w '%{http_code}' -I "$SRV_URL/v2/gc/curl/blobs/$d")
			[ "$code" = 200 ] && continue
			code=$("${SRV_CURL[@]}" -o /dev/null -w '%{http_code}' -X POST \
				--data-binary "@$T/img/blobs/sha256/${d#sha256:}" \
				-H 'Content-Type: application/octet-stream' \
				"$SRV_URL/v2/gc/curl/blobs/uploads/?digest=$d")
			[ "$code" = 201 ] || echo "blob $t $d: $code" >>"$T/fail/curl"
		done
		code=$(put_manifest gc/curl "$t" "$T/img/blobs/sha256/${m#sha256:}")
		[ "$code" = 201 ] || echo "manifest $t: $code $(last_body)" >>"$T/fail/curl"
		touch "$T/pulled/$t.done"
	done
}

# 3. berth pulls odd images of gc/sk as they appear and pushes them to
# gc/berth (its blobs HEAD-checked or mounted).
client_berth() {
	local i t
	for ((i = 1; i < HALF; i += 2)); do
		t=$(tag_of $i)
		wait_for 600 "${SRV_CURL[@]}" -fso /dev/null -I "$SRV_URL/v2/gc/sk/manifests/$t" ||
			{ echo "never pushed $t" >>"$T/fail/berth"; continue; }
		{ "$BERTH" --root "$T/bstore" pull -q "$H/gc/sk:$t" &&
			"$BERTH" --root "$T/bstore" tag "$H/gc/sk:$t" "$H/gc/berth:$t" &&
			"$BERTH" --root "$T/bstore" push "$H/gc/berth:$t"; } \
			>/dev/null 2>>"$T/fail/berth.err" || echo "copy $t" >>"$T/fail/berth"
	done
}

# 4. curl deletes the even images, by digest, once their client is done
# with them (skopeo pulls each right after its push).
client_delete() {
	local i t repo code
	for ((i = 0; i < N; i += 2)); do
		t=$(tag_of $i)
		repo=gc/sk
		[ "$i" -ge "$HALF" ] && repo=gc/curl
		wait_for 600 test -e "$T/pulled/$t.done" ||
			{ echo "never pushed $t" >>"$T/fail/delete"; continue; }
		code=$("${SRV_CURL[@]}" -o /dev/null -w '%{http_code}' -X DELETE \
			"$SRV_URL/v2/$repo/manifests/$(digest_of $i)")
		[ "$code" = 202 ] || echo "delete $t: $code" >>"$T/fail/delete"
	done
}

# The collection loop: back to back, over HTTP and, now and then, from the
# shell beside the server.
gc_loop() {
	local k=0
	while [ ! -e "$T/clients-done" ]; do
		if ((k++ % 10 == 9)); then
			"$BERTH" serve gc --storage "$SRV_STORAGE" --gc-grace "${GRACE}s" \
				>/dev/null 2>>"$T/fail/gc.err" || echo "berth serve gc failed" >>"$T/fail/gc"
		else
			gc_post '' >"$T/gc-last" || echo "POST gc failed" >>"$T/fail/gc"
		fi
		echo >>"$T/gc-runs"
	done
}

bg gc_loop
GC_PID=$BG_PID
pids=()
for c in client_skopeo client_curl client_berth client_delete; do
	$c &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
touch "$T/clients-done"
wait "$GC_PID"
expect "collections ran all along ($(wc -l <"$T/gc-runs" 2>/dev/null) runs)" test -s "$T/gc-runs"
for c in skopeo curl berth delete gc; do
	same "the $c client saw no failure" "$(cat "$T/fail/$c" 2>/dev/null)" ""
done
grep -h . "$T"/fail/*.err 2>/dev/null | head -5

# ---- what survived pulls byte-exact; what was deleted is gone ----

# Surviving images: "repo tag" lines.
{
	for ((i = 1; i < HALF; i += 2)); do echo "gc/sk $(tag_of $i)"; echo "gc/berth $(tag_of $i)"; done
	for ((i = HALF; i < N; i++)); do ((i % 2)) && echo "gc/curl $(tag_of $i)"; done
} >"$T/survivors"
echo "race/app v1" >>"$T/survivors"

# skopeo sync pulls every tag of a repository, verifying every digest.
for repo in gc/sk gc/curl gc/berth; do
	run sk sync --src docker --dest dir --src-tls-verify=false "$H/$repo" "$T/sync/$repo"
	check "skopeo pulls every surviving tag of $repo (digests verified)" 0
done
run python3 - "$T/sync" "$T/images" "$T/survivors" <<'PY'
import hashlib, os, sys
sync, images, survivors = sys.argv[1:4]
digest = {l.split()[0]: l.split()[1] for l in open(images)}
want = sorted("%s %s" % (digest[t], t) for r, t in (l.split() for l in open(survivors))
              if r != "race/app")
got = []
for root, dirs, files in os.walk(sync):
    if "manifest.json" in files:
        d = "sha256:" + hashlib.sha256(open(os.path.join(root, "manifest.json"), "rb").read()).hexdigest()
        got.append("%s %s" % (d, root.rsplit(":", 1)[1]))
print("pulled", len(got), "want", len(want), "same", sorted(got) == want)
PY
check "they are exactly the surviving tags, manifests byte-exact" 0 'same True$'
bad=0
for ((i = 1; i < HALF; i += 8)); do
	"$BERTH" --root "$T/bfinal" pull -q "$H/gc/berth:$(tag_of $i)" >/dev/null 2>>"$T/final.err" || bad=$((bad + 1))
	j=$((HALF + i - HALF % 2)) # odd: a survivor
	"$BERTH" --root "$T/bfinal" pull -q "$H/gc/curl:$(tag_of $j)" >/dev/null 2>>"$T/final.err" || bad=$((bad + 1))
done
same "berth pulls surviving tags" "$bad" 0
bad=0
for ((i = 0; i < N; i += 2)); do
	repo=gc/sk
	[ "$i" -ge "$HALF" ] && repo=gc/curl
	code=$("${SRV_CURL[@]}" -o /dev/null -w '%{http_code}' "$SRV_URL/v2/$repo/manifests/$(tag_of $i)")
	[ "$code" = 404 ] || bad=$((bad + 1))
done
same "every deleted image is gone" "$bad" 0

# ---- the bytes on disk ----

# The referenced set: each survivor's manifest, config and layers.
while read -r repo t; do
	if [ "$repo" = race/app ]; then
		echo "$(sha256_of "$T/race-manifest")"
		echo "$C"
		echo "$L"
		continue
	fi
	grep "^$t " "$T/images" | cut -d' ' -f2-5 | tr ' ' '\n'
done <"$T/survivors" | sed 's/^sha256://' | sort -u >"$T/referenced"
# Every image ever pushed: what the grace period may still protect.
{
	cut -d' ' -f2-5 "$T/images" | tr ' ' '\n' | sed 's/^sha256://'
	cat "$T/referenced"
} | sort -u >"$T/pushed"
on_disk() { find "$SRV_STORAGE/blobs/sha256" -type f -printf '%f\n' | sort; }
expect "nothing referenced is missing from the disk" \
	test -z "$(comm -23 "$T/referenced" <(on_disk))"
expect "what else is on disk is what was pushed (grace-protected)" \
	test -z "$(comm -13 "$T/pushed" <(on_disk))"
bytes_of() { (cd "$SRV_STORAGE/blobs/sha256" && find . -type f -name "${1:-*}" -printf '%s\n') | awk '{s += $1} END {print s + 0}'; }
ref_bytes() { while read -r d; do stat -c %s "$SRV_STORAGE/blobs/sha256/${d:0:2}/$d"; done <"$T/referenced" | awk '{s += $1} END {print s + 0}'; }
expect "bytes on disk >= the referenced bytes" test "$(bytes_of)" -ge "$(ref_bytes)"

# Past the grace period, with no traffic: exactly the referenced set.
converged() { gc_post '' >/dev/null && [ "$(on_disk)" = "$(cat "$T/referenced")" ]; }
expect "past the grace period the disk holds exactly the referenced blobs" wait_for 300 converged
same "and exactly their bytes" "$(bytes_of)" "$(ref_bytes)"
expect "every stored blob matches its digest" store_fsck "$SRV_STORAGE"
run "${SRV_CURL[@]}" "$SRV_URL/metrics"
check "the metrics count the runs and what they freed" 0 \
	'^berth_gc_runs_total\{result="ok"\} [1-9]' '^berth_gc_deleted_total\{kind="blob"\} [1-9]' \
	'^berth_gc_freed_bytes_total [1-9]' '^berth_gc_last_run_duration_seconds '
expect "no upload session is left over" test -z "$(ls "$SRV_STORAGE/uploads")"
serve_stop
same "the server stops cleanly" "$SRV_RC" 0
done_testing

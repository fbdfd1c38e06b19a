#!/usr/bin/env bash
# berth save and berth load against real peers: skopeo's docker-archive:
# and oci-archive: outputs load into berth and berth's archives are read by
# skopeo; berth save output loads into dockerd 20.10 with the right image
# ID, docker save output loads into berth with the same diff IDs; save ->
# load -> push keeps the digests the format can keep; damaged archives are
# refused with one message each and the store left as it was.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/docker_lib.sh

registry_start
S=$T/store
b() { "$BERTH" --root "$S" "$@"; }

for c in save load; do
	run "$BERTH" "$c" --help
	check "$c --help" 0 "^Usage: berth $c " "--quiet"
done
run b save
check "save without an image is a usage error" 2 "^berth: expected at least one image$" "^hint: see .berth save --help."
run b load extra
check "load takes no operand" 2 "^berth: unexpected argument .extra. \(the archive is given with -i FILE\)$"
run b save --format zip -o "$T/zip.tar" x
check "save --format takes docker or oci" 2 "invalid --format 'zip': expected 'docker' or 'oci'"

# Two images sharing their base layer (same size and seed), pushed by
# skopeo, pulled by berth (layers gzip-compressed in the store).
mkimage "$T/src" --tag one --layer 20k@base --layer 30k@one --seed sl-one >/dev/null
mkimage "$T/src" --tag two --layer 20k@base --layer 40k@two --seed sl-two >/dev/null
skopeo_push "$T/src" one "$REG/sl/one:v1"
skopeo_push "$T/src" two "$REG/sl/two:v1"
ONE=$REG/sl/one:v1 TWO=$REG/sl/two:v1
run b pull -q "$ONE"
check "pull $ONE" 0
run b pull -q "$TWO"
check "pull $TWO" 0

# config_digest REF / diff_ids REF: from berth's store, read without berth.
config_digest() {
	local m
	m=$(storecheck entry "$S" "$1" | jget 'j["digest"]')
	jget 'j["config"]["digest"]' "$S/blobs/sha256/${m#sha256:}"
}
diff_ids() {
	local c
	c=$(config_digest "$1")
	jget '"\n".join(j["rootfs"]["diff_ids"])' "$S/blobs/sha256/${c#sha256:}"
}
one_id=$(config_digest "$ONE") two_id=$(config_digest "$TWO")
one_diffs=$(diff_ids "$ONE")

# snapshot STORE: what a refused load must leave unchanged (index.json,
# blobs, and no staging file left in ingest/).
snapshot() {
	storecheck snapshot "$1"
	storecheck blobs "$1"
	find "$1/ingest" -name 'blob-*' 2>/dev/null | sort
}

# --- berth save: docker-archive ---------------------------------------------
run b save -o "$T/both.tar" "$ONE" "$TWO"
check "save two images to a docker-archive" 0
tar tf "$T/both.tar" >"$T/both.list"
same "docker-archive: manifest.json, repositories, two configs" \
	"$(grep -c -e '^manifest.json$' -e '^repositories$' -e '^[0-9a-f]\{64\}\.json$' "$T/both.list")" 4
same "docker-archive: the shared base layer is written once (3 layer.tar)" \
	"$(grep -c '^[0-9a-f]\{64\}/layer.tar$' "$T/both.list")" 3
same "docker-archive: VERSION and json beside each layer.tar" \
	"$(grep -c -e '^[0-9a-f]\{64\}/VERSION$' -e '^[0-9a-f]\{64\}/json$' "$T/both.list")" 6
tar xOf "$T/both.tar" manifest.json >"$T/manifest.json"
same "manifest.json: Config, RepoTags, Layers as docker writes them" \
	"$(jget '"\n".join("%s %s %d" % (e["Config"], e["RepoTags"], len(e["Layers"])) for e in j)' "$T/manifest.json")" \
	"$(printf "%s ['%s'] 2\n" "${one_id#sha256:}.json" "$ONE" "${two_id#sha256:}.json" "$TWO")"
mkdir -p "$T/x" && tar -C "$T/x" -xf "$T/both.tar"
got=$(jget '"\n".join(j[0]["Layers"])' "$T/manifest.json" | while read -r l; do
	echo "sha256:$(sha256sum <"$T/x/$l" | cut -c1-64)"
done)
same "docker-archive: layer.tar files are the uncompressed layers (diff IDs)" "$got" "$one_diffs"
same "repositories names each image's top layer" \
	"$(jget '(lambda j: "\n".join(sorted("%s:%s %s" % (r, t, j[r][t]) for r in j for t in j[r])))(j)' "$T/x/repositories")" \
	"$(for m in "$ONE" "$TWO"; do
		echo "$m $(jget "[e for e in j if e['RepoTags'] == ['$m']][0]['Layers'][-1][:64]" "$T/manifest.json")"
	done)"

run skopeo inspect "docker-archive:$T/both.tar:$ONE"
check "skopeo inspect reads berth's docker-archive" 0
same "skopeo sees the diff IDs as the layers" \
	"$(jget '"\n".join(j["Layers"])' <<<"$OUT")" "$one_diffs"

b save "$ONE" >"$T/stdout.tar" 2>"$T/save.err"
expect "save writes to standard output without -o" tar xOf "$T/stdout.tar" manifest.json >/dev/null
same "save off a terminal: one plain progress line per layer on stderr" \
	"$(sort "$T/save.err")" \
	"$(for d in $(storecheck tree "$S" "$ONE" | tail -n +3); do echo "$(short "$d"): Saved"; done | sort)"
run bash -c "'$BERTH' --root '$S' save '$ONE' | tar t"
check "save -o - streams a readable archive" 0 'manifest.json'
run b save -o "$T/none.tar" "$REG/sl/absent:v1"
check "save of an image not in the store" 4 "image '$REG/sl/absent:v1' is not in store"
expect "a failed save leaves no output file" test ! -e "$T/none.tar"
same "a failed save leaves no temporary file" "$(ls "$T" | grep -c '^none.tar.tmp-')" 0

# --- berth save --format oci ------------------------------------------------
run b save --format oci -o "$T/one-oci.tar" "$ONE"
check "save an OCI archive" 0
tar xOf "$T/one-oci.tar" index.json >"$T/oci-index.json"
same "OCI archive: index.json names the image, manifest as stored" \
	"$(jget '"\n".join(m["digest"] + " " + m["annotations"]["org.opencontainers.image.ref.name"] for m in j["manifests"])' "$T/oci-index.json")" \
	"$(storecheck entry "$S" "$ONE" | jget 'j["digest"]') $ONE"
run skopeo copy "oci-archive:$T/one-oci.tar" "oci:$T/sk-oci:x"
check "skopeo copy oci-archive: reads berth's OCI archive" 0
same "skopeo keeps the manifest digest of berth's OCI archive" \
	"$(jget 'j["manifests"][0]["digest"]' "$T/sk-oci/index.json")" \
	"$(storecheck entry "$S" "$ONE" | jget 'j["digest"]')"

# --- berth load: skopeo's archives, berth's own -----------------------------
skopeo copy "oci:$T/src:one" "docker-archive:$T/sk-da.tar:$ONE" >/dev/null
skopeo copy "oci:$T/src:one" "oci-archive:$T/sk-oa.tar:$ONE" >/dev/null
for f in sk-da sk-oa both one-oci; do
	L=$T/load-$f
	run "$BERTH" --root "$L" load -i "$T/$f.tar"
	check "load $f.tar" 0 "^Loaded image: $ONE$"
	same "load $f.tar: the image ID is kept" \
		"$(S=$L config_digest "$ONE")" "$one_id"
	store_consistent "load $f.tar: store consistent" "$L"
done
same "loading two images from one archive names both" \
	"$("$BERTH" --root "$T/load-both" images | grep -c "$REG/sl/")" 2
run "$BERTH" --root "$T/load-gz" load -q -i <(gzip -c "$T/both.tar")
check "load a gzip-compressed archive from a pipe" 0 "^Loaded image: $ONE$" "^Loaded image: $TWO$"
run bash -c "'$BERTH' --root '$T/load-stdin' load --json <'$T/sk-oa.tar'"
check "load --json from standard input" 0 '"format":"oci"'
same "load --json names the image and its ID" \
	"$(jget '"\n".join(i["name"] + " " + i["id"] for i in j["images"])' <<<"$OUT")" "$ONE $one_id"

# docker save's archive extracted and made again with 'tar -C DIR -c .'
# ("./" names), one layer.tar gzip-compressed, as docker load takes it too.
cp -r "$T/x" "$T/retar"
l0=$(jget 'j[0]["Layers"][0]' "$T/manifest.json")
gzip -n "$T/retar/$l0" && mv "$T/retar/$l0.gz" "$T/retar/$l0"
tar -C "$T/retar" -cf "$T/retar.tar" .
run "$BERTH" --root "$T/load-retar" load -i "$T/retar.tar"
check "load an archive made again with tar -C DIR -c ., a layer gzip'ed" 0 "^Loaded image: $ONE$" "^Loaded image: $TWO$"
same "made again: the image ID and the diff IDs are kept" \
	"$(S=$T/load-retar config_digest "$ONE"; S=$T/load-retar diff_ids "$ONE")" "$one_id"$'\n'"$one_diffs"
m=$(storecheck entry "$T/load-retar" "$ONE" | jget 'j["digest"]')
same "made again: the gzip'ed layer is stored as it came, the other uncompressed" \
	"$(jget '[l["mediaType"] for l in j["layers"]]' "$T/load-retar/blobs/sha256/${m#sha256:}")" \
	"$(printf '%s\n' application/vnd.oci.image.layer.v1.tar+gzip application/vnd.oci.image.layer.v1.tar)"
store_consistent "made again: store consistent" "$T/load-retar"

# A two-platform image in an OCI archive: every platform checked, this
# machine's recorded, with the index's digest, as berth pull records it.
mkimage "$T/mp" --tag multi --platforms "linux/amd64,linux/arm64" --layer 8k --seed sl-mp >/dev/null
skopeo copy -q --all "oci:$T/mp:multi" "oci-archive:$T/mp.tar:$REG/sl/mp:v1"
run "$BERTH" --root "$T/load-mp" load -i "$T/mp.tar"
check "load a two-platform OCI archive" 0 "^Loaded image: $REG/sl/mp:v1$"
run "$BERTH" --root "$T/load-mp" inspect "$REG/sl/mp:v1"
same "two-platform archive: this machine's platform, the index digest kept" \
	"$(jget 'j[0]["Architecture"] + " " + j[0]["RepoDigests"][0].split("@")[1]' <<<"$OUT")" \
	"$HOST_ARCH $(jget 'j["manifests"][0]["digest"]' "$T/mp/index.json")"
store_consistent "two-platform archive: store consistent" "$T/load-mp"

# An image without a name (RepoTags null): reported by its ID.
mkdir -p "$T/untagged"
tar -C "$T/untagged" -xf "$T/both.tar"
jget 'json.dumps([dict(j[0], RepoTags=None)])' "$T/manifest.json" >"$T/untagged/manifest.json"
rm "$T/untagged/repositories"
tar -C "$T/untagged" -cf "$T/untagged.tar" .
run "$BERTH" --root "$T/load-untagged" load -i "$T/untagged.tar"
check "load an untagged image" 0 "^Loaded image ID: $one_id$"
same "untagged: no name recorded" "$(storecheck refs "$T/load-untagged")" ""
# ... but an entry without a name, so garbage collection keeps it: the
# rmi of another image (which collects garbage) leaves its blobs.
same "untagged: one unnamed index.json entry" \
	"$(jget '" ".join(str(len(m.get("annotations", {}))) for m in j["manifests"])' "$T/load-untagged/index.json")" \
	"0"
untagged_blobs=$(storecheck blobs "$T/load-untagged")
run b save -o "$T/two-only.tar" "$TWO"
check "save $TWO alone" 0
run "$BERTH" --root "$T/load-untagged" load -q -i "$T/two-only.tar"
check "load $TWO beside the untagged image" 0
run "$BERTH" --root "$T/load-untagged" rmi "$TWO"
check "rmi $TWO collects garbage" 0
after_gc=$(storecheck blobs "$T/load-untagged")
for d in $untagged_blobs; do
	expect "untagged: blob $d kept after gc" grep -qx "$d" <<<"$after_gc"
done
store_consistent "untagged: store consistent after gc" "$T/load-untagged"

# A damaged store: berth save refuses to write a layer that is not what
# the image says, and leaves no file behind.
cp -r "$S" "$T/damaged"
l1=$(storecheck tree "$T/damaged" "$ONE" | tail -n 1)
python3 -c 'import gzip,sys; p=sys.argv[1]; b=bytearray(gzip.decompress(open(p,"rb").read())); b[600]^=1; open(p,"wb").write(gzip.compress(bytes(b)))' \
	"$T/damaged/blobs/sha256/${l1#sha256:}"
run "$BERTH" --root "$T/damaged" save -o "$T/damaged.tar" "$ONE"
check "save of a damaged layer refused" 16 \
	"^berth: layer of '$ONE' does not match its digest sha256:[0-9a-f]{64}: content is sha256:[0-9a-f]{64}$" \
	"^hint: the local store is damaged: run 'berth fsck'"
expect "damaged save: no archive written" test ! -e "$T/damaged.tar"

# --- progress: redrawn on a terminal, plain lines off one -------------------
# script(1) gives the command a pseudo-terminal.
TERM=xterm script -qec "'$BERTH' --root '$T/tty' load -i '$T/both.tar'" "$T/tty.out" >/dev/null
same "load on a terminal succeeds" "$?" 0
grep -q $'\033\\[[0-9]*A' "$T/tty.out" && grep -q "Loaded image: $TWO" "$T/tty.out" &&
	ok "load on a terminal: lines redrawn in place, then the names" ||
	fail "load on a terminal: lines redrawn in place, then the names" "$(head -c 300 "$T/tty.out" | cat -v)"
run "$BERTH" --root "$T/plain" load -i "$T/both.tar"
check "load to a pipe" 0
if grep -q $'\033' <<<"$OUT"; then
	fail "load to a pipe: no escape sequences" "$(cat -v <<<"$OUT" | head -n 3)"
else
	ok "load to a pipe: no escape sequences"
fi
same "load to a pipe: one line per layer and config, then the names" \
	"$(grep -c ': Loaded$' <<<"$OUT") $(grep -c '^Loaded image: ' <<<"$OUT")" "5 2"
run "$BERTH" --root "$T/quiet" load -q -i "$T/both.tar"
same "load -q prints only the names" "$OUT" "$(printf 'Loaded image: %s\nLoaded image: %s' "$ONE" "$TWO")"
TERM=xterm script -qec "'$BERTH' --root '$S' save -o '$T/tty.tar' '$ONE'" "$T/tty-save.out" >/dev/null
same "save -o on a terminal succeeds" "$?" 0
grep -q $'\033\\[[0-9]*A' "$T/tty-save.out" && grep -q ': Saved' "$T/tty-save.out" &&
	ok "save on a terminal: progress redrawn in place" ||
	fail "save on a terminal: progress redrawn in place" "$(head -c 300 "$T/tty-save.out" | cat -v)"
TERM=xterm script -qec "'$BERTH' --root '$S' save '$ONE'; echo rc=\$?" "$T/tty-refuse.out" >/dev/null
grep -q 'berth: refusing to write the archive to a terminal' "$T/tty-refuse.out" &&
	grep -q '^hint: use -o FILE' "$T/tty-refuse.out" && grep -q 'rc=2' "$T/tty-refuse.out" &&
	ok "save to a terminal refused (exit 2)" ||
	fail "save to a terminal refused (exit 2)" "$(cat -v "$T/tty-refuse.out" | head -c 300)"

# --- round trip: save -> load -> push -> skopeo inspect ---------------------
RT=$REG/sl/rt
"$BERTH" --root "$T/load-one-oci" tag "$ONE" "$RT:oci" &&
	"$BERTH" --root "$T/load-one-oci" push "$RT:oci" >/dev/null
same "OCI round trip: the pushed manifest digest is the original's" \
	"$(skopeo inspect --tls-verify=false "docker://$RT:oci" | jget 'j["Digest"]')" \
	"$(storecheck entry "$S" "$ONE" | jget 'j["digest"]')"
"$BERTH" --root "$T/load-both" tag "$ONE" "$RT:docker" &&
	"$BERTH" --root "$T/load-both" push "$RT:docker" >/dev/null
skopeo inspect --tls-verify=false --config "docker://$RT:docker" >"$T/rt-config.json"
same "docker-archive round trip: the image ID is kept" \
	"$(skopeo inspect --tls-verify=false --raw "docker://$RT:docker" | jget 'j["config"]["digest"]')" "$one_id"
same "docker-archive round trip: the diff IDs are kept" \
	"$(jget '"\n".join(j["rootfs"]["diff_ids"])' "$T/rt-config.json")" "$one_diffs"

# --- dockerd: berth save -> docker load, docker save -> berth load ---------
docker_start "$REG"
run docker load -i "$T/both.tar"
check "docker load reads berth's docker-archive" 0 "Loaded image: $ONE"
same "docker images shows both with their image IDs" \
	"$(docker images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | grep "$REG/sl/" | sort)" \
	"$(printf '%s %s\n%s %s\n' "$ONE" "$one_id" "$TWO" "$two_id")"
docker rmi -f "$ONE" "$TWO" >/dev/null 2>&1
run docker pull "$TWO"
check "docker pull $TWO" 0
run docker save -o "$T/docker.tar" "$TWO"
check "docker save" 0
run "$BERTH" --root "$T/load-docker" load -i "$T/docker.tar"
check "berth load reads docker save's archive" 0 "^Loaded image: $TWO$"
run "$BERTH" --root "$T/load-docker" inspect "$TWO"
same "berth inspect shows docker's diff IDs" \
	"$(jget '"\n".join(j[0]["RootFS"]["Layers"])' <<<"$OUT")" \
	"$(docker inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' "$TWO" | sed '/^$/d')"
same "berth load of docker's archive keeps the image ID" \
	"$(S=$T/load-docker config_digest "$TWO")" "$two_id"

# --- refused archives: one message each, the store unchanged ---------------
F=$T/bad
mkdir -p "$F"
# retar DIR OUT [NAME...]: DIR's files as a tar, manifest.json last.
retar() {
	python3 - "$@" <<'PY'
import os, sys, tarfile
d, out, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
with tarfile.open(out, "w") as t:
    names = sorted(n for n in os.listdir(d) if n != "manifest.json")
    for n in names + ["manifest.json"]:
        if os.path.exists(os.path.join(d, n)):
            t.add(os.path.join(d, n), n)
    for n in extra:
        i = tarfile.TarInfo(n); i.size = 1
        import io; t.addfile(i, io.BytesIO(b"x"))
PY
}
one_layer=$(jget 'j[0]["Layers"][1]' "$T/manifest.json")
cp -r "$T/x" "$F/corrupt"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[600]^=1; open(p,"wb").write(b)' "$F/corrupt/$one_layer"
retar "$F/corrupt" "$F/corrupt.tar"
cp -r "$T/x" "$F/missing"
jget 'json.dumps([dict(e, Layers=e["Layers"][:1] + ["0000/layer.tar"]) for e in j])' "$T/manifest.json" >"$F/missing/manifest.json"
retar "$F/missing" "$F/missing.tar"
head -c $(($(stat -c %s "$T/both.tar") / 2)) "$T/both.tar" >"$F/truncated.tar"
retar "$T/x" "$F/traversal.tar" "../evil"
mkdir -p "$F/noimg" && echo hello >"$F/noimg/hello.txt"
tar -C "$F/noimg" -cf "$F/noimg.tar" hello.txt
mkdir -p "$F/empty" && echo '[]' >"$F/empty/manifest.json"
retar "$F/empty" "$F/empty.tar"

# An OCI archive whose layer blob was changed (same size).
mkdir -p "$F/oci" && tar -C "$F/oci" -xf "$T/one-oci.tar"
oci_layer=$(jget 'j["layers"][0]["digest"]' "$F/oci/blobs/sha256/$(jget 'j["manifests"][0]["digest"]' "$F/oci/index.json" | cut -d: -f2)")
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[100]^=1; open(p,"wb").write(b)' "$F/oci/blobs/sha256/${oci_layer#sha256:}"
tar -C "$F/oci" -cf "$F/oci.tar" oci-layout index.json blobs
before=$(snapshot "$S")
run b load -i "$F/corrupt.tar"
check "corrupted layer refused" 11 \
	"^berth: loading '$F/corrupt.tar': layer '$one_layer' does not match its digest sha256:[0-9a-f]{64}: content is sha256:[0-9a-f]{64}$" \
	"^hint: the archive is damaged"
same "corrupted layer: store unchanged" "$(snapshot "$S")" "$before"
run b load -i "$F/oci.tar"
check "OCI archive with a changed blob refused" 11 \
	"^berth: loading '$F/oci.tar': blob 'blobs/sha256/${oci_layer#sha256:}' does not match its digest $oci_layer: content is sha256:[0-9a-f]{64}$"
same "changed OCI blob: store unchanged" "$(snapshot "$S")" "$before"
run b load -i "$F/missing.tar"
check "manifest.json naming a missing file refused" 10 \
	"^berth: loading '$F/missing.tar': manifest.json names '0000/layer.tar', which is not in the archive$" \
	"^hint: the archive is incomplete"
same "missing file: store unchanged" "$(snapshot "$S")" "$before"
run b load -i "$F/truncated.tar"
check "truncated archive refused" 10 \
	"^berth: loading '$F/truncated.tar': the archive is truncated or not a tar archive: " \
	"^hint: the file is incomplete"
same "truncated archive: store unchanged" "$(snapshot "$S")" "$before"
run b load -i "$F/traversal.tar"
check "path-traversal entry name refused" 10 \
	"^berth: loading '$F/traversal.tar': archive entry '../evil' has an unsafe name \(empty, absolute or with '..'\)$"
same "path traversal: store unchanged" "$(snapshot "$S")" "$before"
expect "path traversal: nothing written beside the store" test ! -e "$T/evil" -a ! -e "$S/../evil"
for f in noimg empty; do
	run b load -i "$F/$f.tar"
	check "archive with no images refused ($f)" 10 \
		"^berth: loading '$F/$f.tar': the archive holds no images: " "^hint: load an archive written by"
	same "no images ($f): store unchanged" "$(snapshot "$S")" "$before"
done
run b load </dev/null
check "empty standard input refused" 10 "^berth: the archive holds no images: "
same "empty input: store unchanged" "$(snapshot "$S")" "$before"
done_testing

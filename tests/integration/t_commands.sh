#!/usr/bin/env bash
# The local and remote commands: --help, images, inspect, inspect --remote
# (against skopeo inspect), tag, rmi, ls.
. tests/integration/lib.sh
. tests/integration/registry.sh

registry_start
hostile_start

mkimage "$T/src" --tag app --seed cmd-app --layer 96k --layer 160k >"$T/app.json"
mkimage "$T/src" --tag five --files 2 --seed cmd-five \
	--layer 8k --layer 16k --layer 32k --layer 64k --layer 128k >"$T/five.json"
mkimage "$T/src" --tag s1 --seed cmd-s1 --layer 32k@cmd-shared --layer 8k >"$T/s1.json"
mkimage "$T/src" --tag s2 --seed cmd-s2 --layer 32k@cmd-shared --layer 8k >"$T/s2.json"
mkimage "$T/src" --tag multi --platforms linux/amd64,linux/arm64/v8 \
	--layer 16k --seed cmd-multi --env FOO=bar >"$T/multi.json"
for t in v1 v2 latest; do skopeo_push "$T/src" app "$REG/test/app:$t"; done
skopeo_push "$T/src" five "$REG/test/five:v1"
skopeo_push "$T/src" s1 "$REG/test/s1:v1"
skopeo_push "$T/src" s2 "$REG/test/s2:v1"
skopeo_push "$T/src" multi "$REG/test/multi:v1" --all
app_digest=$(jget 'j["digest"]' "$T/app.json")
five_digest=$(jget 'j["digest"]' "$T/five.json")

# --- --help ---------------------------------------------------------------
run "$BERTH" --help
check "berth --help" 0 "pull" "push" "images"
for c in pull images inspect tag rmi ls import push fsck; do
	run "$BERTH" "$c" --help
	if [ "$RC" = 0 ] && grep -qw -- "$c" <<<"$OUT" && [ -z "$ERR" ]; then
		ok "berth $c --help"
	else
		fail "berth $c --help" "exit $RC, stdout [$(head -c 200 <<<"$OUT")], stderr [$(head -c 200 <<<"$ERR")]"
	fi
done

# --- global options ---------------------------------------------------------
run "$BERTH" --root "$T/empty" --log-level debug images
check "--log-level debug" 0 "REPOSITORY"
run "$BERTH" --root "$T/empty" -v images
check "-v" 0 "REPOSITORY"
run "$BERTH" --root "$T/empty" --log-level loud images
check "--log-level with a bad value" 2

# A bad option is reported once, by berth, with the option and the hint.
for c in "--bogus|--bogus images" "--bogus|images --bogus" \
	"--platform|pull --platform" "-z|images -z"; do
	opt=${c%%|*} args=${c#*|}
	# shellcheck disable=SC2086 # split the words on purpose
	run "$BERTH" --root "$T/empty" $args
	check "bad option: berth $args" 2 "^berth: (unknown option|option) '$opt'" "^hint: see 'berth "
	same "bad option: berth $args: one message" \
		"$(grep -c . <<<"$ERR"):$(grep -c -e "unrecognized" -e "invalid option" -e "requires an argument" <<<"$ERR")" "2:0"
done

# --- images ------------------------------------------------------------------
S=$T/store
run "$BERTH" --root "$S" images
check "images on an empty store" 0 "^REPOSITORY {2,}TAG {2,}DIGEST {2,}SIZE *$"
same "images on an empty store: header only" "$RC:$(grep -c . <<<"$OUT")" "0:1"

for r in "$REG/test/app:v1" "$REG/test/five:v1" "$REG/test/app@$app_digest"; do
	"$BERTH" --root "$S" pull -q "$r" >/dev/null 2>&1 || bail "pull $r"
done
run "$BERTH" --root "$S" images
check "images" 0 "^REPOSITORY {2,}TAG {2,}DIGEST {2,}SIZE *$"
# Each row, split on 2+ spaces: REPOSITORY TAG DIGEST SIZE, against index.json
# and mkimage's sizes (SIZE may count compressed or uncompressed layers).
rows_check=$(python3 -c '
import json, re, sys
out, store, app, five = sys.argv[1:5]
lines = out.rstrip("\n").split("\n")
rows = [re.split(r" {2,}", l.strip()) for l in lines[1:]]
idx = json.load(open(store + "/index.json"))
want = {}
sizes = {}
for f in (app, five):
    s = json.load(open(f))
    im = s["images"][0]
    sizes[s["digest"]] = (sum(l["size"] for l in im["layers"]),
                          sum(l["raw_size"] for l in im["layers"]))
for e in idx["manifests"]:
    ref = e["annotations"]["org.opencontainers.image.ref.name"]
    if "@" in ref:
        repo, tag = ref.split("@")[0], "<none>"
    else:
        repo, tag = ref.rsplit(":", 1)
    want[(repo, tag)] = e["digest"]
got = {}
units = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9}
for r in rows:
    if len(r) != 4:
        print("row %r has %d columns" % (r, len(r)))
        continue
    repo, tag, dig, size = r
    got[(repo, tag)] = dig
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(B|kB|KB|MB|GB)", size)
    if not m:
        print("SIZE %r not human-readable" % size)
        continue
    n = float(m.group(1)) * units[m.group(2)]
    lo, hi = sizes.get(dig, (0, 0))
    if not (lo * 0.95 <= n <= hi * 1.05):
        print("SIZE %s of %s not within [%d, %d]" % (size, dig, lo, hi))
if got != want:
    print("rows %r, index.json %r" % (sorted(got.items()), sorted(want.items())))
' "$OUT" "$S" "$T/app.json" "$T/five.json" 2>&1)
same "images: one row per index.json entry, digest and size" "$rows_check" ""
run "$BERTH" --root "$S" images -q
same "images -q: one canonical ref per line" "$RC:$(sort <<<"$OUT")" \
	"0:$(printf '%s\n' "$REG/test/app:v1" "$REG/test/five:v1" "$REG/test/app@$app_digest" | sort)"

# --- inspect -------------------------------------------------------------------
cfgfile=$T/src/blobs/sha256/$(jget 'j["images"][0]["config"]["digest"][7:]' "$T/app.json")
run "$BERTH" --root "$S" inspect "$REG/test/app:v1"
if [ "$RC" = 0 ]; then
	same "inspect: docker-inspect shape" "$(python3 -c '
import json, sys
out, summ, cfgf, ref, repo = sys.argv[1:6]
j = json.loads(out)
s = json.load(open(summ))
im = s["images"][0]
cfg = json.load(open(cfgf))
want = [{
    "Id": im["config"]["digest"],
    "RepoTags": [ref],
    "RepoDigests": [repo + "@" + s["digest"]],
    "Created": cfg["created"],
    "Architecture": "amd64",
    "Os": "linux",
    "Config": cfg["config"],
    "RootFS": {"Type": "layers", "Layers": [l["diff_id"] for l in im["layers"]]},
    "Size": sum(l["size"] for l in im["layers"]),
}]
got = [{k: o.get(k) for k in want[0]} for o in j] if isinstance(j, list) else j
print("ok" if got == want else "got %s want %s" % (json.dumps(got, sort_keys=True), json.dumps(want, sort_keys=True)))
' "$OUT" "$T/app.json" "$cfgfile" "$REG/test/app:v1" "$REG/test/app" 2>&1)" ok
else
	fail "inspect: docker-inspect shape" "exit $RC: $ERR"
fi
run "$BERTH" --root "$S" inspect "$REG/test/nothere:v1"
check "inspect of an image not in the store" 4

S2=$T/store-arm
run "$BERTH" --root "$S2" pull -q --platform linux/arm64/v8 "$REG/test/multi:v1"
check "pull the arm64/v8 image of an index" 0
run "$BERTH" --root "$S2" inspect "$REG/test/multi:v1"
same "inspect: platform of a pulled index image (Variant)" \
	"$RC:$(jget '[j[0]["Os"], j[0]["Architecture"], j[0]["Variant"]]' <<<"$OUT" 2>&1)" \
	"0:$(printf '%s\n' linux arm64 v8)"
# docker shows the digest it pulled (the index's) in RepoDigests.
same "inspect: RepoDigests of a pulled index image name the index digest" \
	"$(jget 'j[0]["RepoDigests"]' <<<"$OUT" 2>&1)" "$REG/test/multi@$(jget 'j["digest"]' "$T/multi.json")"

# --- inspect --remote, against skopeo inspect ----------------------------------------
S3=$T/store-remote
remote_cmp() {
	local name=$1 ref=$2 fields='[j["Name"], j["Digest"], sorted(j["RepoTags"]), j["Created"], j["Architecture"], j["Os"], j["Layers"], j["Env"]]'
	run "$BERTH" --root "$S3" inspect --remote "$ref"
	if [ "$RC" != 0 ]; then
		fail "$name" "exit $RC: $(head -c 300 <<<"$ERR")"
		return
	fi
	same "$name" "$(jget "$fields" <<<"$OUT" 2>&1)" \
		"$(skopeo_ inspect --tls-verify=false "docker://$ref" | jget "$fields")"
}
remote_cmp "inspect --remote equals skopeo inspect" "$REG/test/app:v1"
remote_cmp "inspect --remote of an index equals skopeo inspect" "$REG/test/multi:v1"
remote_cmp "inspect --remote by digest equals skopeo inspect" "$REG/test/five@$five_digest"
same "inspect --remote writes nothing to the store" \
	"$(storecheck blobs "$S3"; storecheck refs "$S3")" ""
run "$BERTH" --root "$S3" inspect --remote "$REG/test/app:nosuchtag"
check "inspect --remote of an unknown tag" 4 "not found"

# --- tag ---------------------------------------------------------------------------
run "$BERTH" --root "$S" tag "$REG/test/app:v1" "$REG/test/renamed:v2"
check "tag" 0
same "tag: new index.json entry with the same descriptor" \
	"$(storecheck entry "$S" "$REG/test/renamed:v2" | jget '[j["digest"], j["mediaType"], j["size"], j["annotations"].get("io.containerd.image.name")]' 2>&1)" \
	"$(storecheck entry "$S" "$REG/test/app:v1" | jget "[j['digest'], j['mediaType'], j['size'], '$REG/test/renamed:v2']")"
run "$BERTH" --root "$S" tag "$REG/test/app:v1" myapp
check "tag with a short name" 0
same "tag with a short name: normalised like docker" \
	"$(storecheck entry "$S" docker.io/library/myapp:latest | jget 'j["digest"]' 2>&1)" "$app_digest"
run "$BERTH" --root "$S" inspect myapp
same "inspect by short name" "$RC:$(jget 'j[0]["Id"]' <<<"$OUT" 2>&1)" \
	"0:$(jget 'j["images"][0]["config"]["digest"]' "$T/app.json")"
before=$(storecheck snapshot "$S")
run "$BERTH" --root "$S" tag "$REG/test/nothere:v1" "$REG/test/x:v1"
check "tag of an image not in the store" 4
run "$BERTH" --root "$S" tag "$REG/test/app:v1" "$REG/test/Bad:v1"
check "tag to an invalid reference" 3 "invalid reference"
same "failed tags left index.json alone" "$(storecheck snapshot "$S")" "$before"

# --- rmi -----------------------------------------------------------------------------
blobs_before=$(storecheck blobs "$S")
run "$BERTH" --root "$S" rmi "$REG/test/renamed:v2"
same "rmi of one name among several: only untagged" "$RC:$OUT" "0:Untagged: $REG/test/renamed:v2"
same "rmi of one name among several: no blob deleted" "$(storecheck blobs "$S")" "$blobs_before"
run "$BERTH" --root "$S" rmi myapp
check "rmi by short name" 0 "^Untagged: (docker\.io/library/)?myapp(:latest)?$"
run "$BERTH" --root "$S" rmi "$REG/test/app:v1"
same "rmi while name@digest still holds the image" "$RC:$OUT" "0:Untagged: $REG/test/app:v1"
tree=$(storecheck tree "$S" "$REG/test/app@$app_digest")
run "$BERTH" --root "$S" rmi "$REG/test/app@$app_digest"
same "rmi of the last name deletes the image's blobs" "$RC:$(sort <<<"$OUT")" \
	"0:$( (echo "Untagged: $REG/test/app@$app_digest"; sed 's/^/Deleted: /' <<<"$tree") | sort)"
gone=""
for d in $tree; do [ -e "$S/blobs/sha256/${d#sha256:}" ] && gone="$gone $d"; done
same "rmi: deleted blobs are gone from disk" "$gone" ""
same "rmi: the other image is intact" "$(storecheck refs "$S")" "$REG/test/five:v1"
store_consistent "rmi: store consistent" "$S"

for i in s1 s2; do
	"$BERTH" --root "$S" pull -q "$REG/test/$i:v1" >/dev/null 2>&1 || bail "pull test/$i:v1"
done
shared=$(jget 'j["images"][0]["layers"][0]["digest"]' "$T/s1.json")
run "$BERTH" --root "$S" rmi "$REG/test/s1:v1"
if [ "$RC" = 0 ] && ! grep -q "$shared" <<<"$OUT" && [ -e "$S/blobs/sha256/${shared#sha256:}" ] &&
	[ "$(grep -c '^Deleted: ' <<<"$OUT")" = 3 ]; then
	ok "rmi keeps a layer another image uses"
else
	fail "rmi keeps a layer another image uses" "exit $RC: $(tr '\n' '|' <<<"$OUT$ERR")"
fi
store_consistent "rmi of a sharing image: store consistent" "$S"
before=$(storecheck snapshot "$S")
run "$BERTH" --root "$S" rmi "$REG/test/nothere:v1"
check "rmi of an image not in the store" 4
same "failed rmi left index.json alone" "$(storecheck snapshot "$S")" "$before"

# --- ls --------------------------------------------------------------------------------
run "$BERTH" --root "$S" ls "$REG/test/app"
same "ls: the registry's tags" "$RC:$(sort <<<"$OUT")" "0:$(printf '%s\n' latest v1 v2)"
run "$BERTH" --root "$S" ls "$HOSTILE/hostile/many"
same "ls follows pagination (Link: rel=next)" "$RC:$OUT" "0:$(printf '%s\n' t1 t2 t3 t4 t5)"
run "$BERTH" --root "$S" ls "$REG/test/nosuchrepo"
check "ls of an unknown repository" 4 "not found" "test/nosuchrepo"
dead=127.0.0.1:$(free_port)
run "$BERTH" --root "$S" ls "$dead/test/app"
check "ls of a registry not listening" 8 "[Cc]onnection refused" "$dead"
same "ls wrote nothing to the store" "$(storecheck snapshot "$S")" "$before"

done_testing

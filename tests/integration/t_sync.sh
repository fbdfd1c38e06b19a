#!/usr/bin/env bash
# berth sync: every tag of a repository, or of the repositories of a YAML
# or JSON file (skopeo sync's shape), into a destination prefix; a second
# run copies only what changed; tag filters; compared with skopeo sync on
# the same file; berth serve as a destination.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/serve_lib.sh

export BERTH_ROOT=$T/store
registry_start
A=$REG
registry_start
B=$REG B_LOG=$REG_LOG

mark() { wc -l <"$1"; }
since() { tail -n +"$(($2 + 1))" "$1"; }
tags() { curl -s "http://$1/v2/$2/tags/list" | jget '" ".join(sorted(j["tags"] or []))'; }
digest_of() { skopeo_ inspect --raw --tls-verify=false "docker://$1" | sha256sum | cut -c1-64; }

one=$(mkimage "$T/img" --tag one --layer 300k --seed 1)
two=$(mkimage "$T/img" --tag two --layer 200k --seed 2)
three=$(mkimage "$T/img" --tag three --layer 100k --seed 3)
for t in v1.0.0 v1.1.0 v2.0.0 latest; do skopeo_push "$T/img" one "$A/team/app:$t"; done
skopeo_push "$T/img" two "$A/team/other:a"
skopeo_push "$T/img" two "$A/team/other:b"

run "$BERTH" sync "docker://$A/team/app" "docker://$B/mirror"
check "sync a repository" 0 "^4 tags: 0 unchanged, 4 copied, [0-9.]+ MiB\$"
same "sync: every tag at PREFIX/<last component>" "$(tags "$B" mirror/app)" "latest v1.0.0 v1.1.0 v2.0.0"
same "sync: digests unchanged" "$(digest_of "$B/mirror/app:v1.1.0")" "$(digest_of "$A/team/app:v1.1.0")"

m=$(mark "$B_LOG")
run "$BERTH" sync "docker://$A/team/app" "docker://$B/mirror"
check "sync again: nothing changed" 0 "^4 tags: 4 unchanged, 0 copied, 0.0 MiB\$"
if since "$B_LOG" "$m" | grep -E '"(POST|PUT|PATCH) '; then
	fail "sync again: nothing sent" "the destination saw uploads"
else
	ok "sync again: nothing sent"
fi

skopeo_push "$T/img" two "$A/team/app:v2.0.0"
run "$BERTH" sync "docker://$A/team/app" "docker://$B/mirror"
check "sync after one tag moved: only it" 0 "^4 tags: 3 unchanged, 1 copied" "Copied $A/team/app:v2.0.0"
same "sync: the moved tag follows" "$(digest_of "$B/mirror/app:v2.0.0")" "$(digest_of "$A/team/app:v2.0.0")"

skopeo_push "$T/img" three "$A/team/app:latest"
before=$(digest_of "$B/mirror/app:latest")
run "$BERTH" sync --dry-run "docker://$A/team/app" "docker://$B/mirror"
check "sync --dry-run" 0 "Would copy $A/team/app:latest" "^4 tags: 3 unchanged, 1 to copy \(dry run\)\$"
same "sync --dry-run: nothing changed at the destination" "$(digest_of "$B/mirror/app:latest")" "$before"

run "$BERTH" sync --semver '>=1.1 <2' "docker://$A/team/app" "docker://$B/semver"
check "sync --semver" 0 "^1 tags: 0 unchanged, 1 copied"
same "sync --semver: the tags in the range" "$(tags "$B" semver/app)" "v1.1.0"
run "$BERTH" sync --keep 2 "docker://$A/team/app" "docker://$B/keep"
check "sync --keep 2" 0 "^2 tags"
same "sync --keep 2: the two newest versions" "$(tags "$B" keep/app)" "v1.1.0 v2.0.0"
run "$BERTH" sync --tag-regex '^v1\.' "docker://$A/team/app" "docker://$B/regex"
check "sync --tag-regex" 0 "^2 tags"
same "sync --tag-regex: the tags it matches" "$(tags "$B" regex/app)" "v1.0.0 v1.1.0"
run "$BERTH" sync "docker://$A/team/app:v1.0.0" "docker://$B/single"
check "sync of one tag" 0 "^1 tags"

# --- a sync file, and skopeo sync on the same one -------------------------
cat >"$T/sync.yaml" <<YAML
$A:
  tls-verify: false
  images:
    team/app:
      - v1.0.0
    team/other: []
  images-by-tag-regex:
    team/app: ^v2
YAML
run "$BERTH" sync "$T/sync.yaml" "docker://$B/y"
check "sync a YAML file" 0 "^4 tags: 0 unchanged, 4 copied"
skopeo_sync() { skopeo_ sync --src yaml --dest docker --dest-tls-verify=false "$@" >"$T/skopeo-sync.log" 2>&1; }
expect "skopeo sync on the same file" skopeo_sync "$T/sync.yaml" "$B/sk"
catalog() { curl -s "http://$B/v2/_catalog?n=1000" | jget "' '.join(sorted(r[len('$1'):] for r in j['repositories'] if r.startswith('$1')))"; }
same "sync file: the destination names skopeo sync gives" "$(catalog y/)" "$(catalog sk/)"
for r in app other; do
	same "sync file: the tags of $r as skopeo sync's" "$(tags "$B" "y/$r")" "$(tags "$B" "sk/$r")"
done
python3 -c 'import sys, yaml, json; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2], "w"))' \
	"$T/sync.yaml" "$T/sync.json"
run "$BERTH" sync "$T/sync.json" "docker://$B/y"
check "the same file as JSON: everything unchanged" 0 "^4 tags: 4 unchanged, 0 copied"

serve_start
run "$BERTH" sync "$T/sync.yaml" "docker://$SRV_HOST/mirror"
check "sync into berth serve" 0 "^4 tags: 0 unchanged, 4 copied"
run "$BERTH" sync "$T/sync.yaml" "docker://$SRV_HOST/mirror"
check "sync into berth serve again" 0 "^4 tags: 4 unchanged, 0 copied"

# --- bad input ------------------------------------------------------------
hostile_start
bad_layer=$(curl -s "http://$HOSTILE/v2/hostile/badblob/manifests/v1" | jget 'j["layers"][1]["digest"]')
run "$BERTH" sync "docker://$HOSTILE/hostile/badblob" "docker://$B/lies"
check "sync from a source that lies about a blob" 11 "does not match its digest" \
	"$bad_layer" "$HOSTILE/hostile/badblob:v1"
same "lying source: nothing tagged" "$(tags "$B" lies/badblob)" ""
RPORT=$(free_port)
bg python3 "$TOOLS/refusing_registry.py" "$RPORT" --log "$T/refuse.log"
wait_http "http://127.0.0.1:$RPORT/v2/" || bail "refusing registry did not start"
skopeo_push "$T/img" two "$A/x/denied:a"
run "$BERTH" sync "docker://$A/x/denied" "docker://127.0.0.1:$RPORT/refuse"
check "sync to a destination that refuses (403)" 6 "denied" "127.0.0.1:$RPORT" "$A/x/denied:a"
if grep -q "PUT /v2/refuse/denied/manifests/" "$T/refuse.log"; then
	fail "refusing destination: no manifest sent" "$(grep manifests "$T/refuse.log" | head -n3)"
else
	ok "refusing destination: no manifest sent"
fi
printf '%s:\n  images:\n    team/app: [v1\n' "$A" >"$T/bad.yaml"
run "$BERTH" sync "$T/bad.yaml" "docker://$B/z"
check "a sync file that does not parse" 2 "bad.yaml" "line [0-9]+"
printf '%s:\n  imagez: {}\n' "$A" >"$T/key.yaml"
run "$BERTH" sync "$T/key.yaml" "docker://$B/z"
check "a sync file with an unknown key" 2 "line 2" "imagez"
printf '%s:\n  images-by-tag-regex:\n    team/app: "(["\n' "$A" >"$T/re.yaml"
run "$BERTH" sync "$T/re.yaml" "docker://$B/z"
check "a sync file with a bad regex" 2 "line 3" "regular expression"
run "$BERTH" sync --semver 'about 2' "docker://$A/team/app" "docker://$B/z"
check "an invalid --semver range" 2 "about"
run "$BERTH" sync "docker://$A/team/app" "docker://noprefix"
check "a destination that is no registry" 2 "docker://REGISTRY"
same "bad input: nothing written under z/" "$(catalog z/)" ""
run "$BERTH" sync --help
check "sync --help" 0 "--semver" "--keep" "--dry-run"

done_testing

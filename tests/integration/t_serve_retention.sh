#!/usr/bin/env bash
# berth serve's retention: images pushed with skopeo and pulled on days the
# test sets (libfaketime moves the server's clock through a file, so no
# case depends on how fast the machine is), a dry run that changes nothing
# and reports what the policies would delete, a real run through the admin
# endpoint and one through `berth serve retention` beside the running
# server: the expected tags and manifests are gone, referrers of deleted
# subjects too, the survivors pull byte-exact, every deletion is in the
# audit log and sent to the event endpoints as a delete, the runs are
# counted in /metrics, and only admins may call the endpoint.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
	[ -e "$f" ] && FAKETIME_LIB=$f && break
done
for tool in skopeo htpasswd python3 jq; do
	command -v "$tool" >/dev/null || {
		fail "$tool is installed" "run scripts/install-deps.sh"
		exit 1
	}
done
[ -n "$FAKETIME_LIB" ] || {
	fail "libfaketime is installed" "run scripts/install-deps.sh (Debian package faketime)"
	exit 1
}

htpasswd -Bbc -C 4 "$T/htpasswd" root pw-root 2>/dev/null
htpasswd -Bb -C 4 "$T/htpasswd" alice pw-alice 2>/dev/null
cat >"$T/policy.json" <<'EOF'
{ "admins": ["root"],
  "rules": [{"repository": "**", "grant": {"alice": ["pull", "push", "delete"]}}] }
EOF
# An event receiver that hears only deletes (tests/tools/event_receiver.py).
PORT_EV=$(free_port)
bg python3 tests/tools/event_receiver.py "$PORT_EV" "$T/events.jsonl" --mode ok
wait_for 60 test -e "$T/events.jsonl.ready"
# deletes JQ-FILTER: how many delete events the filter selects.
deletes() {
	[ -s "$T/events.jsonl" ] || { echo 0; return; }
	jq -c '.body.events[]' "$T/events.jsonl" | jq -c "select($1)" | wc -l
}

# The docs' example, and a pull-based policy for team/<one segment>.
cat >"$T/config.json" <<EOF
{ "audit-log": "$T/audit.log",
  "notifications": { "endpoints": [
    {"name": "deletes", "url": "http://127.0.0.1:$PORT_EV/events",
     "ignore": {"actions": ["push", "pull", "mount"]}} ] },
  "retention": {
    "delay": "1d",
    "policies": [
      { "repositories": ["finance/payment-service"],
        "deleteUntagged": true,
        "keepTags": [ { "patterns": ["v*"] },
                      { "mostRecentlyPushedCount": 5 } ] },
      { "repositories": ["team/*"],
        "keepTags": [ { "pulledWithin": "7d" } ] } ] } }
EOF

# The server's clock: an offset from the real one, read at every call.
CLOCK=$T/faketime
echo "-40d" >"$CLOCK"
clock() { echo "$1" >"$CLOCK"; }

# Only the server runs on it (its intervals on the real monotonic clock).
cat >"$T/faked-berth" <<EOF
#!/bin/sh
LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$CLOCK FAKETIME_NO_CACHE=1 \\
	DONT_FAKE_MONOTONIC=1 exec "$BERTH" "\$@"
EOF
chmod +x "$T/faked-berth"
BERTH=$T/faked-berth serve_start --htpasswd "$T/htpasswd" \
	--policy "$T/policy.json" --config "$T/config.json" ||
	{ fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
H=$SRV_HOST
URL=$SRV_URL
A=(-u alice:pw-alice)
FIN=finance/payment-service

declare -A DIGEST
# push REPO TAG SEED: a generated image pushed with skopeo.
push() {
	local dir=$T/img-$3
	DIGEST[$1:$2]=$(make_layout "$dir" "$2" "$3" 2048)
	sk copy -q --dest-tls-verify=false --dest-creds alice:pw-alice \
		"oci:$dir:$2" "docker://$H/$1:$2" 2>>"$T/skopeo.err"
}

# referrer REPO SUBJECT_DIGEST NAME: an SBOM-like artifact for the subject,
# pushed by digest; prints its digest.
referrer() {
	local repo=$1 subject=$2 name=$3 f=$T/ref-$3.json empty=$T/empty.json
	printf '{}' >"$empty"
	push_blob "$repo" "$empty" >/dev/null
	python3 - "$subject" "$(sha256_of "$empty")" "$name" >"$f" <<'PY'
import json, sys
subject, empty, name = sys.argv[1:]
print(json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "artifactType": "application/vnd.example.sbom",
    "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
    "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2}],
    "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": 1},
    "annotations": {"name": name}}, sort_keys=True, separators=(",", ":")), end="")
PY
	local d
	d=$(sha256_of "$f")
	[ "$(put_manifest "$repo" "$d" "$f")" = 201 ] || return 1
	echo "$d"
}

SRV_CURL+=("${A[@]}")
ok_push=1
clock -40d
push $FIN v1.0 101 || ok_push=0
clock -35d
push $FIN v2.0 102 || ok_push=0
for i in 1 2 3 4 5 6 7; do
	clock "-$((31 - i))d"
	push $FIN build-$i $((200 + i)) || ok_push=0
done
clock -23d
REF1=$(referrer $FIN "${DIGEST[$FIN:build-1]}" sbom-1) || ok_push=0
REF7=$(referrer $FIN "${DIGEST[$FIN:build-7]}" sbom-7) || ok_push=0
clock -30d
for t in a b c; do push team/app $t "3$(printf %d "'$t")" || ok_push=0; done
push team/deep/app x 401 || ok_push=0
same "images and referrers are pushed" "$ok_push" 1

# Pulls: team/app:b ten days ago, c two days ago (by tag), a never.
MT='application/vnd.oci.image.manifest.v1+json'
clock -10d
st_b=$(http_status GET "$URL/v2/team/app/manifests/b" -H "Accept: $MT")
clock -2d
st_c=$(http_status GET "$URL/v2/team/app/manifests/c" -H "Accept: $MT")
same "pulls answer 200" "$st_b $st_c" "200 200"
clock +0

# tags REPO: the repository's tags, sorted, space-separated.
tags() {
	curl -s --max-time 60 "${A[@]}" "$URL/v2/$1/tags/list" |
		python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin).get("tags") or [])))'
}
# deleted REPORT: "repo:tag" and "repo@digest" of a report, sorted.
deleted() {
	python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(" ".join(sorted((d["repository"] + ":" + d["tag"]) if d["tag"]
                      else (d["repository"] + "@" + d["digest"]) for d in r["deleted"])))
PY
}
sorted_words() { tr ' ' '\n' <<<"$*" | sort | tr '\n' ' ' | sed 's/ $//'; }

WANT=$(sorted_words "$FIN:build-1" "$FIN:build-2" \
	"$FIN@${DIGEST[$FIN:build-1]}" "$FIN@${DIGEST[$FIN:build-2]}" "$FIN@$REF1" \
	"team/app:a" "team/app:b" \
	"team/app@${DIGEST[team/app:a]}" "team/app@${DIGEST[team/app:b]}")
FIN_ALL="build-1 build-2 build-3 build-4 build-5 build-6 build-7 v1.0 v2.0"

# --- who may call it ---
same "anonymous callers get 401" \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/admin/v1/retention?dry-run=true")" 401
same "a user who is not an admin gets 403" \
	"$(curl -s -o "$T/403.json" -w '%{http_code}' "${A[@]}" -X POST "$URL/admin/v1/retention?dry-run=true")" 403
expect "... saying who may" grep -q "admins" "$T/403.json"
same "the endpoint takes POST only" \
	"$(curl -s -o /dev/null -w '%{http_code}' -u root:pw-root "$URL/admin/v1/retention")" 405

# --- a dry run changes nothing and reports the plan ---
st=$(curl -s --max-time 120 -o "$T/dry.json" -w '%{http_code}' -u root:pw-root \
	-X POST "$URL/admin/v1/retention?dry-run=true")
same "the dry run answers 200" "$st" 200
same "... says it is a dry run" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dry_run"])' "$T/dry.json")" True
same "... and lists what the policies would delete" "$(deleted "$T/dry.json")" "$WANT"
same "... while every tag stays" "$(tags $FIN) | $(tags team/app)" "$FIN_ALL | a b c"
same "... and the referrer too" "$(http_status GET "$URL/v2/$FIN/manifests/$REF1" -H "Accept: $MT")" 200
expect "... and nothing is audit-logged as deleted" \
	bash -c "! grep -q '\"actor\":\"retention\"' '$T/audit.log'"

# --- the real run, through the admin endpoint ---
st=$(curl -s --max-time 120 -o "$T/run.json" -w '%{http_code}' -u root:pw-root \
	-X POST "$URL/admin/v1/retention")
same "the run answers 200" "$st" 200
same "... reports what it deleted" "$(deleted "$T/run.json")" "$WANT"
same "the expected tags are gone" "$(tags $FIN) | $(tags team/app)" \
	"build-3 build-4 build-5 build-6 build-7 v1.0 v2.0 | c"
same "deleted manifests answer 404" \
	"$(http_status GET "$URL/v2/$FIN/manifests/${DIGEST[$FIN:build-1]}" -H "Accept: $MT") $(http_status GET "$URL/v2/team/app/manifests/${DIGEST[team/app:a]}" -H "Accept: $MT")" \
	"404 404"
same "the referrer of a deleted subject is gone, of a kept one stays" \
	"$(http_status GET "$URL/v2/$FIN/manifests/$REF1" -H "Accept: $MT") $(http_status GET "$URL/v2/$FIN/manifests/$REF7" -H "Accept: $MT")" \
	"404 200"
same "repositories no policy matches keep everything" "$(tags team/deep/app)" "x"

# Survivors: the manifest bytes are the pushed ones, and skopeo pulls
# them whole (it checks every blob's digest).
exact=1
for t in build-3 build-7 v1.0 v2.0; do
	curl -s --max-time 60 "${A[@]}" -H "Accept: $MT" -o "$T/m.json" "$URL/v2/$FIN/manifests/$t"
	[ "$(sha256_of "$T/m.json")" = "${DIGEST[$FIN:$t]}" ] || exact=0
	sk copy -q --src-tls-verify=false --src-creds alice:pw-alice \
		"docker://$H/$FIN:$t" "oci:$T/out:$t" 2>>"$T/skopeo.err" || exact=0
done
same "survivors pull byte-exact" "$exact" 1

n_audit=$(grep -c '"actor":"retention"' "$T/audit.log")
same "every deletion is audit-logged" "$n_audit" 9
expect "every deletion is sent to the event endpoint" \
	wait_for 120 test "$(deletes '.actor.name == "retention"')" -eq 9
same "... as a delete naming the tag and its manifest" \
	"$(deletes '.action == "delete" and .target.repository == "'$FIN'" and .target.tag == "build-1" and .target.digest == "'"${DIGEST[$FIN:build-1]}"'"')" 1
same "... and the manifest with its media type" \
	"$(deletes '.target.tag == null and .target.digest == "'"${DIGEST[$FIN:build-1]}"'" and .target.mediaType == "'$MT'"')" 1
same "... and no request fields but its id" "$(deletes '(.request | del(.id)) != {"method": "", "useragent": ""}')" 0
expect "... naming the repository, the tag and the policy" \
	grep -q "\"action\":\"delete\",\"actor\":\"retention\",\"repository\":\"$FIN\",\"reference\":\"build-1\".*policies\[0\]" "$T/audit.log"

# --- berth serve retention, beside the running server ---
# Its own config: the same storage, one more policy for team/<any depth>.
cat >"$T/cli.json" <<EOF
{ "storage": "$SRV_STORAGE", "audit-log": "$T/audit.log",
  "retention": { "delay": "1d", "policies": [
      { "repositories": ["team/*"], "keepTags": [ { "pulledWithin": "7d" } ] },
      { "repositories": ["team/**"], "deleteUntagged": true,
        "keepTags": [ { "patterns": ["release-*"] } ] } ] } }
EOF
run "$BERTH" serve retention --dry-run --config "$T/cli.json"
check "berth serve retention --dry-run" 0 '"dry_run": true'
echo "$OUT" >"$T/cli-dry.json"
same "... reports what it would delete" "$(deleted "$T/cli-dry.json")" \
	"team/deep/app:x team/deep/app@${DIGEST[team/deep/app:x]}"
same "... and deletes nothing" "$(tags team/deep/app)" "x"

run "$BERTH" serve retention --config "$T/cli.json"
check "berth serve retention" 0 '"dry_run": false'
echo "$OUT" >"$T/cli-run.json"
same "... reports what it deleted" "$(deleted "$T/cli-run.json")" \
	"team/deep/app:x team/deep/app@${DIGEST[team/deep/app:x]}"
same "... which the running server no longer serves" \
	"$(http_status GET "$URL/v2/team/deep/app/manifests/x" -H "Accept: $MT")" 404
same "... and audit-logs" "$(grep -c '"actor":"retention","repository":"team/deep/app"' "$T/audit.log")" 2
same "the survivors of the first run are untouched" "$(tags $FIN) | $(tags team/app)" \
	"build-3 build-4 build-5 build-6 build-7 v1.0 v2.0 | c"

run "$BERTH" serve retention --config "$T/nope.json"
check "a missing config file is an error" 4 "cannot read"

# --- metrics ---
curl -s --max-time 60 -u root:pw-root -o "$T/metrics" "$URL/metrics"
val() { awk -v s="$1" 'index($0, s " ") == 1 { print $2; f = 1 } END { if (!f) print 0 }' "$T/metrics"; }
same "runs are counted" \
	"$(val 'berth_retention_runs_total{result="ok"}') $(val 'berth_retention_runs_total{result="dry_run"}')" "1 1"
same "deletions are counted" \
	"$(val 'berth_retention_deleted_total{kind="tag"}') $(val 'berth_retention_deleted_total{kind="manifest"}')" "4 5"

# --- SIGHUP: a broken rule is refused whole, a good one applies ---
cp "$T/config.json" "$T/config.good"
python3 - "$T/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["retention"]["policies"][1]["keepTags"][0]["pulledWithin"] = "7 days"
json.dump(c, open(sys.argv[1], "w"))
PY
# logged_since MARK PATTERN: the server logged PATTERN after line MARK.
logged_since() { tail -n +"$(($1 + 1))" "$T/serve.log" | grep -q "$2"; }
mark=$(wc -l <"$T/serve.log")
kill -HUP "$SRV_PID"
wait_for 60 logged_since "$mark" "not reloaded"
expect "a reload with a broken rule is refused" \
	logged_since "$mark" "configuration not reloaded.*invalid duration '7 days'"
python3 - "$T/config.good" "$T/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["retention"]["policies"][1]["keepTags"] = [{"patterns": ["keep-*"]}]
json.dump(c, open(sys.argv[2], "w"))
PY
mark=$(wc -l <"$T/serve.log")
kill -HUP "$SRV_PID"
wait_for 60 logged_since "$mark" "configuration reloaded"
curl -s --max-time 120 -o "$T/dry2.json" -u root:pw-root -X POST "$URL/admin/v1/retention?dry-run=true"
same "after a good reload the new rules apply" "$(deleted "$T/dry2.json")" \
	"team/app:c team/app@${DIGEST[team/app:c]}"

# --- on a schedule: retention-interval, itself applied by a reload ---
python3 - "$T/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["retention-interval"] = "1s"
json.dump(c, open(sys.argv[1], "w"))
PY
mark=$(wc -l <"$T/serve.log")
kill -HUP "$SRV_PID"
c_gone() { [ -z "$(tags team/app)" ]; }
expect "a scheduled run deletes what the reloaded rules say" wait_for 120 c_gone
expect "... and logs what it deleted" \
	wait_for 60 logged_since "$mark" "retention: deleted 1 tags and 1 manifests"
expect "... which is audit-logged" \
	grep -q '"actor":"retention","repository":"team/app","reference":"c"' "$T/audit.log"

serve_stop
same "berth serve stops cleanly" "$SRV_RC" 0
done_testing

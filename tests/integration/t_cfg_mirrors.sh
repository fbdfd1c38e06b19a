#!/usr/bin/env bash
# Mirrors with a defined fallback: two mirrors (one down, one up) then the
# origin; a mirror without the image (404); a mirror that drops a blob
# mid-stream (continued on the origin with a Range request); a digest
# mismatch on a mirror stops the pull. `berth pull -v` names the host that
# served each manifest and blob.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
mkimage "$T/img" --tag v1 --seed cfg-mirror --layer 64k --layer 1m >"$T/img.json"
digest=$(jget 'j["digest"]' "$T/img.json")
big=$(jget '[l["digest"] for l in j["images"][0]["layers"] if l["size"] > 300000][0]' "$T/img.json")
big_size=$(jget '[l["size"] for l in j["images"][0]["layers"] if l["size"] > 300000][0]' "$T/img.json")
mkimage "$T/other" --tag v1 --seed cfg-mirror-other --layer 16k >"$T/other.json"
other_digest=$(jget 'j["digest"]' "$T/other.json")

dreg_start
ORIGIN=$DREG ORIGIN_LOG=$DREG_LOG
skopeo_push "$T/img" v1 "$ORIGIN/cfg/app:v1"
skopeo_push "$T/other" v1 "$ORIGIN/cfg/other:v1"
dreg_start
UP=$DREG UP_LOG=$DREG_LOG
skopeo_push "$T/img" v1 "$UP/cfg/app:v1"
DOWN=127.0.0.1:$(free_port)

echo "{\"mirrors\": {\"$ORIGIN\": [\"http://$DOWN\", \"http://$UP/\"]}}" >"$BERTH_CONFIG"
run berth_ config
check "berth config lists the mirrors in order with their file" 0 \
	"mirrors.$ORIGIN +http://$DOWN +\($BERTH_CONFIG\)" "mirrors.$ORIGIN +http://$UP +\($BERTH_CONFIG\)"

# --- one mirror down, one up ---------------------------------------------------
o_mark=$(wc -l <"$ORIGIN_LOG")
run berth_ -v pull "$ORIGIN/cfg/app:v1"
check "down mirror skipped, up mirror serves" 0 "Digest: $digest" \
	"mirror '$DOWN' failed: .*connect" "manifest 'v1' of 'cfg/app' from '$UP'" \
	"blob '$big' from '$UP'"
expect "the origin served nothing" test -z "$(tail -n +"$((o_mark + 1))" "$ORIGIN_LOG" | grep -E 'GET /v2/cfg/app/(manifests|blobs)')"
expect "the up mirror served the big blob" grep -q "GET /v2/cfg/app/blobs/$big" "$UP_LOG"

run berth_ --root "$T/sj" pull --json "$ORIGIN/cfg/app:v1"
check "pull --json succeeds" 0
expect "--json: every line is a JSON object" python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <<<"$OUT"
# jlines EXPR: evaluate EXPR over the JSON lines of the last run's stdout (L).
jlines() {
	python3 -c 'import json, sys; L = [json.loads(l) for l in sys.stdin]; print(eval(sys.argv[1]))' "$1" <<<"$OUT"
}
same "--json names the mirror that served the manifest" \
	"$(jlines '[x["host"] for x in L if x["event"] == "manifest"][0]')" "$UP"
same "--json names the host of every blob (config and both layers)" \
	"$(jlines '" ".join(sorted(x["kind"] + "@" + x["host"] for x in L if x["event"] == "blob"))')" \
	"config@$UP layer@$UP layer@$UP"
same "--json ends with the result" \
	"$(tail -n 1 <<<"$OUT" | jget '[j["event"], j["digest"], j["downloaded"]]' | tr '\n' ' ')" "pulled $digest True "

# --- a mirror without the image: 404 moves on --------------------------------------
run berth_ -v pull "$ORIGIN/cfg/other:v1"
check "a mirror's 404 for a manifest moves on to the origin" 0 "Digest: $other_digest" \
	"mirror '$UP' failed: .*not found" "manifest 'v1' of 'cfg/other' from '$ORIGIN'"

# --- a mirror that drops a blob mid-stream -------------------------------------------
PP=$(free_port)
bg python3 "$TOOLS/cut_proxy.py" "$PP" "$UP" --cut 0.5 --min-size 300000 --log "$T/proxy.log"
wait_tcp "127.0.0.1:$PP" || bail "proxy did not start"
echo "{\"mirrors\": {\"$ORIGIN\": [\"http://127.0.0.1:$PP\"]}}" >"$BERTH_CONFIG"
o_mark=$(wc -l <"$ORIGIN_LOG")
run berth_ --root "$T/s2" -v pull --json "$ORIGIN/cfg/app:v1"
check "a blob cut on the mirror is continued on the origin" 0 "\"digest\": ?\"$digest\"" \
	"continuing from '$ORIGIN' at byte [0-9]+" "blob '$big' from '$ORIGIN'"
expect "the mirror sent about half of the big blob" grep -q "blobs/$big 200 sent=$((big_size / 2)) .*cut=yes" "$T/proxy.log"
range_line=$(tail -n +"$((o_mark + 1))" "$ORIGIN_LOG" | grep "GET /v2/cfg/app/blobs/$big" | head -1)
expect "the origin got a Range request answered 206" grep -q '" 206 ' <<<"$range_line"
origin_bytes=$(awk '{print $10}' <<<"$range_line")
expect "the origin sent only the rest ($origin_bytes of $big_size bytes)" \
	test "$origin_bytes" -le $((big_size - big_size / 2))
same "--json names the origin for the blob it finished" \
	"$(jlines '[x["host"] for x in L if x.get("digest") == "'"$big"'"][0]')" "$ORIGIN"
run berth_ --root "$T/s2" fsck
check "the store is consistent after the continuation" 0 "0 problems"

# --- no mirror at all usable: the origin's error is reported --------------------------
echo "{\"mirrors\": {\"$ORIGIN\": [\"http://$DOWN\"]}}" >"$BERTH_CONFIG"
run berth_ --root "$T/s3" pull "$ORIGIN/cfg/nothing:v1"
check "mirror down and origin lacks the tag: the origin's 404" 4 "not found" "$ORIGIN"

# --- a digest mismatch on a mirror stops the pull -----------------------------------------
hostile_start
skopeo_ copy -q --src-tls-verify=false --dest-tls-verify=false \
	"docker://$HOSTILE/hostile/good:v1" "docker://$ORIGIN/hostile/badblob:v1" 2>/dev/null
echo "{\"mirrors\": {\"$ORIGIN\": [\"http://$HOSTILE\"]}}" >"$BERTH_CONFIG"
o_mark=$(wc -l <"$ORIGIN_LOG")
run berth_ --root "$T/s4" pull "$ORIGIN/hostile/badblob:v1"
check "a blob not matching its digest on a mirror: exit 11, no fallback" 11 "digest mismatch" "$HOSTILE"
expect "the origin was not asked for blobs" test -z "$(tail -n +"$((o_mark + 1))" "$ORIGIN_LOG" | grep 'GET /v2/hostile/badblob/blobs')"

done_testing

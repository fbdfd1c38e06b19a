#!/usr/bin/env bash
# berth serve as a pull-through cache, in front of a docker-registry
# upstream (and the hostile test registry), as clients use it: skopeo,
# berth's own client through "registry-mirrors", a proxy-project prefix;
# tags re-validated after their TTL; an upstream that is down or answers
# 429; a blob whose bytes do not match its digest; 50 clients asking for
# one uncached blob at once; a blob streamed while the upstream holds it.
#
# No traffic leaves 127.0.0.1: the script runs itself in a network
# namespace of its own with only a loopback interface (so a client's
# fallback to docker.io fails at DNS, inside the namespace).
if [ -z "${BERTH_CACHE_NETNS:-}" ]; then
	exec unshare --net env BERTH_CACHE_NETNS=1 bash -c \
		'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/serve_lib.sh
. tests/integration/cfg_lib.sh

cfg_env
expect "no network but loopback" test -z "$(ip -o link show | grep -v ': lo:')"

mkimage "$T/img" --tag v1 --seed cache-1 --layer 64k --layer 1m >"$T/img.json"
d1=$(jget 'j["digest"]' "$T/img.json")
mkimage "$T/img2" --tag v1 --seed cache-2 --layer 32k >"$T/img2.json"
d2=$(jget 'j["digest"]' "$T/img2.json")
mkimage "$T/big" --tag v1 --seed cache-big --layer 8m >"$T/big.json"
big=$(jget '[l["digest"] for l in j["images"][0]["layers"]][0]' "$T/big.json")

registry_start
REG_PID=$BG_PID
skopeo_push "$T/img" v1 "$REG/library/app:v1"
skopeo_push "$T/big" v1 "$REG/library/big:v1"
RELEASE=$T/release
hostile_start --release "$RELEASE"
DOWN=127.0.0.1:$(free_port)

write_config() {
	cat >"$T/serve.json" <<EOF
{"upstreams": [
  {"url": "http://$REG", "mirror": true, "tag-ttl": 1, "timeout": 5},
  {"url": "http://$REG/", "prefix": "up", "tag-ttl": 3600},
  {"url": "http://$HOSTILE", "prefix": "hos", "retries": 0},
  {"url": "http://$DOWN", "prefix": "down", "timeout": 5}$1
],
 "notifications": {"endpoints": [{"name": "ev", "url": "http://127.0.0.1:$EV_PORT/"}]}}
EOF
}
# Events of what the cache serves go to a receiver as any pull's do.
EV_PORT=$(free_port)
bg python3 tests/tools/event_receiver.py "$EV_PORT" "$T/ev.jsonl"
wait_for 60 test -e "$T/ev.jsonl.ready" || bail "the event receiver did not start"
# pull_events DIGEST: the pull events of library/app's blob DIGEST sent by GET.
pull_events() {
	[ -s "$T/ev.jsonl" ] || { echo 0; return; }
	jq -c --arg d "$1" '.body.events[] | select(.action == "pull" and
		.target.repository == "library/app" and .target.digest == $d and
		.request.method == "GET")' "$T/ev.jsonl" | wc -l
}
write_config ""
serve_start --config "$T/serve.json" || bail "berth serve did not start"

# --- the whole-registry mirror and a proxy project -----------------------
mark=$(reg_mark)
run skopeo_ copy -q --src-tls-verify=false "docker://$SRV_HOST/library/app:v1" "oci:$T/out:v1"
check "skopeo pulls through the mirror (verifying every digest)" 0
same "the mirror serves the upstream's manifest" \
	"$(skopeo_ inspect --tls-verify=false "docker://$SRV_HOST/library/app:v1" | jget 'j["Digest"]')" "$d1"
run skopeo_ copy -q --src-tls-verify=false "docker://$SRV_HOST/up/library/app:v1" "oci:$T/out2:v1"
check "skopeo pulls through the proxy project 'up/'" 0
same "up/library/app is the upstream's library/app" \
	"$(http_status GET "$SRV_URL/v2/up/library/app/manifests/v1" -H 'Accept: application/vnd.oci.image.manifest.v1+json'; last_header Docker-Content-Digest)" \
	"200$d1"
for b in $(jget '" ".join([l["digest"] for l in j["images"][0]["layers"]] + [j["images"][0]["config"]["digest"]])' "$T/img.json"); do
	n=$(reg_since "$mark" | grep -c "\"GET /v2/library/app/blobs/$b ")
	same "blob ${b:7:12} fetched from the upstream once for both names" "$n" 1
	expect "...and its pull through the cache is an event" \
		wait_for 60 test "$(pull_events "$b")" -ge 1
done

# --- berth's own client through registry-mirrors --------------------------
echo "{\"registry-mirrors\": [\"http://$SRV_HOST\"]}" >"$BERTH_DAEMON_JSON"
run berth_ -v pull docker.io/library/app:v1
check "berth pull docker.io/library/app comes through the mirror" 0 \
	"Digest: $d1" "from '$SRV_HOST'"

# --- read-only ------------------------------------------------------------
same "a push to a proxied repository is refused" \
	"$(http_status PUT "$SRV_URL/v2/up/library/app/manifests/v2" -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary '{}')" 403
expect "...saying why" grep -q 'DENIED.*read-only pull-through cache' "$T/.body"
same "so is starting an upload" "$(http_status POST "$SRV_URL/v2/library/app/blobs/uploads/")" 403

# --- tags re-validated after their TTL ------------------------------------
skopeo_push "$T/img2" v1 "$REG/library/app:v1" # the upstream tag moves
mirror_digest() {
	http_status GET "$SRV_URL/v2/library/app/manifests/v1" \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' >/dev/null
	last_header Docker-Content-Digest
}
new_digest_served() { [ "$(mirror_digest)" = "$d2" ]; }
expect "after the 1 s TTL the mirror serves the moved tag" wait_for 60 new_digest_served
same "within its 1 h TTL the proxy project still serves the old one" \
	"$(http_status GET "$SRV_URL/v2/up/library/app/manifests/v1" -H 'Accept: application/vnd.oci.image.manifest.v1+json'; last_header Docker-Content-Digest)" \
	"200$d1"
same "a digest is served without asking the upstream again" \
	"$(http_status GET "$SRV_URL/v2/library/app/manifests/$d1" -H 'Accept: application/vnd.oci.image.manifest.v1+json')" 200

# --- an upstream that answers 429 -----------------------------------------
same "uncached content of a rate-limited upstream: its 429" \
	"$(http_status GET "$SRV_URL/v2/hos/hostile/limited/manifests/v1")" 429
same "...with its Retry-After" "$(last_header Retry-After)" 37
expect "...and its message" grep -q 'TOOMANYREQUESTS.*pull rate limit (hostile)' "$T/.body"

# --- a blob whose bytes do not match its digest ---------------------------
bad=$(curl -s "http://$HOSTILE/v2/hostile/badblob/manifests/v1" | jget 'j["layers"][1]["digest"]')
bad_size=$(curl -s "http://$HOSTILE/v2/hostile/badblob/manifests/v1" | jget 'j["layers"][1]["size"]')
same "the bad image's manifest is served" "$(http_status GET "$SRV_URL/v2/hos/hostile/badblob/manifests/v1")" 200
pids=()
for i in 1 2 3 4 5; do
	curl -s --max-time 120 -o "$T/bad.$i" "$SRV_URL/v2/hos/hostile/badblob/blobs/$bad" &
	pids+=($!)
done
got_full=0 cut=0
for i in 1 2 3 4 5; do
	wait "${pids[$((i - 1))]}" || cut=$((cut + 1))
	[ -e "$T/bad.$i" ] && [ "$(stat -c %s "$T/bad.$i")" -ge "$bad_size" ] && got_full=$((got_full + 1))
done
same "no client receives the complete wrong blob (5 at once)" "$got_full" 0
same "...every answer is cut short (curl fails)" "$cut" 5
expect "the wrong bytes are not stored" test ! -e "$SRV_STORAGE/blobs/sha256/${bad#sha256:}"
metric() { curl -s "$SRV_URL/metrics" | grep -F "$1" | awk '{print $2}'; }
expect "the mismatch is counted" test "$(metric 'berth_cache_upstream_fetches_total{kind="blob",result="bad_digest"}')" -ge 1

# --- 50 clients, one uncached blob ----------------------------------------
skopeo_ inspect --tls-verify=false "docker://$SRV_HOST/library/big:v1" >/dev/null
mark=$(reg_mark)
pids=()
for i in $(seq 1 50); do
	curl -s --max-time 300 -o "$T/big.$i" "$SRV_URL/v2/library/big/blobs/$big" &
	pids+=($!)
done
wait "${pids[@]}"
right=0
for i in $(seq 1 50); do
	[ "$(sha256_of "$T/big.$i")" = "$big" ] && right=$((right + 1))
done
same "all 50 clients get the blob's exact bytes" "$right" 50
same "the upstream's log shows exactly one GET of it" \
	"$(reg_since "$mark" | grep -c "\"GET /v2/library/big/blobs/$big ")" 1

# --- streamed while it arrives --------------------------------------------
held=$(curl -s "http://$HOSTILE/v2/hostile/held/manifests/v1" | jget 'j["layers"][0]["digest"]')
held_size=$(curl -s "http://$HOSTILE/v2/hostile/held/manifests/v1" | jget 'j["layers"][0]["size"]')
http_status GET "$SRV_URL/v2/hos/hostile/held/manifests/v1" >/dev/null
curl -s --max-time 600 -o "$T/held.1" "$SRV_URL/v2/hos/hostile/held/blobs/$held" &
c1=$!
has_bytes() { [ -s "$1" ]; }
expect "a client receives bytes while the upstream holds the rest" wait_for 120 has_bytes "$T/held.1"
curl -s --max-time 600 -o "$T/held.2" "$SRV_URL/v2/hos/hostile/held/blobs/$held" &
c2=$!
expect "a second client joins and receives bytes too" wait_for 120 has_bytes "$T/held.2"
expect "...and neither has it all (the upstream still holds)" \
	test "$(stat -c %s "$T/held.1")" -lt "$held_size" -a "$(stat -c %s "$T/held.2")" -lt "$held_size"
joined=$(metric 'berth_cache_hits_total{kind="blob"}')
curl -s --max-time 600 -o "$T/held.range" -D "$T/held.range.h" -H 'Range: bytes=1000-1999' \
	"$SRV_URL/v2/hos/hostile/held/blobs/$held" &
c3=$!
joined_more() { [ "$(metric 'berth_cache_hits_total{kind="blob"}')" -gt "$joined" ]; }
expect "a Range request joins the fetch while the upstream holds" wait_for 120 joined_more
touch "$RELEASE"
wait "$c1" "$c2" "$c3"
same "both get the whole blob once released" "$(sha256_of "$T/held.1") $(sha256_of "$T/held.2")" "$held $held"
same "a Range request while it is in flight gets 206" \
	"$(head -n1 "$T/held.range.h" | cut -d' ' -f2) $(grep -i '^content-range:' "$T/held.range.h" | tr -d '\r' | cut -d' ' -f2-)" \
	"206 bytes 1000-1999/$held_size"
expect "...with the range's bytes" cmp "$T/held.range" <(tail -c +1001 "$T/held.1" | head -c 1000)
same "the upstream sent it once" "$(grep -c "^GET /v2/hostile/held/blobs/$held " "$HOSTILE_LOG")" 1

# --- SIGHUP: upstreams reloaded, all or nothing ---------------------------
mkimage "$T/img3" --tag v1 --seed cache-3 --layer 16k >"$T/img3.json"
d3=$(jget 'j["digest"]' "$T/img3.json")
skopeo_push "$T/img3" v1 "$REG/team/tool:v1"
same "an unknown prefix is a local repository" "$(http_status GET "$SRV_URL/v2/more/team/tool/manifests/v1")" 404
write_config ",
  {\"url\": \"http://$REG\", \"prefix\": \"more\"}"
kill -HUP "$SRV_PID"
more_served() { [ "$(http_status GET "$SRV_URL/v2/more/team/tool/manifests/v1" -H 'Accept: application/vnd.oci.image.manifest.v1+json'; last_header Docker-Content-Digest)" = "200$d3" ]; }
expect "SIGHUP adds an upstream" wait_for 60 more_served
write_config ",
  {\"url\": \"http://$REG\", \"prefix\": \"more\", \"tag-ttl\": \"1h\"}"
kill -HUP "$SRV_PID"
wait_for 60 grep -q "configuration not reloaded" "$T/serve.log"
expect "a bad entry leaves the running upstreams" grep -q "not reloaded.*upstreams\[4\]: 'tag-ttl' must be an integer" "$T/serve.log"
expect "...which still serve" more_served

# --- the upstream down ----------------------------------------------------
kill "$REG_PID"
wait "$REG_PID" 2>/dev/null
stale_served() {
	[ "$(http_status GET "$SRV_URL/v2/library/app/manifests/v1" -H 'Accept: application/vnd.oci.image.manifest.v1+json')" = 200 ] &&
		last_header Warning | grep -q '^110 - "stale: upstream'
}
expect "upstream down: the cached tag is served with a Warning" wait_for 60 stale_served
same "...still the digest it had" "$(last_header Docker-Content-Digest)" "$d2"
same "a cached blob is served" "$(http_status GET "$SRV_URL/v2/library/big/blobs/$big" -o /dev/null)" 200
same "uncached content fails with a gateway error" \
	"$(http_status GET "$SRV_URL/v2/library/nothere/manifests/v1")" 502
expect "...naming the upstream" grep -q "UNAVAILABLE.*upstream 'http://$REG'" "$T/.body"
same "an upstream that never was fails the same way" \
	"$(http_status GET "$SRV_URL/v2/down/x/manifests/v1")" 502

expect "the cache's metrics are exported" test "$(metric 'berth_cache_hits_total{kind="blob"}')" -ge 49
serve_stop
same "berth serve stops cleanly" "$SRV_RC" 0

# --- start-up errors --------------------------------------------------------
echo '{"upstreams": [{"url": "http://x", "prefix": "a", "mirror": true}]}' >"$T/bad.json"
run "$BERTH" serve --config "$T/bad.json" --storage "$T/reg2"
check "a bad upstream entry stops the start" 2 \
	"upstreams\[0\]: give either \"mirror\": true or a \"prefix\"" "hint: see 'Pull-through cache' in docs/server.md"

done_testing

#!/usr/bin/env bash
# berth serve's event notifications, received by small HTTP receivers this
# test starts (tests/tools/event_receiver.py records every body): a skopeo
# push, a berth pull and DELETEs produce distribution's events; filters and
# headers apply per endpoint; a receiver that is down for a while gets every
# event, in order, once it is up; a receiver that accepts and never answers
# slows no push or pull down and holds up no other endpoint; events queued
# when the server stops are delivered after it starts again; a full queue
# drops events and counts them; SIGHUP replaces the endpoints, all or
# nothing.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

for tool in jq skopeo htpasswd; do
	command -v "$tool" >/dev/null || {
		fail "$tool is installed" "run scripts/install-deps.sh"
		exit 1
	}
done

RECV=tests/tools/event_receiver.py
# recv_start NAME [MODE]: a receiver on port $PORT_NAME writing $T/NAME.jsonl.
recv_start() {
	local port_var=PORT_$1
	rm -f "$T/$1.jsonl.ready"
	bg python3 "$RECV" "${!port_var}" "$T/$1.jsonl" --mode "${2:-ok}"
	eval "PID_$1=$BG_PID"
	wait_for 60 test -e "$T/$1.jsonl.ready"
}
recv_stop() {
	local pid_var=PID_$1
	kill "${!pid_var}" 2>/dev/null
	wait "${!pid_var}" 2>/dev/null
}
# events NAME: every event NAME received, one compact JSON a line.
events() {
	[ -s "$T/$1.jsonl" ] || return 0
	jq -c '.body.events[]' "$T/$1.jsonl"
}
# count NAME JQ-FILTER: how many of NAME's events the filter selects.
count() { events "$1" | jq -c "select($2)" | wc -l; }
# has NAME JQ-FILTER: true when at least one event matches.
has() { [ "$(count "$1" "$2")" -ge 1 ]; }
# metric SERIES: its value on /metrics (0 when absent).
metric() {
	curl -s --max-time 60 -u root:pw-root "$SRV_URL/metrics" |
		awk -v s="$1" 'index($0, s " ") == 1 { print $2; f = 1 } END { if (!f) print 0 }'
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }
# put_m REPO TAG: puts v1's manifest as REPO:TAG (as alice).
put_m() {
	http_status PUT "$SRV_URL/v2/$1/manifests/$2" -u alice:pw-alice \
		-H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
		--data-binary "@$T/img/blobs/sha256/${M1#sha256:}" >/dev/null
}
metric_ge() { [ "$(metric "$1")" -ge "$2" ]; }

for n in all late hang filtered; do
	eval "PORT_$n=$(free_port)"
done

htpasswd -Bbc -C 4 "$T/htpasswd" alice pw-alice 2>/dev/null
htpasswd -Bb -C 4 "$T/htpasswd" root pw-root 2>/dev/null
cat >"$T/policy.json" <<'EOF'
{ "admins": ["root"],
  "rules": [{"repository": "**", "grant": {"alice": ["pull", "push", "delete"]}}] }
EOF
endpoints() {
	cat <<EOF
      {"name": "all", "url": "http://127.0.0.1:$PORT_all/events",
       "headers": {"Authorization": ["Bearer hook-token"], "X-Extra": "one"}},
      {"name": "late", "url": "http://127.0.0.1:$PORT_late/events",
       "threshold": 1, "backoff": "100ms", "maxbackoff": "500ms"},
      {"name": "hang", "url": "http://127.0.0.1:$PORT_hang/events",
       "timeout": "10m"},
      {"name": "filtered", "url": "http://127.0.0.1:$PORT_filtered/events",
       "ignore": {"actions": ["pull"], "mediatypes": ["application/octet-stream"]},
       "repositories": ["team/**"]}
EOF
}
cat >"$T/serve.json" <<EOF
{ "htpasswd": "$T/htpasswd", "policy": "$T/policy.json",
  "notifications": { "endpoints": [
$(endpoints)
  ] } }
EOF

recv_start all
recv_start hang hang
recv_start filtered
# "late" stays down for now.
SRV_STORAGE=$T/reg
serve_start --config "$T/serve.json" || { fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
H=$SRV_HOST

# ---- push, pull, delete ----
M1=$(make_layout "$T/img" v1 1 1000 300000)
M2=$(make_layout "$T/img" v2 2 5000)
run sk copy -q --dest-tls-verify=false --dest-creds alice:pw-alice \
	"oci:$T/img:v1" "docker://$H/team/app:v1"
check "skopeo pushes team/app:v1" 0
run sk copy -q --dest-tls-verify=false --dest-creds alice:pw-alice \
	"oci:$T/img:v2" "docker://$H/team/app:v2"
check "skopeo pushes team/app:v2" 0
mkdir -p "$T/docker"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$H" "$(printf alice:pw-alice | base64)" >"$T/docker/config.json"
chmod 600 "$T/docker/config.json"
run env DOCKER_CONFIG="$T/docker" "$BERTH" --root "$T/store" pull -q "$H/team/app:v1"
check "berth pulls team/app:v1" 0
run http_status DELETE "$SRV_URL/v2/team/app/manifests/v2" -u alice:pw-alice
same "a tag is deleted" "$OUT" 202
run http_status DELETE "$SRV_URL/v2/team/app/manifests/$M2" -u alice:pw-alice
same "a manifest is deleted by digest" "$OUT" 202

expect "the receiver gets both deletes" wait_for 120 has all '.action == "delete" and .target.digest == "'"$M2"'"'
MSIZE=$(stat -c %s "$T/img/blobs/sha256/${M1#sha256:}")
MT=application/vnd.oci.image.manifest.v1+json
expect "manifest push: repository, tag, digest, mediaType, size, actor, method" \
	has all '.action == "push" and .target.repository == "team/app" and .target.tag == "v1"
		and .target.digest == "'"$M1"'" and .target.mediaType == "'"$MT"'"
		and .target.size == '"$MSIZE"' and .target.length == '"$MSIZE"'
		and .actor.name == "alice" and .request.method == "PUT"
		and (.target.url | endswith("/v2/team/app/manifests/'"$M1"'"))
		and .source.instanceID != null and .id != null and .timestamp != null'
bad=0
for f in "$T"/img/blobs/sha256/*; do
	d=sha256:$(basename "$f")
	jq -e --arg d "$d" '[.manifests[].digest] | index($d)' "$T/img/index.json" >/dev/null && continue
	# a layer or config of v1 or v2: pushed as a blob
	has all '.action == "push" and .target.digest == "'"$d"'" and .target.size == '"$(stat -c %s "$f")"'
		and .target.mediaType == "application/octet-stream" and .target.repository == "team/app"' || bad=1
done
expect "every blob push is an event with its digest and size" test $bad = 0
expect "berth's pull is a pull event of the tag (manifest GET)" \
	has all '.action == "pull" and .target.tag == "v1" and .target.digest == "'"$M1"'"
		and .request.method == "GET" and .actor.name == "alice" and (.request.useragent | test("berth"))'
expect "the blobs berth pulled are pull events" \
	has all '.action == "pull" and .target.mediaType == "application/octet-stream" and .request.method == "GET"'
expect "a tag delete names the tag" \
	has all '.action == "delete" and .target.tag == "v2" and .target.repository == "team/app" and .target.digest == null'
expect "a manifest delete names the digest" \
	has all '.action == "delete" and .target.digest == "'"$M2"'" and .target.tag == null'
expect "the envelope's media type and the configured headers are sent" \
	test "$(jq -r 'select(.headers["content-type"] == "application/vnd.docker.distribution.events.v1+json"
		and .headers["authorization"] == "Bearer hook-token" and .headers["x-extra"] == "one") | .path' \
		"$T/all.jsonl" | sort -u)" = /events

# ---- filters ----
run sk copy -q --src-tls-verify=false --dest-tls-verify=false --src-creds alice:pw-alice \
	--dest-creds alice:pw-alice "docker://$H/team/app:v1" "docker://$H/other/app:v1"
check "skopeo copies team/app:v1 to other/app (mounting its blobs)" 0
expect "filtered: the team/app manifest push arrives" \
	wait_for 120 has filtered '.action == "push" and .target.digest == "'"$M1"'"'
expect "filtered: deletes arrive" wait_for 120 has filtered '.action == "delete" and .target.digest == "'"$M2"'"'
expect "all: the other/app push arrives" wait_for 120 has all '.action == "push" and .target.repository == "other/app"'
expect "all: the mounts are events naming the source repository" \
	has all '.action == "mount" and .target.repository == "other/app" and .target.fromRepository == "team/app"
		and .target.mediaType == "application/octet-stream" and .target.size > 0'
expect "filtered: no pull (ignored action)" test "$(count filtered '.action == "pull"')" = 0
expect "filtered: no blob (ignored media type)" \
	test "$(count filtered '.target.mediaType == "application/octet-stream"')" = 0
expect "filtered: nothing from other/app (repository pattern)" \
	test "$(count filtered '.target.repository == "other/app"')" = 0

# ---- a receiver that accepts and never answers ----
expect "the hanging receiver holds a delivery" wait_for 120 test -s "$T/hang.jsonl"
HELD=$(wc -l <"$T/hang.jsonl")
N=5
ok_pushes=0
for i in $(seq 1 $N); do
	sk copy -q --dest-tls-verify=false --dest-creds alice:pw-alice \
		"oci:$T/img:v1" "docker://$H/team/hang:h$i" && ok_pushes=$((ok_pushes + 1))
	env DOCKER_CONFIG="$T/docker" "$BERTH" --root "$T/store" pull -q "$H/team/hang:h$i" >/dev/null &&
		ok_pushes=$((ok_pushes + 1))
done
same "$N pushes and $N pulls complete while the receiver hangs" "$ok_pushes" $((2 * N))
same "...and it still holds the same one delivery (never answered)" "$(wc -l <"$T/hang.jsonl")" "$HELD"
expect "...and nothing was delivered to it" metric_is 'berth_events_delivered_total{endpoint="hang"}' 0
expect "the other endpoint gets those events meanwhile" \
	wait_for 120 has all '.action == "pull" and .target.tag == "h'"$N"'"'

# ---- a receiver that is down for a while ----
expect "attempts to the down receiver fail and are counted" \
	wait_for 120 metric_ge 'berth_events_failed_attempts_total{endpoint="late"}' 1
for i in $(seq 1 20); do
	put_m team/app "o$i"
done
wait_for 120 metric_ge 'berth_events_queued_total{endpoint="late"}' 1
QUEUED_LATE=$(metric 'berth_events_queued_total{endpoint="late"}')
expect "nothing reached it while down" metric_is 'berth_events_delivered_total{endpoint="late"}' 0
recv_start late
expect "once up, it gets every queued event" \
	wait_for 180 metric_is 'berth_events_delivered_total{endpoint="late"}' "$QUEUED_LATE"
expect "...as many as were queued for it, none lost" \
	test "$(events late | jq -r .id | sort -u | wc -l)" = "$QUEUED_LATE"
same "...in the order they happened" \
	"$(events late | jq -r 'select(.action == "push" and (.target.tag // "" | test("^o[0-9]+$"))) | .target.tag' | awk '!s[$0]++' | tr '\n' ' ')" \
	"$(for i in $(seq 1 20); do printf 'o%s ' "$i"; done)"
wait_for 120 metric_is 'berth_events_queue_depth{endpoint="all"}' 0
expect "...and the same events as the receiver that was up" \
	test "$(events late | jq -r .id | sort -u)" = "$(events all | jq -r .id | sort -u)"

# ---- undelivered events survive a restart ----
recv_stop late
for i in 1 2 3; do
	put_m team/app "r$i"
done
expect "three events queued for the stopped receiver" \
	wait_for 120 metric_ge 'berth_events_queue_depth{endpoint="late"}' 3
serve_stop
same "the server stops while a receiver hangs" "$SRV_RC" 0
recv_start late
serve_start --config "$T/serve.json" || { fail "serve starts again" "$(tail -n 3 "$T/serve.log")"; exit 1; }
expect "after the restart they are delivered" \
	wait_for 180 has late '.action == "push" and .target.tag == "r3"'
same "...all three, in order" \
	"$(events late | jq -r 'select(.action == "push" and (.target.tag // "" | test("^r[0-9]+$"))) | .target.tag' | awk '!s[$0]++' | tr '\n' ' ')" \
	"r1 r2 r3 "
expect "the log says how many were waiting" grep -q "endpoint 'late' .* events\? queued" "$T/serve.log"

# ---- SIGHUP: the endpoints replaced, all or nothing ----
reloads=0
hup() {
	reloads=$((reloads + 1))
	kill -HUP "$SRV_PID"
	wait_for 60 test "$(grep -c -e 'configuration reloaded' -e 'configuration not reloaded' "$T/serve.log")" -ge $reloads
}
cp "$T/serve.json" "$T/serve.good"
sed -i 's/"timeout": "10m"/"timeout": "10 parsecs"/' "$T/serve.json"
hup
expect "a bad endpoint is refused with its reason" grep -q "configuration not reloaded.*endpoint 'hang': a duration" "$T/serve.log"
put_m team/app after-bad
expect "...and the running endpoints still send" wait_for 120 has filtered '.target.tag == "after-bad"'
PORT_new=$(free_port)
recv_start new
cat >"$T/serve.json" <<EOF
{ "htpasswd": "$T/htpasswd", "policy": "$T/policy.json",
  "notifications": { "endpoints": [
      {"name": "new", "url": "http://127.0.0.1:$PORT_new/events", "headers": {"X-New": "yes"}}
  ] } }
EOF
hup
expect "a good one is applied" grep -q "configuration reloaded: .*event endpoints" "$T/serve.log"
put_m team/app after-reload
expect "the new endpoint gets events, with its headers" \
	wait_for 120 test "$(jq -r 'select(.headers["x-new"] == "yes") | .body.events[].target.tag' "$T/new.jsonl" 2>/dev/null | grep -c after-reload)" -ge 1
before=$(count filtered '.target.tag == "after-reload"')
same "a removed endpoint gets no more" "$before" 0
serve_stop
same "the server stops cleanly" "$SRV_RC" 0

# ---- a full queue drops events, counted ----
PORT_dead=$(free_port)
cat >"$T/small.json" <<EOF
{ "notify-queue-max": 3,
  "notifications": { "endpoints": [
      {"name": "dead", "url": "http://127.0.0.1:$PORT_dead/events", "backoff": "10m", "threshold": 1}
  ] } }
EOF
SRV_STORAGE=$T/reg2
serve_start --config "$T/small.json" || { fail "serve starts with a small queue" "$(tail -n 3 "$T/serve.log")"; exit 1; }
for f in "$T"/img/blobs/sha256/*; do push_blob team/full "$f" >/dev/null; done
NB=$(ls "$T/img/blobs/sha256" | wc -l)
expect "a queue of 3 keeps 3 events" metric_is 'berth_events_queue_depth{endpoint="dead"}' 3
expect "...and drops the rest, counted by reason" \
	metric_is 'berth_events_dropped_total{endpoint="dead",reason="queue_full"}' $((NB - 3))
expect "...and logged" grep -q "endpoint 'dead': dropping events: its queue is full" "$T/serve.log"
expect "the pushes themselves succeeded" test "$(http_status HEAD "$SRV_URL/v2/team/full/blobs/$M1")" = 200
serve_stop

done_testing

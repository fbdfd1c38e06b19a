#!/usr/bin/env bash
# berth serve's GET /metrics: promtool accepts it; its counters move by
# exactly the requests skopeo and berth made (checked against the access
# log of the same requests, never against numbers that depend on timing);
# only admins and the --metrics-allow addresses may read it; the limits,
# logins and connection caps are counted; and a real Prometheus server
# scrapes it and answers a query for one of its counters.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

for tool in promtool prometheus skopeo htpasswd; do
	command -v "$tool" >/dev/null || {
		fail "$tool is installed" "run scripts/install-deps.sh"
		exit 1
	}
done

htpasswd -Bbc -C 4 "$T/htpasswd" root pw-root 2>/dev/null
htpasswd -Bb -C 4 "$T/htpasswd" alice pw-alice 2>/dev/null
cat >"$T/policy.json" <<'EOF'
{ "admins": ["root"],
  "rules": [{"repository": "**", "grant": {"alice": ["pull", "push", "delete"]}}] }
EOF
serve_start --htpasswd "$T/htpasswd" --policy "$T/policy.json" \
	--metrics-allow 127.0.0.2,10.0.0.0/8 ||
	{ fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
H=$SRV_HOST
URL=$SRV_URL

SCRAPES=0
# scrape FILE: the metrics as root sees them.
scrape() {
	SCRAPES=$((SCRAPES + 1))
	curl -s --max-time 60 -u root:pw-root -o "$1" -w '%{http_code}' "$URL/metrics" >"$T/.code"
	[ "$(cat "$T/.code")" = 200 ]
}
# val SERIES FILE: the value of one series ("name{labels}"), 0 if absent.
val() { awk -v s="$1" 'index($0, s " ") == 1 { print $2; f = 1 } END { if (!f) print 0 }' "$2"; }
delta() { python3 -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1])))' "$(val "$1" "$2")" "$(val "$1" "$3")"; }

# compare BEFORE AFTER MARK: the request counters and response bytes that
# moved from BEFORE to AFTER, per route, method and status, against the
# access-log lines after line MARK (scrapes left out on both sides).
compare() {
	python3 - "$1" "$2" "$T/access.log" "$3" <<'PY'
import collections, re, sys

def series(path, name):
    out = collections.Counter()
    for line in open(path):
        m = re.match(name + r'\{(.*)\} (\S+)$', line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            if labels.get("route") != "metrics":
                out[tuple(sorted(labels.items()))] = float(m.group(2))
    return out

def route(path):
    rules = [(r"^/v2/$", "base"), (r"^/v2/_catalog$", "catalog"),
             (r"^/v2/.+/tags/list$", "tags"), (r"^/v2/.+/manifests/[^/]+$", "manifest"),
             (r"^/v2/.+/blobs/uploads/$", "blob_upload"),
             (r"^/v2/.+/blobs/uploads/[^/]+$", "blob_upload_chunk"),
             (r"^/v2/.+/blobs/[^/]+$", "blob"), (r"^/v2/.+/referrers/[^/]+$", "referrers"),
             (r"^/token$", "token"), (r"^/metrics$", "metrics")]
    for pat, name in rules:
        if re.match(pat, path):
            return name
    return "none"

before_req, after_req = series(sys.argv[1], "berth_http_requests_total"), series(sys.argv[2], "berth_http_requests_total")
before_b, after_b = series(sys.argv[1], "berth_http_response_body_bytes_total"), series(sys.argv[2], "berth_http_response_body_bytes_total")
moved = {k: after_req[k] - before_req[k] for k in after_req if after_req[k] != before_req[k]}
bytes_moved = {k: after_b[k] - before_b[k] for k in after_b if after_b[k] != before_b[k]}
logged, logged_bytes = collections.Counter(), collections.Counter()
for line in open(sys.argv[3]).readlines()[int(sys.argv[4]):]:
    m = re.match(r'\S+ \S+ \S+ "(\S+) (\S+)" (\d+) (\d+) ', line)
    if not m or route(m.group(2)) == "metrics":
        continue
    r = route(m.group(2))
    logged[(("code", m.group(3)), ("method", m.group(1)), ("route", r))] += 1
    if int(m.group(4)):
        logged_bytes[(("route", r),)] += int(m.group(4))
ok = moved == dict(logged) and bytes_moved == dict(logged_bytes)
if not ok:
    print("metrics:", sorted(moved.items()), sorted(bytes_moved.items()))
    print("access log:", sorted(logged.items()), sorted(logged_bytes.items()))
sys.exit(0 if ok else 1)
PY
}
# settled BEFORE MARK: scrapes into $T/after until compare agrees (the
# last answers' metrics are recorded as their requests complete).
settled() { scrape "$T/after" && compare "$1" "$T/after" "$2" >"$T/compare.out"; }
blob_bytes() { # the bytes of every blob of layout DIR but its manifest M
	local sum=0 f
	for f in "$1"/blobs/sha256/*; do
		[ "sha256:$(basename "$f")" = "$2" ] || sum=$((sum + $(stat -c %s "$f")))
	done
	echo $sum
}

# ---- the format ----
expect "root (an admin) scrapes" scrape "$T/m0"
run promtool check metrics <"$T/m0"
check "promtool accepts the metrics" 0
expect "the content type is the text format 0.0.4" \
	grep -qi '^content-type: text/plain; version=0.0.4' <(curl -s -D - -o /dev/null -u root:pw-root "$URL/metrics")
expect "process facts are there" grep -q '^process_resident_memory_bytes [1-9]' "$T/m0"
expect "... and the open descriptors" grep -q '^process_open_fds [1-9]' "$T/m0"
expect "... and the start time" grep -q '^process_start_time_seconds [1-9]' "$T/m0"

# ---- a push by skopeo: requests, bytes in, upload sessions ----
M=$(make_layout "$T/img" v1 7 3000 200000 1500000)
scrape "$T/b1"
MARK=$(wc -l <"$T/access.log")
run sk copy --dest-creds alice:pw-alice --dest-tls-verify=false "oci:$T/img:v1" "docker://$H/team/app:v1"
check "skopeo pushes an image" 0
expect "the request counters moved as the access log says (push)" wait_for 120 settled "$T/b1" "$MARK"
cat "$T/compare.out"
same "a manifest PUT, counted once" "$(delta 'berth_http_requests_total{route="manifest",method="PUT",code="201"}' "$T/b1" "$T/after")" 1
NBLOBS=$(($(ls "$T/img/blobs/sha256" | wc -l) - 1))
same "one upload session started per blob" "$(delta berth_upload_sessions_started_total "$T/b1" "$T/after")" "$NBLOBS"
same "... and as many completed" "$(delta 'berth_upload_sessions_ended_total{outcome="completed"}' "$T/b1" "$T/after")" "$NBLOBS"
same "no session is left open" "$(val berth_upload_sessions_open "$T/after")" 0
up_in=$(($(val 'berth_http_request_body_bytes_total{route="blob_upload"}' "$T/after") - $(val 'berth_http_request_body_bytes_total{route="blob_upload"}' "$T/b1") + $(val 'berth_http_request_body_bytes_total{route="blob_upload_chunk"}' "$T/after") - $(val 'berth_http_request_body_bytes_total{route="blob_upload_chunk"}' "$T/b1")))
same "bytes received on uploads are the blobs' bytes" "$up_in" "$(blob_bytes "$T/img" "$M")"
same "bytes received on manifests are the manifest's" \
	"$(delta 'berth_http_request_body_bytes_total{route="manifest"}' "$T/b1" "$T/after")" \
	"$(stat -c %s "$T/img/blobs/sha256/${M#sha256:}")"

# ---- pulls by skopeo and berth: bytes out ----
mkdir -p "$T/docker" "$T/home"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$H" "$(printf alice:pw-alice | base64)" >"$T/docker/config.json"
scrape "$T/b2"
MARK=$(wc -l <"$T/access.log")
run sk copy --src-creds alice:pw-alice --src-tls-verify=false "docker://$H/team/app:v1" "oci:$T/out:v1"
check "skopeo pulls it" 0
run env DOCKER_CONFIG="$T/docker" HOME="$T/home" BERTH_DAEMON_JSON="$T/daemon.json" \
	"$BERTH" --root "$T/store" pull -q "$H/team/app:v1"
check "berth pulls it" 0
expect "the request counters and bytes sent moved as the access log says (pulls)" wait_for 120 settled "$T/b2" "$MARK"
cat "$T/compare.out"
same "the blobs' bytes went out twice, once per client" \
	"$(delta 'berth_http_response_body_bytes_total{route="blob"}' "$T/b2" "$T/after")" $((2 * $(blob_bytes "$T/img" "$M")))
cp "$T/after" "$T/b3"

# ---- a push by berth, and logins ----
SCRAPES=0
MARK=$(wc -l <"$T/access.log")
run env DOCKER_CONFIG="$T/docker" HOME="$T/home" BERTH_DAEMON_JSON="$T/daemon.json" \
	"$BERTH" --root "$T/store" tag "$H/team/app:v1" "$H/berth/pushed:v1"
run env DOCKER_CONFIG="$T/docker" HOME="$T/home" BERTH_DAEMON_JSON="$T/daemon.json" \
	"$BERTH" --root "$T/store" push "$H/berth/pushed:v1"
check "berth pushes it" 0
got=$(curl -s -o /dev/null -w '%{http_code}' -u alice:wrong "$URL/v2/")
same "a wrong password is refused" "$got" 401
expect "the request counters moved as the access log says (berth push)" wait_for 120 settled "$T/b3" "$MARK"
cat "$T/compare.out"
same "a wrong password is a failed login" "$(delta 'berth_logins_total{result="failed"}' "$T/b3" "$T/after")" 1
signed_in=$(tail -n +"$((MARK + 1))" "$T/access.log" | awk '$3 != "-" && $5 !~ /^\/metrics/' | wc -l)
logins=$(($(delta 'berth_logins_total{result="ok"}' "$T/b3" "$T/after") + $(delta 'berth_logins_total{result="ok_cached"}' "$T/b3" "$T/after")))
same "a good login per signed-in request (and per scrape)" "$logins" $((signed_in + SCRAPES))
same "upload sessions: as many ended as started" \
	"$(delta berth_upload_sessions_started_total "$T/b3" "$T/after")" \
	"$(python3 -c 'import sys; print(sum(round(float(x)) for x in sys.argv[1:]))' $(for o in completed cancelled expired failed; do delta "berth_upload_sessions_ended_total{outcome=\"$o\"}" "$T/b3" "$T/after"; done))"
run promtool check metrics <"$T/after"
check "promtool accepts the metrics after the traffic" 0

# ---- who may scrape ----
got=$(http_status GET "$URL/metrics")
same "anonymous scrapers get 401" "$got" 401
expect "... with a challenge" test -n "$(last_header WWW-Authenticate)"
got=$(http_status GET "$URL/metrics" -u alice:pw-alice)
same "a user who is no admin gets 403" "$got" 403
expect "... with what to do" grep -q "admins" "$T/.body"
got=$(http_status GET "$URL/metrics" -u root:wrong)
same "an admin with a wrong password gets 401" "$got" 401
got=$(http_status GET "$URL/metrics" --interface 127.0.0.2)
same "an address of --metrics-allow scrapes without credentials" "$got" 200
got=$(http_status GET "$URL/metrics" --interface 127.0.0.3)
same "... and only those" "$got" 401
got=$(http_status GET "$URL/metrics?x=1" -u root:pw-root)
same "a query does not change the route" "$got" 200

# ---- a real Prometheus server scrapes it ----
scrape "$T/now"
want=$(val 'berth_http_requests_total{route="manifest",method="PUT",code="201"}' "$T/now")
PP=$(free_port)
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: berth
    scrape_interval: 1s
    metrics_path: /metrics
    basic_auth:
      username: root
      password: pw-root
    static_configs:
      - targets: ["$H"]
EOF
bg prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
	--web.listen-address="127.0.0.1:$PP" --log.level=warn 2>"$T/prometheus.log"
PROM_PID=$BG_PID
# queried VALUE: Prometheus's latest value of the counter is VALUE.
queried() {
	curl -s --max-time 30 "http://127.0.0.1:$PP/api/v1/query" \
		--data-urlencode 'query=berth_http_requests_total{job="berth",route="manifest",method="PUT",code="201"}' >"$T/q.json" &&
		python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["data"]["result"]
sys.exit(0 if r and float(r[0]["value"][1]) == float(sys.argv[2]) else 1)' "$T/q.json" "$1"
}
expect "Prometheus scrapes berth serve and answers the counter's value ($want)" wait_for 600 queried "$want"
up=$(curl -s "http://127.0.0.1:$PP/api/v1/query" --data-urlencode 'query=up{job="berth"}' |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
same "Prometheus sees the target up" "$up" 1
kill "$PROM_PID"
wait "$PROM_PID" 2>/dev/null
expect "Prometheus is stopped" test ! -e "/proc/$PROM_PID"
serve_stop

# ---- without access control: --metrics-allow alone decides; the
# request-rate limit is counted ----
SRV_STORAGE=$T/reg2
serve_start --rate-limit 1 --metrics-allow 127.0.0.2 --audit-log "$T/audit2.log" ||
	{ fail "serve starts with a rate limit" "$(tail -n 3 "$T/serve.log")"; exit 1; }
# (The request rate may refuse it first: until the answer is the policy's.)
forbidden() { [ "$(http_status GET "$SRV_URL/metrics")" = 403 ]; }
expect "without access control, an address not allowed gets 403" wait_for 60 forbidden
expect "... with what to do" grep -q "metrics-allow" "$T/.body"
scrape2() { curl -sf --max-time 60 --interface 127.0.0.2 -o "$1" "$SRV_URL/metrics"; }
expect "an allowed address scrapes" scrape2 "$T/r0"
AMARK=$(wc -l <"$T/audit2.log" 2>/dev/null || echo 0)
refused_some() {
	curl -s "$SRV_URL/v2/" "$SRV_URL/v2/" "$SRV_URL/v2/" "$SRV_URL/v2/" >/dev/null
	tail -n +"$((AMARK + 1))" "$T/audit2.log" 2>/dev/null | grep -q '"request rate"'
}
expect "requests beyond the rate limit are refused" wait_for 120 refused_some
rate_settled() {
	scrape2 "$T/r1" &&
		[ "$(delta 'berth_limit_refusals_total{limit="request_rate"}' "$T/r0" "$T/r1")" = \
			"$(tail -n +"$((AMARK + 1))" "$T/audit2.log" | grep -c '"request rate"')" ]
}
expect "rate-limit refusals are counted, as many as the audit log has" wait_for 120 rate_settled
serve_stop

# ---- pull limits and the per-address connection cap ----
SRV_STORAGE=$T/reg3
serve_start --pull-limit anonymous=2/1h --max-connections-per-ip 2 ||
	{ fail "serve starts with limits" "$(tail -n 3 "$T/serve.log")"; exit 1; }
scrape3() { curl -sf --max-time 60 -o "$1" "$SRV_URL/metrics"; }
M3=$(make_layout "$T/img3" v1 9 1000)
got=$(push_layout a/b v1 "$T/img3" "$M3")
same "seed a/b:v1" "$got" 201
scrape3 "$T/p0"
codes=$(for i in 1 2 3; do http_status GET "$SRV_URL/v2/a/b/manifests/v1" --interface 127.0.0.4; echo; done | tr '\n' ' ')
same "two pulls pass, the third is refused" "$codes" "200 200 429 "
pull_counted() {
	scrape3 "$T/p1" && [ "$(delta 'berth_limit_refusals_total{limit="pull"}' "$T/p0" "$T/p1")" = 1 ]
}
expect "the pull-limit refusal is counted once" wait_for 120 pull_counted
python3 - "$SRV_PORT" "$T/held" <<'PY' &
import socket, sys, time, os
port, flag = int(sys.argv[1]), sys.argv[2]
held = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.3", 0)); s.connect(("127.0.0.1", port)); held.append(s)
open(flag, "w").close()
while os.path.exists(flag):
    time.sleep(0.1)
PY
_pids+=($!)
HOLDER=$!
expect "two connections from 127.0.0.3 are held" wait_for 120 test -e "$T/held"
held_open() { scrape3 "$T/c0" && [ "$(val berth_http_connections_open "$T/c0")" = 3 ]; }
expect "connections open: the two held and the scrape's" wait_for 120 held_open
# The third connection from that address: MHD closes it at once.
third=$(python3 - "$SRV_PORT" <<'PY'
import socket, sys
s = socket.socket(); s.bind(("127.0.0.3", 0)); s.settimeout(60)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    print("closed" if s.recv(100) == b"" else "answered")
except ConnectionResetError:
    print("closed")
PY
)
same "a third connection from the address is closed" "$third" closed
cap_counted() {
	scrape3 "$T/c1" && [ "$(delta berth_http_connections_refused_total "$T/c0" "$T/c1")" = 1 ]
}
expect "the refused connection is counted" wait_for 120 cap_counted
rm -f "$T/held"
wait "$HOLDER" 2>/dev/null
released() { scrape3 "$T/c2" && [ "$(val berth_http_connections_open "$T/c2")" = 1 ]; }
expect "connections open falls back when they close" wait_for 120 released
run promtool check metrics <"$T/c2"
check "promtool accepts the metrics of a server without access control" 0
serve_stop

# ---- with token authentication: an admin's Bearer token ----
SRV_STORAGE=$T/reg4
serve_start --auth token --htpasswd "$T/htpasswd" --policy "$T/policy.json" ||
	{ fail "serve starts with tokens" "$(tail -n 3 "$T/serve.log")"; exit 1; }
token_of() { curl -s -u "$1" "$SRV_URL/token?service=berth" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'; }
got=$(http_status GET "$SRV_URL/metrics" -H "Authorization: Bearer $(token_of root:pw-root)")
same "an admin's token reads the metrics" "$got" 200
got=$(http_status GET "$SRV_URL/metrics" -H "Authorization: Bearer $(token_of alice:pw-alice)")
same "a token of a user who is no admin gets 403" "$got" 403
got=$(http_status GET "$SRV_URL/metrics")
same "no token: 401" "$got" 401
expect "... with a Bearer challenge" grep -q '^Bearer realm=' <<<"$(last_header WWW-Authenticate)"
serve_stop

done_testing

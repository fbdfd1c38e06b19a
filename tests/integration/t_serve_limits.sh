#!/usr/bin/env bash
# berth serve's pull limits (per user, per address for anonymous callers,
# sliding windows, kept across restarts), the request-rate guard, and
# client certificates naming the user under a policy.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

htpasswd -Bbc "$T/htpasswd" alice pw-a 2>/dev/null
htpasswd -Bb "$T/htpasswd" bob pw-b 2>/dev/null
htpasswd -Bb "$T/htpasswd" carol pw-c 2>/dev/null
cat >"$T/serve.json" <<JSON
{ "auth": "htpasswd", "htpasswd": "$T/htpasswd",
  "pull-limit": "anonymous=3/1h,user=4/1h",
  "pull-limit-users": { "carol": "unlimited" },
  "policy": { "rules": [
    { "repository": "**", "grant": { "authenticated": ["pull", "push"] } },
    { "repository": "public/*", "grant": { "anonymous": ["pull"] } } ] },
  "audit-log": "$T/audit.log" }
JSON
serve_start --config "$T/serve.json" ||
	{ fail "serve starts with pull limits" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
M=$(make_layout "$T/img" v1 5 1000)
for f in "$T"/img/blobs/sha256/*; do
	d=sha256:$(basename "$f")
	[ "$d" = "$M" ] && continue
	for repo in public/app team/app; do
		curl -s -o /dev/null -u alice:pw-a -X POST --data-binary "@$f" \
			-H 'Content-Type: application/octet-stream' "$R/v2/$repo/blobs/uploads/?digest=$d"
	done
done
MF=$T/img/blobs/sha256/${M#sha256:}
for repo in public/app team/app; do
	got=$(http_status PUT "$R/v2/$repo/manifests/v1" -u alice:pw-a \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$MF")
	expect "seed $repo" test "$got" = 201
done
LAYER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$MF")

# ---- anonymous: 3 per hour, per address ----
# The windows here are an hour long, so that what counts inside a window
# does not depend on how fast the machine is; the window sliding is
# tested below with a short one.
for i in 1 2 3 4 5; do
	got=$(http_status HEAD "$R/v2/public/app/manifests/v1" -I)
done
expect "HEAD is answered" test "$got" = 200
expect "HEAD carries the limit" test "$(last_header RateLimit-Limit)" = "3;w=3600"
expect "HEAD is not counted" test "$(last_header RateLimit-Remaining)" = "3;w=3600"
for i in 1 2 3; do
	got=$(http_status GET "$R/v2/public/app/manifests/v1")
	expect "anonymous pull $i is 200" test "$got" = 200
	expect "anonymous pull $i: RateLimit-Remaining $((3 - i))" test "$(last_header RateLimit-Remaining)" = "$((3 - i));w=3600"
done
got=$(http_status GET "$R/v2/public/app/blobs/$LAYER")
expect "blob GETs are not counted" test "$got" = 200 -a -z "$(last_header RateLimit-Remaining)"
got=$(http_status GET "$R/v2/public/app/manifests/v1")
expect "pull 4 of 3 is 429" test "$got" = 429
expect "429 is TOOMANYREQUESTS" grep -q '"code":"TOOMANYREQUESTS"' "$T/.body"
expect "429 says what to do" grep -q 'log in' "$T/.body"
ra=$(last_header Retry-After)
expect "429 has Retry-After within the window ($ra)" test -n "$ra" && test "$ra" -gt 0 -a "$ra" -le 3600
expect "429 has RateLimit headers" test "$(last_header RateLimit-Remaining)" = "0;w=3600"
got=$(http_status HEAD "$R/v2/public/app/manifests/v1" -I)
expect "HEAD still answers over the limit" test "$got" = 200
got=$(http_status GET "$R/v2/public/app/manifests/v1" -u bob:pw-b)
expect "a signed-in user is not affected by the anonymous limit" test "$got" = 200

# ---- users: 4 per hour each; carol unlimited ----
for i in 1 2 3 4; do
	got=$(http_status GET "$R/v2/team/app/manifests/v1" -u alice:pw-a)
done
expect "alice's 4th pull is 200" test "$got" = 200
expect "alice's limit header" test "$(last_header RateLimit-Limit)" = "4;w=3600"
got=$(http_status GET "$R/v2/team/app/manifests/v1" -u alice:pw-a)
expect "alice's 5th pull is 429" test "$got" = 429
expect "the user message names the user and the window" grep -q "'alice' may pull 4 manifests per 1h" "$T/.body"
ra=$(last_header Retry-After)
expect "Retry-After is within the hour" test "$ra" -gt 3000 -a "$ra" -le 3600
got=$(http_status GET "$R/v2/team/app/manifests/v1" -u bob:pw-b)
expect "bob is not affected by alice's pulls" test "$got" = 200 -a "$(last_header RateLimit-Remaining)" = "2;w=3600"
for i in 1 2 3; do
	got=$(http_status GET "$R/v2/team/app/manifests/nosuchtag$i" -u bob:pw-b)
done
expect "a manifest GET that finds nothing is 404" test "$got" = 404
expect "... and does not count as a pull" test "$(last_header RateLimit-Remaining)" = "2;w=3600"
for i in 1 2 3 4 5 6; do
	got=$(http_status GET "$R/v2/team/app/manifests/v1" -u carol:pw-c)
done
expect "carol is unlimited" test "$got" = 200 -a -z "$(last_header RateLimit-Limit)"
expect "a refusal is audited" grep -q '"action":"denied","user":"alice".*pull limit.*"status":429' "$T/audit.log"

# ---- counters survive a restart ----
serve_stop
expect "SIGTERM stops it cleanly" test "$SRV_RC" = 0
serve_start --config "$T/serve.json" ||
	{ fail "restart" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
got=$(http_status GET "$R/v2/team/app/manifests/v1" -u alice:pw-a)
expect "after a restart alice is still limited" test "$got" = 429
got=$(http_status GET "$R/v2/team/app/manifests/v1" -u bob:pw-b)
expect "after a restart bob's count is kept (1 left)" test "$got" = 200 -a "$(last_header RateLimit-Remaining)" = "1;w=3600"
# The counters are saved every second: killed once bob's third pull is.
bob_saved() {
	python3 - "$SRV_STORAGE/metadata.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
row = c.execute("SELECT counts FROM pull_counts WHERE key = 'user:bob'").fetchone()
sys.exit(0 if row and sum(int(n) for n in row[0].split(",")) == 3 else 1)
PY
}
expect "bob's pulls are saved while the server runs" wait_for 120 bob_saved
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
serve_start --config "$T/serve.json" ||
	{ fail "restart after SIGKILL" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
got=$(http_status GET "$R/v2/team/app/manifests/v1" -u bob:pw-b)
expect "after SIGKILL bob's saved count holds (last pull)" test "$got" = 200 -a "$(last_header RateLimit-Remaining)" = "0;w=3600"
got=$(http_status GET "$R/v2/team/app/manifests/v1" -u bob:pw-b)
expect "... and the next is 429" test "$got" = 429
serve_stop

# ---- the window slides: 1 per 3 s ----
sed 's|"anonymous=3/1h,user=4/1h"|"anonymous=1/3s,user=4/1h"|' "$T/serve.json" >"$T/serve-slide.json"
serve_start --config "$T/serve-slide.json" ||
	{ fail "serve starts with a short window" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
t0=$(date +%s)
got=$(http_status GET "$R/v2/public/app/manifests/v1")
expect "a short window: the first pull is 200" test "$got" = 200
got=$(http_status GET "$R/v2/public/app/manifests/v1")
elapsed=$(($(date +%s) - t0))
# Both pulls lie less than elapsed + 1 s apart: below 2 s they are inside
# the 3 s window (whose 60 slots round by 50 ms), and the second is 429.
expect "a second pull inside the window is 429 (${elapsed} s)" test "$got" = 429 -o "$elapsed" -ge 2
pull_passes() { [ "$(http_status GET "$R/v2/public/app/manifests/v1")" = 200 ]; }
expect "the window slides: pulls are possible again" wait_for 60 pull_passes
serve_stop

# ---- the request-rate guard ----
serve_start --rate-limit 5 || { fail "serve starts with --rate-limit" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
# One curl for each burst, each answer's status, Retry-After and body
# kept. Tokens refill while a burst runs, so the bound on what passes grows
# with its length; a machine so slow that a burst of 20 never outruns 5
# per second is given more bursts (for at most two minutes).
burst() {
	local t0 ms
	t0=$(date +%s%N)
	codes=$(curl -s -o "$T/burst_#1" -w '%{http_code} %header{retry-after}\n' "$R/v2/?n=[1-20]")
	ms=$((($(date +%s%N) - t0) / 1000000))
	passed=$(grep -c '^200' <<<"$codes")
	bursts=$((bursts + 1))
	[ "$bursts" = 1 ] && first_passed=$passed
	[ "$passed" -gt $((6 + 5 * (ms + 999) / 1000)) ] && over="$over $passed in $ms ms;"
	grep -q '^429' <<<"$codes"
}
bursts=0 first_passed=0 over=""
expect "a burst over the request rate gets 429s" wait_for 120 burst
# The first burst starts with a full bucket, less serve_start's probe.
expect "the first burst passes the allowed burst (at least 4 of 5)" test "$first_passed" -ge 4
expect "no burst passes more than 5, plus 5 for each second it lasted ($over)" test -z "$over"
# guard_429_says_so: the burst's first 429 explains itself and says when
# to come back.
guard_429_says_so() {
	local n
	n=$(grep -n '^429' <<<"$codes" | head -n1 | cut -d: -f1)
	[ -n "$n" ] && grep -q 'per second' "$T/burst_$n" &&
		[ "$(sed -n "${n}p" <<<"$codes")" = "429 1" ]
}
expect "the guard's 429 says so, with Retry-After: 1" guard_429_says_so
sleep 1.2
got=$(http_status GET "$R/v2/")
expect "a second later requests pass again" test "$got" = 200
serve_stop

# ---- client certificates name the user under a policy ----
C=$T/certs
mkdir -p "$C"
(
	cd "$C" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=berth test CA' -keyout ca.key -out ca.crt
	openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout server.key -out server.csr
	printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.crt
	for u in alice bob; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$u" -keyout $u.key -out $u.csr
		openssl x509 -req -in $u.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out $u.crt
	done
) >"$T/openssl.log" 2>&1 || { fail "test CA" "$(tail -n 5 "$T/openssl.log")"; exit 1; }
printf '{"rules": [{"repository": "team/*", "grant": {"alice": ["pull"]}}]}' >"$T/cert-policy.json"
serve_start --tls-cert "$C/server.crt" --tls-key "$C/server.key" --tls-client-ca "$C/ca.crt" \
	--policy "$T/cert-policy.json" --audit-log "$T/audit2.log" ||
	{ fail "serve starts with client certificates and a policy" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
got=$(http_status GET "$R/v2/team/app/manifests/v1" --cacert "$C/ca.crt" --cert "$C/alice.crt" --key "$C/alice.key")
expect "the certificate's CN alice may pull team/app" test "$got" = 200
got=$(http_status GET "$R/v2/team/app/manifests/v1" --cacert "$C/ca.crt" --cert "$C/bob.crt" --key "$C/bob.key")
expect "the certificate's CN bob may not (403)" test "$got" = 403
got=$(http_status POST "$R/v2/team/app/blobs/uploads/" --cacert "$C/ca.crt" --cert "$C/alice.crt" --key "$C/alice.key")
expect "alice may not push (403)" test "$got" = 403
expect "the audit log names the certificate's user" grep -q '"action":"pull","user":"alice"' "$T/audit2.log"
expect "the access log names the certificate's user" grep -q ' alice "GET /v2/team/app/manifests/v1" 200 ' "$T/access.log"
serve_stop
done_testing

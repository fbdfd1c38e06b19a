#!/usr/bin/env bash
# SIGHUP reloads berth serve's configuration: the policy, the htpasswd file,
# the TLS certificate, the limits (an upload cap) and the token settings
# (issuer, lifetime) are replaced without dropping requests in flight; a
# configuration that does not load is refused with the reason in the log
# and the running one serves on; settings that need a restart say so, one
# line each.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

# wait_log PATTERN: waits (up to 60 s) for a line of the server log.
wait_log() {
	local n=600
	until grep -q -- "$1" "$T/serve.log"; do
		[ $n -le 0 ] && return 1
		sleep 0.1
		n=$((n - 1))
	done
}
# hup PATTERN: sends SIGHUP and waits for the n-th reload's outcome.
reloads=0
hup() {
	reloads=$((reloads + 1))
	kill -HUP "$SRV_PID"
	local n=600
	while [ "$(grep -c -e 'configuration reloaded' -e 'configuration not reloaded' "$T/serve.log")" -lt $reloads ]; do
		[ $n -le 0 ] && return 1
		sleep 0.1
		n=$((n - 1))
	done
}

htpasswd -Bbc "$T/htpasswd" root pw-root 2>/dev/null
htpasswd -Bb "$T/htpasswd" bob pw-bob 2>/dev/null
cat >"$T/policy.json" <<'JSON'
{ "admins": ["root"], "rules": [] }
JSON
cat >"$T/serve.json" <<JSON
{ "htpasswd": "$T/htpasswd", "policy": "$T/policy.json", "realm": "one" }
JSON
serve_start --config "$T/serve.json" ||
	{ fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
head -c $((8 << 20)) /dev/urandom >"$T/blob"
D=$(sha256_of "$T/blob")
got=$(http_status POST "$R/v2/a/x/blobs/uploads/?digest=$D" -u root:pw-root \
	-H 'Content-Type: application/octet-stream' --data-binary "@$T/blob")
expect "the admin pushes an 8 MiB blob" test "$got" = 201
expect "bob may not read it yet" \
	test "$(http_status GET "$R/v2/a/x/blobs/$D" -u bob:pw-bob)" = 403

# A download read slowly (64 KiB per 50 ms, through a small receive
# buffer, so that most of the blob is still on the server's side) is in
# flight across the reloads; it prints the digest of what it read.
python3 - "$SRV_PORT" "/v2/a/x/blobs/$D" >"$T/down" 2>&1 <<'PY' &
import base64, hashlib, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.connect(("127.0.0.1", int(sys.argv[1])))
auth = base64.b64encode(b"root:pw-root").decode()
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"
           "Connection: close\r\n\r\n" % (sys.argv[2], auth)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, body = buf.split(b"\r\n\r\n", 1)
sys.stderr.write("started\n")
sys.stderr.flush()
h = hashlib.sha256(body)
while True:
    time.sleep(0.05)
    chunk = s.recv(65536)
    if not chunk:
        break
    h.update(chunk)
print(head.split(b"\r\n")[0].decode(), "sha256:" + h.hexdigest())
PY
DOWN=$!
n=600
until grep -q started "$T/down" || [ $n -le 0 ]; do sleep 0.1; n=$((n - 1)); done
expect "the slow download has started" grep -q started "$T/down"

cat >"$T/policy.json" <<'JSON'
{ "admins": ["root"],
  "rules": [ { "repository": "a/**", "grant": { "bob": ["pull"] } } ] }
JSON
hup
expect "SIGHUP reloads" grep -q "configuration reloaded: policy, users" "$T/serve.log"
expect "the download is still in flight after the reload" kill -0 "$DOWN"
expect "the changed policy takes effect" \
	test "$(http_status GET "$R/v2/a/x/blobs/$D" -u bob:pw-bob -o /dev/null)" = 200

echo '{ "htpasswd": ' >"$T/serve.json"
hup
expect "a config file that does not parse is refused, with the reason" \
	grep -q "configuration not reloaded, the running one stays: config file '$T/serve.json'" "$T/serve.log"
expect "the running configuration serves on" \
	test "$(http_status GET "$R/v2/a/x/blobs/$D" -u bob:pw-bob -o /dev/null)" = 200

cat >"$T/serve.json" <<JSON
{ "htpasswd": "$T/htpasswd", "policy": "$T/policy.json", "realm": "one" }
JSON
echo '{ "admins": ["root"], "rulez": [] }' >"$T/policy.json"
hup
expect "a policy that does not validate is refused, with the reason" \
	grep -q "configuration not reloaded, the running one stays: .*rulez" "$T/serve.log"
expect "the running policy stays" \
	test "$(http_status GET "$R/v2/a/x/blobs/$D" -u bob:pw-bob -o /dev/null)" = 200

# One upload session open under the default cap (100 per client): a
# reload that lowers the cap to 1 refuses the next one.
expect "an upload session opens under the default cap" \
	test "$(http_status POST "$R/v2/a/cap/blobs/uploads/" -u root:pw-root)" = 202
cat >"$T/policy.json" <<'JSON'
{ "admins": ["root"], "rules": [] }
JSON
cat >"$T/serve.json" <<JSON
{ "htpasswd": "$T/htpasswd", "policy": "$T/policy.json", "realm": "two",
  "log-level": "debug", "threads": 3, "max-connections-per-ip": 50,
  "upload-sessions-per-client": 1 }
JSON
hup
expect "a setting that needs a restart says so" \
	grep -q "setting 'threads' changed: it takes effect at the next restart; until then the value at start stays" "$T/serve.log"
expect "one line for each such setting" \
	grep -q "setting 'max-connections-per-ip' changed: it takes effect at the next restart" "$T/serve.log"
expect "settings that reload are not called restart-only" \
	sh -c "! grep -q -e \"setting 'realm' changed\" -e \"setting 'upload-sessions-per-client' changed\" '$T/serve.log'"
expect "the rest is applied" \
	test "$(http_status GET "$R/v2/a/x/blobs/$D" -u bob:pw-bob -o /dev/null)" = 403
expect "the log level is applied" grep -q "log level debug" "$T/serve.log"
http_status GET "$R/v2/" >/dev/null
expect "the new realm is in the challenge" grep -qi 'realm="two"' "$T/.headers"
got=$(http_status POST "$R/v2/a/cap/blobs/uploads/" -u root:pw-root)
expect "the lowered upload cap applies at once ($got)" test "$got" = 429
expect "its 429 names the new cap" grep -q "already has 1 upload sessions open" "$T/.body"

wait "$DOWN"
expect "the download in flight completed" test $? = 0
same "with every byte" "$(tail -n 1 "$T/down")" "HTTP/1.1 200 OK $D"
expect "the server saw it through (no 'aborted')" \
	grep -q "\"GET /v2/a/x/blobs/$D\" 200 8388608 [0-9.]*ms\$" "$T/access.log"
expect "the server is still up" kill -0 "$SRV_PID"
serve_stop
expect "and stops cleanly" test "$SRV_RC" = 0

# ---- token settings ----
SRV_STORAGE=$T/reg-token
rm -f "$T/serve.log"
reloads=0
cat >"$T/serve.json" <<JSON
{ "auth": "token", "htpasswd": "$T/htpasswd", "policy": "$T/policy.json" }
JSON
serve_start --config "$T/serve.json" ||
	{ fail "serve starts with tokens" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
# token FIELD: a field of root's /token answer
token() {
	curl -s -u root:pw-root "$R/token?service=berth&scope=repository:a/x:pull" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
OLD=$(token token)
expect "a token at start lives token-ttl's default (300 s)" test "$(token expires_in)" = 300
expect "the token is good" \
	test "$(http_status GET "$R/v2/" -H "Authorization: Bearer $OLD")" = 200
cat >"$T/serve.json" <<JSON
{ "auth": "token", "htpasswd": "$T/htpasswd", "policy": "$T/policy.json",
  "token-issuer": "berth-two", "token-ttl": 120 }
JSON
hup
expect "the token settings reload" grep -q "configuration reloaded: .*token-ttl 120 s" "$T/serve.log"
expect "a new token-ttl applies to the next token" test "$(token expires_in)" = 120
expect "a token of the old issuer is turned away" \
	test "$(http_status GET "$R/v2/" -H "Authorization: Bearer $OLD")" = 401
expect "with the reason in the log" grep -q "token refused: .*iss" "$T/serve.log"
NEW=$(token token)
expect "a token of the new issuer is good" \
	test "$(http_status GET "$R/v2/" -H "Authorization: Bearer $NEW")" = 200
serve_stop
expect "the token server stops cleanly" test "$SRV_RC" = 0

# ---- a renewed TLS certificate ----
for n in one two; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 2 -subj "/CN=berth-$n" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$T/$n.key" -out "$T/$n.crt" 2>/dev/null
done
cp "$T/one.crt" "$T/srv.crt"
cp "$T/one.key" "$T/srv.key"
rm -f "$T/serve.log"
reloads=0
serve_start --tls-cert "$T/srv.crt" --tls-key "$T/srv.key" ||
	{ fail "serve starts with TLS" "$(tail -n 3 "$T/serve.log")"; exit 1; }
served() {
	openssl s_client -connect "$SRV_HOST" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null
}
expect "the first certificate is served" grep -q "berth-one" <<<"$(served)"
cp "$T/two.crt" "$T/srv.crt"
cp "$T/two.key" "$T/srv.key"
hup
expect "the renewed certificate is served after SIGHUP" grep -q "berth-two" <<<"$(served)"
expect "requests are answered under it" \
	test "$(http_status GET "$SRV_URL/v2/" --cacert "$T/two.crt")" = 200
cp "$T/one.key" "$T/srv.key"
hup
expect "a key that does not match is refused, with the reason" \
	grep -q "configuration not reloaded, the running one stays: the TLS certificate and key do not load" "$T/serve.log"
expect "the certificate before stays" grep -q "berth-two" <<<"$(served)"
serve_stop
expect "the TLS server stops cleanly" test "$SRV_RC" = 0

done_testing

#!/usr/bin/env bash
# berth serve and hostile request lines: the path is decoded by berth
# alone (an encoded slash is no separator, %00 is refused); thousands of
# query arguments get an answer; no request can forge a log line.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

serve_start || { fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
M=$(make_layout "$T/img" v1 3 500)
got=$(push_layout a/b v1 "$T/img" "$M")
expect "seed a/b:v1" test "$got" = 201

# ---- encoded slashes and NUL bytes in the path ----
got=$(http_status GET "$R/v2/a/b/manifests/v1")
expect "a/b:v1 is there" test "$got" = 200
for p in 'a%2fb' 'a%2Fb'; do
	got=$(http_status GET "$R/v2/$p/manifests/v1")
	expect "$p is NAME_INVALID, not a/b" test "$got" = 400
	expect "... with the code" grep -q '"code":"NAME_INVALID"' "$T/.body"
done
got=$(http_status GET "$R/v2/a%2fb%2Fmanifests/v1")
expect "encoded slashes never make a route" test "$got" = 404
got=$(http_status GET "$R/v2/a%62/manifests/v1")
expect "other escapes are decoded (a%62 is ab, unknown)" test "$got" = 404
expect "... NAME_UNKNOWN for 'ab'" grep -q "repository 'ab' is unknown" "$T/.body"
got=$(http_status GET "$R/v2/a/%62/manifests/v1")
expect "a/%62 is a/b" test "$got" = 200
for p in 'a/b%00/manifests/v1' 'a/b/manifests/v1%00' 'a%00/b/manifests/v1'; do
	got=$(http_status GET "$R/v2/$p")
	expect "%00 is refused with 400 ($p)" test "$got" = 400
	expect "... saying why" grep -q 'encoded NUL byte' "$T/.body"
done
got=$(http_status PUT "$R/v2/a/b/manifests/v2%00x" \
	-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$T/img/blobs/sha256/${M#sha256:}")
expect "a PUT with %00 is refused" test "$got" = 400
got=$(http_status GET "$R/v2/a/b/manifests/v2")
expect "... and set no tag" test "$got" = 404
expect "the access log shows the path as sent" grep -q '"GET /v2/a%2fb/manifests/v1" 400' "$T/access.log"

# ---- thousands of query arguments: an answer, and the socket let go ----
# raw_get N: sends GET /v2/?a0=1&...&aN-1=1 on one socket; prints the
# answer once the server has closed the socket, or "none".
raw_get() {
	python3 - "$SRV_PORT" "$1" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
q = "&".join("a%d=1" % i for i in range(n))
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(120)
s.sendall(("GET /v2/?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
           % q).encode())
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    print("none: no answer within 120 s")
    sys.exit(0)
print(data.decode(errors="replace") if data else "none")
PY
}
out=$(raw_get 3000)
expect "3,000 query arguments are answered 414" grep -q '^HTTP/1.1 414' <<<"$out"
expect "... with an OCI error saying why" grep -q 'more than 256 query arguments' <<<"$out"
out=$(raw_get 256)
expect "256 query arguments are fine" grep -q '^HTTP/1.1 200' <<<"$out"
out=$(raw_get 30000)
expect "30,000 (a request line over the memory limit) are answered 414 too" grep -q '^HTTP/1.1 414' <<<"$out"
got=$(http_status GET "$R/v2/a/b/tags/list?n=1")
expect "the server still answers" test "$got" = 200

# ---- log injection: control bytes are escaped in every log line ----
FORGED='2026-01-01T00:00:00.000Z 10.9.9.9 admin "DELETE /v2/x/manifests/v1" 202 0 1.000ms'
got=$(http_status GET "$R/v2/a%0a${FORGED// /%20}%0d%1b%5b2J/tags/list")
expect "a path with %0a is refused (NAME_INVALID)" test "$got" = 400
expect "... and logged on one line, escaped" \
	grep -qF '"GET /v2/a\x0a2026-01-01T00:00:00.000Z 10.9.9.9 admin' "$T/access.log"
expect "... its CR and ESC escaped too" grep -qF '\x0d\x1b[2J/tags/list" 400' "$T/access.log"
expect "no forged access-log line" \
	test "$(grep -c '^2026-01-01T00:00:00.000Z 10.9.9.9' "$T/access.log")" = 0
expect "every access-log line is a request's" \
	test "$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z 127\.0\.0\.1 ' "$T/access.log")" = 0
serve_stop
expect "stops cleanly" test "$SRV_RC" = 0

# A Basic-auth user name with a newline in it, against htpasswd.
htpasswd -Bbc "$T/htpasswd" alice pw-a 2>/dev/null
: >"$T/serve.log"
serve_start --htpasswd "$T/htpasswd" ||
	{ fail "serve starts with --htpasswd" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
# (A user name ends at the first colon, so the forged line has none.)
CRED=$(printf 'eve\nberth serve- error- forged line\x1b]0;pwned\x07:pw' | base64 -w0)
got=$(http_status GET "$R/v2/" -H "Authorization: Basic $CRED")
expect "a user name with a newline is refused" test "$got" = 401
expect "the failure is logged, escaped on one line" \
	grep -qF "user 'eve\x0aberth serve- error- forged line\x1b]0;pwned\x07'" "$T/serve.log"
expect "no forged server-log line" test "$(grep -c '^berth serve- error- forged' "$T/serve.log")" = 0
expect "no raw control byte in the server log" \
	test "$(LC_ALL=C grep -c $'[\x01-\x09\x0b-\x1f\x7f]' "$T/serve.log")" = 0
got=$(http_status GET "$R/v2/" -u alice:pw-a)
expect "alice still signs in" test "$got" = 200
serve_stop
expect "stops cleanly" test "$SRV_RC" = 0
done_testing

#!/usr/bin/env bash
# berth serve and hostile request lines: the path is decoded by berth
# alone (an encoded slash is no separator, %00 is refused); thousands of
# query arguments get an answer.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

serve_start || { fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
M=$(make_layout "$T/img" v1 3 500)
for f in "$T"/img/blobs/sha256/*; do
	d=sha256:$(basename "$f")
	[ "$d" = "$M" ] && continue
	push_blob a/b "$f" >/dev/null
done
got=$(put_manifest a/b v1 "$T/img/blobs/sha256/${M#sha256:}")
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

serve_stop
expect "stops cleanly" test "$SRV_RC" = 0
done_testing

#!/usr/bin/env bash
# berth serve and hostile request lines: the path is decoded by berth
# alone (an encoded slash is no separator, %00 is refused).
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

serve_stop
expect "stops cleanly" test "$SRV_RC" = 0
done_testing

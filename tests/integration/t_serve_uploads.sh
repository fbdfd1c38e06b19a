#!/usr/bin/env bash
# berth serve's upload sessions: they expire by their last activity (an
# upload still sending chunks lives past --upload-ttl, an idle one is
# dropped with its bytes), and open sessions are capped per client address
# and per repository with a 429 that says which limit was hit.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

# ---- expiry by last activity ----
TTL=12
serve_start --upload-ttl "$TTL" || { fail "serve starts with --upload-ttl $TTL" "see $T/serve.log"; exit 1; }
R=$SRV_URL
http_status POST "$R/v2/exp/blobs/uploads/" >/dev/null
IDLE=$(last_header Location)
IDLE_ID=$(last_header Blob-Upload-Session-ID)
http_status POST "$R/v2/exp/blobs/uploads/" >/dev/null
BUSY=$(last_header Location)
started=$(date +%s)
: >"$T/sent"
# One chunk a second, well below the TTL, until the session is older than
# two TTLs: an expiry by start time would have dropped it by then.
n=0 bad=""
while [ $(($(date +%s) - started)) -le $((2 * TTL + 2)) ]; do
	printf 'chunk %04d\n' "$n" >"$T/chunk"
	off=$(stat -c %s "$T/sent")
	got=$(http_status PATCH "$R$BUSY" -H "Content-Range: $off-$((off + 10))" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$T/chunk")
	if [ "$got" != 202 ]; then bad="chunk $n got $got: $(last_body)"; break; fi
	cat "$T/chunk" >>"$T/sent"
	n=$((n + 1))
	sleep 1
done
expect "an upload active all along is never dropped (${bad:-$n chunks})" test -z "$bad"
expect "the active upload outlived two TTLs" test $(($(date +%s) - started)) -gt $((2 * TTL))
D=$(sha256_of "$T/sent")
expect "the active upload closes with 201" test "$(http_status PUT "$R$BUSY?digest=$D")" = 201
# The idle one is gone, with its file: wait for it with a generous deadline.
deadline=$(($(date +%s) + 120))
while [ -e "$SRV_STORAGE/uploads/$IDLE_ID" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.5; done
expect "the idle upload's file is removed" test ! -e "$SRV_STORAGE/uploads/$IDLE_ID"
got=$(http_status GET "$R$IDLE")
expect "the idle upload is unknown now ($got)" test "$got" = 404
expect "its answer is BLOB_UPLOAD_UNKNOWN" grep -q BLOB_UPLOAD_UNKNOWN "$T/.body"
serve_stop

# ---- caps per client and per repository ----
# Retry-After is when the first capped session expires if it stays idle:
# within --upload-ttl of now, and at least a second.
CAP_TTL=3600
retry_after_ok() {
	local ra
	ra=$(last_header Retry-After)
	case $ra in '' | *[!0-9]*) return 1 ;; esac
	[ "$ra" -ge 1 ] && [ "$ra" -le "$CAP_TTL" ]
}
SRV_STORAGE=$T/reg2
serve_start --upload-ttl "$CAP_TTL" --upload-sessions-per-client 3 --upload-sessions-per-repo 2 ||
	{ fail "serve starts with upload caps" "see $T/serve.log"; exit 1; }
R=$SRV_URL
expect "a first session opens" test "$(http_status POST "$R/v2/cap/a/blobs/uploads/")" = 202
FIRST=$(last_header Location)
expect "a second session in the repository opens" test "$(http_status POST "$R/v2/cap/a/blobs/uploads/")" = 202
got=$(http_status POST "$R/v2/cap/a/blobs/uploads/")
expect "a third session in the repository is 429 ($got)" test "$got" = 429
expect "the 429 is TOOMANYREQUESTS" grep -q '"code":"TOOMANYREQUESTS"' "$T/.body"
expect "the 429 names the repository" grep -q "repository 'cap/a' already has 2 upload sessions open" "$T/.body"
expect "the 429 names the setting" grep -q "upload-sessions-per-repo" "$T/.body"
expect "the 429 has a Retry-After of 1..$CAP_TTL s ($(last_header Retry-After))" retry_after_ok
expect "a session in another repository opens" test "$(http_status POST "$R/v2/cap/b/blobs/uploads/")" = 202
got=$(http_status POST "$R/v2/cap/c/blobs/uploads/")
expect "a fourth session of one client is 429 ($got)" test "$got" = 429
expect "the 429 names the client" grep -q "client 127.0.0.1 already has 3 upload sessions open" "$T/.body"
expect "the client's 429 has a Retry-After of 1..$CAP_TTL s ($(last_header Retry-After))" retry_after_ok
expect "a cancelled session is 204" test "$(http_status DELETE "$R$FIRST")" = 204
expect "its place is free again" test "$(http_status POST "$R/v2/cap/c/blobs/uploads/")" = 202
head -c 1000 /dev/urandom >"$T/blob"
got=$(http_status POST "$R/v2/cap/c/blobs/uploads/?digest=$(sha256_of "$T/blob")" --data-binary "@$T/blob")
expect "a monolithic push counts too, so it is 429 at the cap ($got)" test "$got" = 429
serve_stop
expect "the server stops cleanly" test "$SRV_RC" = 0

done_testing

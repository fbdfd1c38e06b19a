#!/usr/bin/env bash
# berth serve killed with SIGKILL in the middle of pushes, then restarted on
# the same storage: everything pushed before is still served intact, every
# blob on disk matches its digest, the metadata database is sound, and the
# interrupted upload resumes from what reached the disk.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

serve_start || { fail "serve starts" "see $T/serve.log"; exit 1; }
H=$SRV_HOST
R=$SRV_URL

# What must survive: two images and a lone blob.
M1=$(make_layout "$T/img" v1 11 3000 500000)
M2=$(make_layout "$T/img" v2 12 8000 1200000)
for t in v1 v2; do
	sk copy -q --dest-tls-verify=false "oci:$T/img:$t" "docker://$H/keep/app:$t" ||
		{ fail "setup push $t" "skopeo failed"; exit 1; }
done
head -c 777777 /dev/urandom >"$T/lone"
LONE=$(push_blob keep/lone "$T/lone")

# An abandoned upload: started, one chunk, never finished.
http_status POST "$R/v2/keep/abandoned/blobs/uploads/" >/dev/null
ABANDONED=$(last_header Location)
http_status PATCH "$R$ABANDONED" -H 'Content-Range: 0-777776' --data-binary "@$T/lone" >/dev/null

# The victim: a large streamed PATCH of which only the first 16 MB are
# fed (through a FIFO that stays open), so the kill lands mid-way however
# fast or slow the machine.
head -c 64000000 /dev/urandom >"$T/big"
BIG=$(sha256_of "$T/big")
http_status POST "$R/v2/crash/big/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
mkfifo "$T/feed"
curl -s -o /dev/null -X PATCH -H 'Transfer-Encoding: chunked' \
	-H 'Content-Type: application/octet-stream' -T - "$R$LOC" <"$T/feed" &
CURL_PID=$!
exec 3>"$T/feed"
head -c 16000000 "$T/big" >&3
# Meanwhile, more pushes and tag moves race with the kill.
(
	for i in $(seq 1 40); do
		head -c $((1000 + i)) /dev/urandom >"$T/race.$i"
		push_blob crash/race "$T/race.$i" >/dev/null
		put_manifest keep/app "moving" "$T/img/blobs/sha256/${M1#sha256:}" >/dev/null
	done
) &
RACE_PID=$!
# Killed once part of the stream is on disk.
upload_on_disk() { test -s "$SRV_STORAGE/uploads/${LOC##*/}"; }
wait_for 120 upload_on_disk
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
exec 3>&-
wait "$CURL_PID" 2>/dev/null
wait "$RACE_PID" 2>/dev/null
ok "the server was killed with SIGKILL mid-push"

# ---- restart on the same storage ----
serve_start || { fail "serve restarts after SIGKILL" "$(tail -n 5 "$T/serve.log")"; exit 1; }
H=$SRV_HOST
R=$SRV_URL
ok "the server restarts after SIGKILL"

expect "every blob on disk matches its digest" store_fsck "$SRV_STORAGE"
expect "the metadata database is sound" python3 -c '
import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); sys.exit(c.execute("PRAGMA integrity_check").fetchone()[0]!="ok")' \
	"$SRV_STORAGE/metadata.db"
expect "no half-written blob became visible" test -z "$(find "$SRV_STORAGE/blobs" -type f -size 0)"
for t in v1 v2; do
	rm -rf "$T/out"
	run sk copy --src-tls-verify=false "docker://$H/keep/app:$t" "oci:$T/out:$t"
	check "image $t pushed before the crash pulls intact" 0
done
run sk inspect --tls-verify=false "docker://$H/keep/app:v1"
check "tag v1 still points at its manifest" 0 "\"Digest\": \"$M1\""
http_status GET "$R/v2/keep/lone/blobs/$LONE" >/dev/null
expect "the lone blob pushed before the crash reads back" cmp -s "$T/.body" "$T/lone"
http_status GET "$R/v2/keep/app/manifests/moving" >/dev/null
expect "a tag moved during the crash is whole (or absent)" sh -c \
	"test ! -s '$T/.body' || grep -q errors '$T/.body' || cmp -s '$T/.body' '$T/img/blobs/sha256/${M1#sha256:}'"

# ---- the interrupted upload survives and resumes ----
got=$(http_status GET "$R$LOC")
expect "the interrupted upload is still known (204)" test "$got" = 204
RANGE=$(last_header Range)
OFF=$(( ${RANGE#0-} + 1 ))
[ "$RANGE" = "0-0" ] && OFF=$(stat -c %s "$SRV_STORAGE/uploads/${LOC##*/}")
expect "part of the stream reached the disk" test "$OFF" -gt 0 -a "$OFF" -lt 64000000
tail -c +"$((OFF + 1))" "$T/big" >"$T/rest"
got=$(http_status PATCH "$R$LOC" -H "Content-Range: $OFF-63999999" --data-binary "@$T/rest")
expect "the upload resumes where the disk left it (202)" test "$got" = 202
got=$(http_status PUT "$R$LOC?digest=$BIG")
expect "the resumed upload completes with the right digest (201)" test "$got" = 201
http_status GET "$R/v2/crash/big/blobs/$BIG" >/dev/null
expect "the resumed blob reads back whole" cmp -s "$T/.body" "$T/big"
got=$(http_status GET "$R$ABANDONED")
expect "the abandoned upload survived the restart" test "$got" = 204
expect "... with its offset" test "$(last_header Range)" = "0-777776"
got=$(http_status DELETE "$R$ABANDONED")
expect "... and can be cancelled" test "$got" = 204
expect "cancelling removed its data" test -z "$(ls "$SRV_STORAGE/uploads" | grep "${ABANDONED##*/}")"
expect "every blob on disk still matches its digest" store_fsck "$SRV_STORAGE"
serve_stop

# ---- leftovers of a crash that the metadata never recorded ----
# An upload file created just before a crash, before its session was
# recorded, and a temporary file: swept once older than --upload-ttl.
printf 'partial' >"$SRV_STORAGE/uploads/0123456789abcdef0123456789abcdef"
printf 'partial' >"$SRV_STORAGE/uploads/fedcba9876543210fedcba9876543210"
printf 'tmp' >"$SRV_STORAGE/tmp/put.stale1"
touch -d '3 days ago' "$SRV_STORAGE/uploads/0123456789abcdef0123456789abcdef" "$SRV_STORAGE/tmp/put.stale1"
serve_start || { fail "serve restarts" "$(tail -n 5 "$T/serve.log")"; exit 1; }
expect "an old upload file no session records is removed at start" \
	test ! -e "$SRV_STORAGE/uploads/0123456789abcdef0123456789abcdef"
expect "an old temporary file is removed at start" test ! -e "$SRV_STORAGE/tmp/put.stale1"
expect "a recent unrecorded upload file is kept (it may be being created)" \
	test -e "$SRV_STORAGE/uploads/fedcba9876543210fedcba9876543210"
http_status GET "$SRV_URL/v2/crash/big/blobs/$BIG" >/dev/null
expect "stored blobs are untouched by the sweep" cmp -s "$T/.body" "$T/big"
serve_stop
done_testing

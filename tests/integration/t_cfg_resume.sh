#!/usr/bin/env bash
# Resumable pulls: a download cut at half of a large layer (connection
# closed, or the process killed with -9) keeps its bytes in the store's
# staging area; the next pull continues with a Range request, so fewer
# than 60 % of the layer's bytes cross the wire again, and the digest is
# verified over the whole blob. Old partial files are cleaned.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
mkimage "$T/img" --tag v1 --seed cfg-resume --layer 16m --layer 8k >"$T/img.json"
digest=$(jget 'j["digest"]' "$T/img.json")
big=$(jget 'max(j["images"][0]["layers"], key=lambda l: l["size"])["digest"]' "$T/img.json")
size=$(jget 'max(j["images"][0]["layers"], key=lambda l: l["size"])["size"]' "$T/img.json")
dreg_start
skopeo_push "$T/img" v1 "$DREG/cfg/big:v1"

# proxy_start ARGS...: the cutting proxy in front of the registry; sets PX.
proxy_start() {
	local p
	p=$(free_port)
	: >"$T/proxy.log"
	bg python3 "$TOOLS/cut_proxy.py" "$p" "$DREG" --min-size 1000000 --log "$T/proxy.log" "$@"
	PROXY_PID=$BG_PID
	wait_tcp "127.0.0.1:$p" || bail "proxy did not start"
	PX=127.0.0.1:$p
}

# sent_for_big: body bytes the proxy sent for the big blob, summed.
sent_for_big() {
	grep "blobs/$big " "$T/proxy.log" | sed 's/.*sent=\([0-9]*\).*/\1/' | paste -sd+ | bc
}

partial=$BERTH_ROOT/ingest/blob-partial-sha256-${big#sha256:}

# --- connection closed at 50 % -------------------------------------------------
echo '{"retries": 0}' >"$BERTH_CONFIG"
proxy_start --cut 0.5
run berth_ pull "$PX/cfg/big:v1"
check "first pull cut at 50 %: fails naming the blob" 8 "$big" "cut off"
first=$(sent_for_big)
expect "about half of the layer crossed the wire ($first of $size)" \
	test "$first" -ge $((size * 45 / 100)) -a "$first" -le $((size * 55 / 100))
expect "the partial file keeps those bytes" test "$(stat -c %s "$partial")" = "$first"
expect "no blob is visible for it" test ! -e "$BERTH_ROOT/blobs/sha256/${big#sha256:}"
run berth_ fsck
check "fsck keeps a fresh partial file (no problem reported)" 0 "0 problems"
expect "... and the partial file is still there" test -s "$partial"
: >"$T/proxy.log"
run berth_ -v pull "$PX/cfg/big:v1"
check "second pull resumes and succeeds" 0 "Digest: $digest" "kept from an earlier pull" \
	"continuing from '$PX' at byte $first"
second=$(sent_for_big)
expect "fewer than 60 % of the layer crossed the wire again ($second of $size)" \
	test "$second" -lt $((size * 60 / 100))
expect "the resumed request was a Range request" grep -q "blobs/$big 206 .*range=bytes=$first-" "$T/proxy.log"
expect "the partial file is gone once the blob is stored" test ! -e "$partial"
store_consistent "the stored blob matches its digest" "$BERTH_ROOT"
kill "$PROXY_PID"

# --- kill -9 in the middle of the download ----------------------------------------
export BERTH_ROOT=$T/store-kill
partial=$BERTH_ROOT/ingest/blob-partial-sha256-${big#sha256:}
proxy_start --cut 0.5 --mode stall
"$BERTH" pull "$PX/cfg/big:v1" >/dev/null 2>&1 &
victim=$!
# Killed once the half the proxy sent is on disk (it then stalls).
partial_has_half() { [ "$(stat -c %s "$partial" 2>/dev/null || echo 0)" -ge $((size * 45 / 100)) ]; }
wait_for 120 grep -q "cut=yes" "$T/proxy.log"
wait_for 120 partial_has_half
kill -9 "$victim"
wait "$victim" 2>/dev/null
first=$(sent_for_big)
expect "killed with -9 after half the layer ($first bytes); the partial file stays" \
	test -s "$partial"
: >"$T/proxy.log"
run berth_ pull "$PX/cfg/big:v1"
check "the pull after kill -9 resumes and succeeds" 0 "Digest: $digest"
second=$(sent_for_big)
expect "fewer than 60 % of the layer crossed the wire again ($second of $size)" \
	test "$second" -lt $((size * 60 / 100))
store_consistent "store consistent after kill -9 and resume" "$BERTH_ROOT"

# --- a damaged partial file is caught by the digest ---------------------------------
export BERTH_ROOT=$T/store-bad
partial=$BERTH_ROOT/ingest/blob-partial-sha256-${big#sha256:}
"$BERTH" images >/dev/null || bail "cannot create the store"
mkdir -p "$BERTH_ROOT/ingest"
head -c 1000000 /dev/urandom >"$partial"
run berth_ pull "$DREG/cfg/big:v1"
check "a damaged partial file fails the digest check (exit 11)" 11 "digest mismatch" "$big"
expect "the damaged partial file is removed" test ! -e "$partial"
run berth_ pull "$DREG/cfg/big:v1"
check "the next pull downloads it whole and succeeds" 0 "Digest: $digest"

# --- old partial files are cleaned ---------------------------------------------------
echo '{"partial-max-age": 3600}' >"$BERTH_CONFIG"
old=$BERTH_ROOT/ingest/blob-partial-sha256-$(printf '%064d' 7)
head -c 1000 /dev/zero >"$old"
touch -d '2 hours ago' "$old"
fresh=$BERTH_ROOT/ingest/blob-partial-sha256-$(printf '%064d' 8)
head -c 1000 /dev/zero >"$fresh"
run berth_ pull "$DREG/cfg/big:v1"
check "a pull with partial-max-age set" 0
expect "a partial file older than partial-max-age is removed" test ! -e "$old"
expect "a recent one is kept" test -e "$fresh"

done_testing

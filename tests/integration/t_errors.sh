#!/usr/bin/env bash
# Every failure of `berth pull` the CLI contract lists, against
# docker-registry and the hostile test registry: exit status, message, and a
# store left as it was (no visible blob that mismatches its name, index.json
# unchanged, `berth fsck` clean).
. tests/integration/lib.sh
. tests/integration/registry.sh

registry_start
hostile_start

mkimage "$T/src" --tag one --layer 32k --seed err-one >"$T/one.json"
mkimage "$T/src" --tag multi --platforms linux/amd64,linux/arm64/v8 \
	--layer 16k --seed err-multi >"$T/multi.json"
skopeo_push "$T/src" one "$REG/test/app:v1"
skopeo_push "$T/src" multi "$REG/test/multi:v1" --all

# A store that already holds an image, so "unchanged" means something.
S=$T/store
"$BERTH" --root "$S" pull -q "$REG/test/app:v1" >/dev/null 2>&1 ||
	bail "cannot pull the base image into the store"

# failing_pull NAME WANT_RC PATTERN... -- PULL_ARGS...: the pull fails with
# WANT_RC and every PATTERN (grep -E) in its output; then the store is as
# before and consistent, and fsck agrees.
failing_pull() {
	local name=$1 want=$2 pats=() before
	shift 2
	while [ "$1" != -- ]; do
		pats+=("$1")
		shift
	done
	shift
	before=$(storecheck snapshot "$S")
	run "$BERTH" --root "$S" pull "$@"
	check "$name" "$want" "${pats[@]}"
	same "$name: index.json unchanged" "$(storecheck snapshot "$S")" "$before"
	store_consistent "$name: no torn or wrong blob visible" "$S"
	run "$BERTH" --root "$S" fsck
	check "$name: fsck clean afterwards" 0 "checked [0-9]+ blobs: 0 problems"
}

# stderr_format NAME: the last failure was printed as "berth: <msg>" on stderr.
stderr_format() {
	if grep -q '^berth: ' <<<"$ERR"; then
		ok "$1"
	else
		fail "$1" "stderr lacks a 'berth: ' line: $(head -c 200 <<<"$ERR")"
	fi
}

# --- docker-registry answers 404 ------------------------------------------
failing_pull "unknown tag" 4 "not found" "nosuchtag" "test/app" -- "$REG/test/app:nosuchtag"
run "$BERTH" --root "$S" pull "$REG/test/app:nosuchtag"
stderr_format "unknown tag: printed as 'berth: <msg>'"
failing_pull "unknown manifest digest" 4 "not found" "test/app" -- \
	"$REG/test/app@sha256:$(printf '0%.0s' {1..64})"
failing_pull "unknown repository" 4 "not found" "test/nosuchrepo" -- "$REG/test/nosuchrepo:v1"

# --- nobody listening -------------------------------------------------------
dead=127.0.0.1:$(free_port)
failing_pull "registry not listening" 8 "[Cc]onnection refused|CONNECTION REFUSED" "$dead" -- "$dead/test/app:v1"

# --- hostile registry -------------------------------------------------------
bad_layer=$(curl -s "http://$HOSTILE/v2/hostile/badblob/manifests/v1" | jget 'j["layers"][1]["digest"]')
failing_pull "blob digest mismatch" 11 "digest mismatch" "$bad_layer" "$HOSTILE" -- "$HOSTILE/hostile/badblob:v1"
if [ -e "$S/blobs/sha256/${bad_layer#sha256:}" ]; then
	fail "blob digest mismatch: bad blob not stored" "blobs/sha256/${bad_layer#sha256:} exists"
else
	ok "blob digest mismatch: bad blob not stored"
fi

cut_layer=$(curl -s "http://$HOSTILE/v2/hostile/cutoff/manifests/v1" | jget 'j["layers"][0]["digest"]')
before=$(storecheck snapshot "$S")
run "$BERTH" --root "$S" pull "$HOSTILE/hostile/cutoff:v1"
if [ "$RC" = 11 ] || [ "$RC" = 8 ]; then
	check "download cut off halfway" "$RC" "$cut_layer" "truncated|[Cc]onnection"
else
	fail "download cut off halfway" "exit $RC, want 11 or 8; stderr: $(head -c 300 <<<"$ERR")"
fi
same "download cut off halfway: index.json unchanged" "$(storecheck snapshot "$S")" "$before"
store_consistent "download cut off halfway: no torn blob visible" "$S"
if [ -e "$S/blobs/sha256/${cut_layer#sha256:}" ]; then
	fail "download cut off halfway: partial blob not visible" "blobs/sha256/${cut_layer#sha256:} exists"
else
	ok "download cut off halfway: partial blob not visible"
fi
run "$BERTH" --root "$S" fsck
check "download cut off halfway: fsck clean afterwards" 0 "checked [0-9]+ blobs: 0 problems"
# The cut-off pull keeps its partial file on purpose, for the next pull to
# resume (t_cfg_resume.sh): fsck leaves it, however old, and counts no
# problem.
cut_partial=$S/ingest/blob-partial-sha256-${cut_layer#sha256:}
expect "download cut off halfway: the partial file is kept for resuming" test -s "$cut_partial"
touch -d '2 hours ago' "$cut_partial"
run "$BERTH" --root "$S" fsck
check "download cut off halfway: an old partial file is no problem for fsck" 0 "checked [0-9]+ blobs: 0 problems"
expect "download cut off halfway: fsck keeps the partial file" test -s "$cut_partial"

short_layer=$(curl -s "http://$HOSTILE/v2/hostile/badsize/manifests/v1" | jget 'j["layers"][1]["digest"]')
failing_pull "blob larger than its descriptor" 11 "$short_layer" -- "$HOSTILE/hostile/badsize:v1"
expect "blob larger than its descriptor: its staging file is removed" \
	test ! -e "$S/ingest/blob-partial-sha256-${short_layer#sha256:}"
expect "blob digest mismatch: its staging file is removed" \
	test ! -e "$S/ingest/blob-partial-sha256-${bad_layer#sha256:}"

# The layer is in the store already: its size is checked all the same.
"$BERTH" --root "$S" pull -q "$HOSTILE/hostile/good:v1" >/dev/null 2>&1 ||
	bail "cannot pull hostile/good"
lie_layer=$(curl -s "http://$HOSTILE/v2/hostile/liesize/manifests/v1" | jget 'j["layers"][1]["digest"]')
failing_pull "descriptor size lies about a stored blob" 11 "$lie_layer" "size of [0-9]+ bytes" -- \
	"$HOSTILE/hostile/liesize:v1"
run "$BERTH" --root "$S" inspect "$HOSTILE/hostile/liesize:v1"
check "descriptor size lies about a stored blob: the image is not recorded" 4
"$BERTH" --root "$S" rmi "$HOSTILE/hostile/good:v1" >/dev/null 2>&1 ||
	bail "cannot remove hostile/good"

failing_pull "schema 1 manifest refused" 14 "schema 1" -- "$HOSTILE/hostile/schema1:v1"
failing_pull "manifest over 4 MiB refused" 18 -- "$HOSTILE/hostile/huge:v1"
failing_pull "registry answers 500" 15 -- "$HOSTILE/hostile/error500:v1"

# --- invalid references ------------------------------------------------------
long_tag=$(printf 'a%.0s' {1..129})
failing_pull "invalid reference: upper-case repository" 3 "invalid reference" -- "$REG/Test/App:v1"
failing_pull "invalid reference: bad tag characters" 3 "invalid reference" -- "$REG/test/app:v1!x"
failing_pull "invalid reference: tag over 128 characters" 3 "invalid reference" -- "$REG/test/app:$long_tag"
failing_pull "invalid reference: bad digest" 3 "invalid reference" -- "$REG/test/app@sha256:abc"
failing_pull "invalid reference: empty" 3 "invalid reference" -- ""
run "$BERTH" --root "$S" pull "$REG/Test/App:v1"
stderr_format "invalid reference: printed as 'berth: <msg>'"

# --- platforms -----------------------------------------------------------------
failing_pull "no matching platform" 12 "no manifest for platform" "linux/amd64" "linux/arm64" -- \
	--platform linux/s390x "$REG/test/multi:v1"
failing_pull "no matching platform (variant)" 12 "no manifest for platform" "linux/amd64" -- \
	--platform linux/arm/v7 "$REG/test/multi:v1"

# --- usage ------------------------------------------------------------------------
run "$BERTH" --root "$S" pull
check "usage: pull without a reference" 2
run "$BERTH" --root "$S" pull --max-concurrent-downloads x "$REG/test/app:v1"
check "usage: --max-concurrent-downloads x" 2
run "$BERTH" --root "$S" pull --no-such-flag "$REG/test/app:v1"
check "usage: unknown option" 2
run "$BERTH" --root "$S" no-such-command
check "usage: unknown command" 2
same "usage errors left index.json alone" "$(storecheck refs "$S")" "$REG/test/app:v1"

done_testing

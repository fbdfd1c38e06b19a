#!/usr/bin/env bash
# Incremental pulls: what the store holds is not downloaded again. The
# requests are counted in docker-registry's own access log.
. tests/integration/lib.sh
. tests/integration/registry.sh

registry_start

# Two images sharing their two base layers, and an index.
mkimage "$T/src" --tag a --seed inc-a --layer 64k@inc-base1 --layer 32k@inc-base2 --layer 16k >"$T/a.json"
mkimage "$T/src" --tag b --seed inc-b --layer 64k@inc-base1 --layer 32k@inc-base2 --layer 16k >"$T/b.json"
mkimage "$T/src" --tag a2 --seed inc-a2 --layer 64k@inc-base1 --layer 32k@inc-base2 --layer 20k >"$T/a2.json"
mkimage "$T/src" --tag multi --platforms linux/amd64,linux/arm64/v8 --layer 16k --seed inc-multi >"$T/multi.json"
skopeo_push "$T/src" a "$REG/test/a:v1"
skopeo_push "$T/src" b "$REG/test/b:v1"
skopeo_push "$T/src" multi "$REG/test/multi:v1" --all

layers() { jget '[l["digest"] for l in j["images"][0]["layers"]]' "$1"; }

# blob_gets MARK: the blob GETs logged since MARK, as "repo digest" lines.
blob_gets() {
	reg_since "$1" | sed -nE 's#.*"GET /v2/(.+)/blobs/(sha256:[0-9a-f]{64}) HTTP[^"]*" ([0-9]+).*#\1 \2#p'
}

S=$T/store
run "$BERTH" --root "$S" pull "$REG/test/a:v1"
check "first pull downloads every layer" 0 "Downloaded newer image"
a_digest=$(jget 'j["digest"]' "$T/a.json")

# --- re-pull: no blob request at all ------------------------------------------
m=$(reg_mark)
run "$BERTH" --root "$S" pull "$REG/test/a:v1"
check "re-pull: image is up to date" 0 "^Status: Image is up to date for $REG/test/a:v1$" "^Digest: $a_digest$"
if [ "$RC" != 0 ] || grep -q "Pull complete" <<<"$OUT"; then
	fail "re-pull: nothing downloaded" "exit $RC: $(tr '\n' '|' <<<"$OUT$ERR")"
else
	ok "re-pull: nothing downloaded"
fi
same "re-pull: no blob GET reaches the registry" "$RC:$(blob_gets "$m")" "0:"
same "re-pull: last line is the reference" "$(tail -n1 <<<"$OUT")" "$REG/test/a:v1"

m=$(reg_mark)
run "$BERTH" --root "$S" pull -q "$REG/test/a@$a_digest"
check "pull by digest of a present image" 0
same "pull by digest of a present image: no blob GET" "$RC:$(blob_gets "$m")" "0:"
same "pull by digest of a present image: stored under name@digest" \
	"$(storecheck entry "$S" "$REG/test/a@$a_digest" | jget 'j["digest"]')" "$a_digest"

# --- shared layers: "Already exists" -------------------------------------------
m=$(reg_mark)
run "$BERTH" --root "$S" pull "$REG/test/b:v1"
mapfile -t bl < <(layers "$T/b.json")
same_output "shared layers show Already exists" "$(
	echo "v1: Pulling from test/b"
	echo "$(short "${bl[0]}"): Already exists"
	echo "$(short "${bl[1]}"): Already exists"
	echo "$(short "${bl[2]}"): Pull complete"
	echo "Digest: $(jget 'j["digest"]' "$T/b.json")"
	echo "Status: Downloaded newer image for $REG/test/b:v1"
	echo "$REG/test/b:v1"
)"
same "shared layers: only the new config and layer are fetched" \
	"$(blob_gets "$m" | sort)" \
	"$(printf 'test/b %s\n' "$(jget 'j["images"][0]["config"]["digest"]' "$T/b.json")" "${bl[2]}" | sort)"
store_consistent "shared layers: store consistent" "$S"

# --- the tag moves: only what changed is fetched --------------------------------
skopeo_push "$T/src" a2 "$REG/test/a:v1"
mapfile -t a2l < <(layers "$T/a2.json")
m=$(reg_mark)
run "$BERTH" --root "$S" pull "$REG/test/a:v1"
check "moved tag: newer image downloaded" 0 "^Status: Downloaded newer image for $REG/test/a:v1$" \
	"^$(short "${a2l[0]}"): Already exists$" "^$(short "${a2l[2]}"): Pull complete$"
same "moved tag: only the new config and layer are fetched" \
	"$(blob_gets "$m" | sort)" \
	"$(printf 'test/a %s\n' "$(jget 'j["images"][0]["config"]["digest"]' "$T/a2.json")" "${a2l[2]}" | sort)"
same "moved tag: index.json entry updated" \
	"$(storecheck entry "$S" "$REG/test/a:v1" | jget 'j["digest"]')" "$(jget 'j["digest"]' "$T/a2.json")"

# --- a blob missing from the store is fetched again --------------------------------
rm -f "$S/blobs/sha256/${a2l[1]#sha256:}"
m=$(reg_mark)
run "$BERTH" --root "$S" pull "$REG/test/a:v1"
check "missing layer: pull succeeds" 0 "^$(short "${a2l[1]}"): Pull complete$"
same "missing layer: only that blob is fetched" "$(blob_gets "$m")" "test/a ${a2l[1]}"
store_consistent "missing layer: store consistent" "$S"

# --- an index ---------------------------------------------------------------------
run "$BERTH" --root "$S" pull -q --platform linux/arm64/v8 "$REG/test/multi:v1"
check "index: first pull" 0
m=$(reg_mark)
run "$BERTH" --root "$S" pull --platform linux/arm64/v8 "$REG/test/multi:v1"
check "index: re-pull is up to date" 0 "^Status: Image is up to date for $REG/test/multi:v1$" \
	"^Digest: $(jget 'j["digest"]' "$T/multi.json")$"
same "index: re-pull sends no blob GET" "$RC:$(blob_gets "$m")" "0:"

done_testing

#!/usr/bin/env bash
# The local store: an OCI image layout that skopeo and umoci read; atomic
# under concurrent pulls and kill -9; `berth fsck` finds and removes damage.
. tests/integration/lib.sh
. tests/integration/registry.sh

registry_start
hostile_start

mkimage "$T/src" --tag five --files 2 --seed store-five \
	--layer 8k --layer 16k --layer 32k --layer 64k --layer 128k >"$T/five.json"
mkimage "$T/src" --tag multi --platforms linux/amd64,linux/arm64/v8 \
	--layer 16k --layer 16k --seed store-multi >"$T/multi.json"
skopeo_push "$T/src" five "$REG/test/five:v1"
skopeo_push "$T/src" multi "$REG/test/multi:v1" --all
for i in 0 1 2 3 4 5; do
	mkimage "$T/src" --tag "c$i" --seed "store-c$i" --layer 48k@store-shared \
		--layer 24k >"$T/c$i.json"
	skopeo_push "$T/src" "c$i" "$REG/test/c$i:v1"
done

# --- skopeo and umoci read the store ------------------------------------------
S=$T/s1
"$BERTH" --root "$S" pull -q "$REG/test/five:v1" >/dev/null 2>&1 || bail "pull test/five:v1"
case $HOST_PLATFORM in
linux/arm64) multi_plat=linux/arm64/v8 multi_flag=() ;;
linux/amd64) multi_plat=linux/amd64 multi_flag=() ;;
*) multi_plat=linux/amd64 multi_flag=(--platform linux/amd64) ;;
esac
"$BERTH" --root "$S" pull -q "${multi_flag[@]}" "$REG/test/multi:v1" >/dev/null 2>&1 ||
	bail "pull test/multi:v1"
before=$(storecheck snapshot "$S")

run skopeo_ inspect "oci:$S:$REG/test/five:v1"
if [ "$RC" = 0 ]; then
	same "skopeo inspect oci:STORE:ref" \
		"$(jget '[j["Digest"]] + j["Layers"]' <<<"$OUT")" \
		"$(jget '[j["digest"]] + [l["digest"] for l in j["images"][0]["layers"]]' "$T/five.json")"
else
	fail "skopeo inspect oci:STORE:ref" "exit $RC: $ERR"
fi

host_i=$(jget "[i['platform'] for i in j['images']].index('$multi_plat')" "$T/multi.json")
run skopeo_ inspect "oci:$S:$REG/test/multi:v1"
same "skopeo inspect oci:STORE:ref of a pulled index (platform manifest)" \
	"$RC:$(jget 'j["Digest"]' <<<"$OUT" 2>/dev/null)" \
	"0:$(jget "j['images'][$host_i]['digest']" "$T/multi.json")"

run skopeo_ copy "oci:$S:$REG/test/five:v1" "oci:$T/copy:five"
check "skopeo copy out of the store" 0

run umoci unpack --rootless --image "$S:$REG/test/five:v1" "$T/bundle-store"
check "umoci unpack --image STORE:ref" 0
run umoci unpack --rootless --image "$T/src:five" "$T/bundle-src"
if [ "$RC" = 0 ] && diff -r "$T/bundle-store/rootfs" "$T/bundle-src/rootfs" >/dev/null &&
	[ -n "$(ls "$T/bundle-src/rootfs/data")" ]; then
	ok "umoci: unpacked files equal the generated ones"
else
	fail "umoci: unpacked files equal the generated ones" "$(diff -r "$T/bundle-store/rootfs" "$T/bundle-src/rootfs" 2>&1 | head -n 3)"
fi
run umoci stat --image "$S:$REG/test/multi:v1"
check "umoci stat of a pulled index" 0
same "readers left index.json alone" "$(storecheck snapshot "$S")" "$before"

# --- fsck ---------------------------------------------------------------------
nblobs=$(storecheck blobs "$S" | wc -l)
run "$BERTH" --root "$S" fsck
check "fsck on a clean store" 0
same "fsck on a clean store: last line" "$(tail -n1 <<<"$OUT")" "checked $nblobs blobs: 0 problems"

victim=$(jget 'j["images"][0]["layers"][2]["digest"]' "$T/five.json")
vpath=$S/blobs/sha256/${victim#sha256:}
python3 - "$vpath" <<'EOF'
import os, sys
p = sys.argv[1]
os.chmod(p, 0o644)
with open(p, "r+b") as f:
    b = f.read(1)
    f.seek(0)
    f.write(bytes([b[0] ^ 0xFF]))
EOF
run "$BERTH" --root "$S" fsck
check "fsck detects a corrupted blob" 16 "${victim#sha256:}"
if [[ "$(tail -n1 <<<"$OUT")" =~ ^checked\ $nblobs\ blobs:\ ([1-9][0-9]*)\ problems?$ ]]; then
	ok "fsck detects a corrupted blob: last line counts it"
else
	fail "fsck detects a corrupted blob: last line counts it" "last line: $(tail -n1 <<<"$OUT")"
fi
if [ -e "$vpath" ]; then
	fail "fsck removes the corrupted blob" "$vpath still there"
else
	ok "fsck removes the corrupted blob"
fi
run "$BERTH" --root "$S" fsck
check "fsck reports the image's missing blob" 16 "${victim#sha256:}"
run "$BERTH" --root "$S" pull "$REG/test/five:v1"
check "re-pull repairs the image" 0 "$(short "$victim"): Pull complete"
store_consistent "re-pull repairs the image: store consistent" "$S"
run "$BERTH" --root "$S" fsck
check "fsck clean after the repair" 0 "checked [0-9]+ blobs: 0 problems"

# --- concurrent pulls into one store ------------------------------------------
# Eight processes at once: six images sharing a layer, and one of them three
# times. index.json must end with every image once and no blob torn.
for round in 1 2; do
	S=$T/conc$round
	pids=()
	refs=("$REG/test/c0:v1" "$REG/test/c1:v1" "$REG/test/c2:v1" "$REG/test/c3:v1"
		"$REG/test/c4:v1" "$REG/test/c5:v1" "$REG/test/c0:v1" "$REG/test/c0:v1")
	for i in "${!refs[@]}"; do
		"$BERTH" --root "$S" pull -q "${refs[$i]}" >"$T/conc.$i.out" 2>&1 &
		pids+=($!)
	done
	bad=""
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || bad="$bad [${refs[$i]}: exit $?: $(head -c 200 "$T/conc.$i.out")]"
	done
	same "concurrent pulls, round $round: all succeed" "$bad" ""
	same "concurrent pulls, round $round: index.json holds each image once" \
		"$(storecheck refs "$S" | sort)" \
		"$(printf '%s\n' "$REG"/test/c{0,1,2,3,4,5}:v1 | sort)"
	store_consistent "concurrent pulls, round $round: store consistent" "$S"
	for i in 0 1 2 3 4 5; do
		d=$(jget 'j["digest"]' "$T/c$i.json")
		e=$(storecheck entry "$S" "$REG/test/c$i:v1" | jget 'j["digest"]' 2>/dev/null)
		[ "$d" = "$e" ] || bad="$bad c$i:$e"
	done
	same "concurrent pulls, round $round: entries point at the right manifests" "$bad" ""
	run "$BERTH" --root "$S" fsck
	check "concurrent pulls, round $round: fsck clean" 0 "0 problems"
done

# --- kill -9 in the middle of a layer download -----------------------------------
S=$T/killed
"$BERTH" --root "$S" pull -q "$REG/test/c1:v1" >/dev/null 2>&1 || bail "pull test/c1:v1"
before=$(storecheck snapshot "$S")
slow_layer=$(curl -s "http://$HOSTILE/v2/hostile/slow/manifests/v1" | jget 'j["layers"][0]["digest"]')
: >"$HOSTILE_LOG"
"$BERTH" --root "$S" pull "$HOSTILE/hostile/slow:v1" >"$T/killed.out" 2>&1 &
pid=$!
started=yes
wait_for 120 grep -q "^GET /v2/hostile/slow/blobs/$slow_layer" "$HOSTILE_LOG" || started=no
sleep 0.7 # part of the layer is on its way (any part will do)
kill -9 "$pid"
wait "$pid" 2>/dev/null
if [ $started = no ]; then
	fail "kill -9 mid-pull: the download had started" "no GET of $slow_layer; $(head -c 300 "$T/killed.out")"
else
	ok "kill -9 mid-pull: the download had started"
fi
if [ -e "$S/blobs/sha256/${slow_layer#sha256:}" ]; then
	fail "kill -9 mid-pull: no partial blob visible" "blobs/sha256/${slow_layer#sha256:} exists"
else
	ok "kill -9 mid-pull: no partial blob visible"
fi
store_consistent "kill -9 mid-pull: store consistent" "$S"
same "kill -9 mid-pull: index.json unchanged" "$(storecheck snapshot "$S")" "$before"
# Whatever the killed process left behind (non-empty files that are not
# oci-layout, index.json or a blob): fsck removes it once it is stale,
# except the partial download, which is kept for the next pull to resume.
leftovers() {
	find "$S" -type f -size +0 ! -path "$S/oci-layout" ! -path "$S/index.json" |
		grep -vE "^$S/blobs/sha256/[0-9a-f]{64}$"
}
partial=$S/ingest/blob-partial-sha256-${slow_layer#sha256:}
left=$(leftovers)
[ -n "$left" ] && xargs -d '\n' touch -d '2 hours ago' <<<"$left"
run "$BERTH" --root "$S" fsck
if [ "$RC" = 0 ] || [ "$RC" = 16 ]; then
	ok "kill -9 mid-pull: fsck runs (exit $RC)"
else
	fail "kill -9 mid-pull: fsck runs" "exit $RC: $ERR"
fi
same "kill -9 mid-pull: fsck removed the stale leftovers but the partial download" \
	"$(leftovers | grep -vxF "$partial")" ""
run "$BERTH" --root "$S" fsck
check "kill -9 mid-pull: second fsck clean" 0 "0 problems"
run "$BERTH" --root "$S" pull -q "$HOSTILE/hostile/slow:v1"
check "kill -9 mid-pull: pulling again completes" 0
same "kill -9 mid-pull: nothing is left behind after it" "$(leftovers)" ""
store_consistent "kill -9 mid-pull: store consistent after the new pull" "$S"

done_testing

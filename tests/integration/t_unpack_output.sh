#!/usr/bin/env bash
# What berth pull --unpack and berth unpack print: on a terminal, lines
# redrawn in place; off one, plain lines (a layer's download, then its
# unpacking); with --json, one result object saying what was unpacked.
. tests/integration/lib.sh
. tests/integration/registry.sh

registry_start
mkimage "$T/img" --tag v1 --layer 6m --layer 3m >"$T/img.json" || bail "mkimage failed"
skopeo_push "$T/img" v1 "$REG/out/app:v1"
REF=$REG/out/app:v1
mapfile -t layers < <(jget "'\n'.join(l['digest'] for l in j['images'][0]['layers'])" "$T/img.json")
same "the image has two layers" "${#layers[@]}" 2

# --- off a terminal -----------------------------------------------------
run "$BERTH" --root "$T/plain" pull --unpack "$T/plain-dir" "$REF"
check "pull --unpack to a pipe succeeds" 0 "^Unpacked into $T/plain-dir: 2 layers, [1-9][0-9]* entries$"
if grep -q $'\033' <<<"$OUT"; then
	fail "a pipe gets no escape sequences" "$(cat -v <<<"$OUT" | head -n 3)"
else
	ok "a pipe gets no escape sequences"
fi
for l in "${layers[@]}"; do
	id=$(short "$l")
	same "layer $id: its download, then its unpacking, one line each" \
		"$(grep "^$id: " <<<"$OUT" | tr '\n' '|')" \
		"$id: Download complete|$id: Pull complete|"
done

# A store that holds the image: its layers are read from their blobs.
run "$BERTH" --root "$T/plain" pull --unpack "$T/plain-dir2" "$REF"
check "pull --unpack of a stored image" 0 "^Unpacked into $T/plain-dir2: 2 layers"
for l in "${layers[@]}"; do
	id=$(short "$l")
	same "stored layer $id: exists, then unpacked" \
		"$(grep "^$id: " <<<"$OUT" | tr '\n' '|')" \
		"$id: Already exists|$id: Pull complete|"
done

# --- --json ---------------------------------------------------------------
run "$BERTH" --root "$T/json" pull --json --unpack "$T/json-dir" "$REF"
check "pull --unpack --json succeeds" 0
last=$(tail -n 1 <<<"$OUT")
image=$(jget 'j["digest"]' "$T/img.json")
same "--json: the last line reports the unpacked tree" \
	"$(jget '"%s %s %s %s" % (j["event"], j["unpacked"]["image"], j["unpacked"]["dir"], j["unpacked"]["layers"])' <<<"$last")" \
	"pulled $image $T/json-dir 2"
same "--json: entries and bytes counted" \
	"$(jget '"%s %s" % (j["unpacked"]["entries"] > 0, j["unpacked"]["bytes"] > 0)' <<<"$last")" \
	"True True"
same "--json: every line is JSON" "$(python3 -c '
import json, sys
for line in sys.stdin:
    json.loads(line)
print("ok")' <<<"$OUT")" ok
run python3 "$TOOLS/tree_diff.py" "$T/plain-dir" "$T/json-dir"
check "--json: the same tree" 0

# --- on a terminal: script(1) gives the command a pseudo-terminal ---------
TERM=xterm script -qfec "'$BERTH' --root '$T/tty' pull --unpack '$T/tty-dir' $REF" "$T/tty.out" >/dev/null
same "pull --unpack on a terminal succeeds" "$?" 0
grep -q $'\033\\[[0-9]*A' "$T/tty.out" &&
	ok "pull --unpack: a terminal gets lines redrawn in place" ||
	fail "pull --unpack: a terminal gets lines redrawn in place" "no cursor movement in $(head -c 300 "$T/tty.out" | cat -v)"
grep -q 'Pull complete' "$T/tty.out" && grep -q "Unpacked into $T/tty-dir: 2 layers" "$T/tty.out" &&
	ok "pull --unpack: a terminal sees the final states" ||
	fail "pull --unpack: a terminal sees the final states" "$(cat -v "$T/tty.out" | tail -n 3)"
run python3 "$TOOLS/tree_diff.py" "$T/plain-dir" "$T/tty-dir"
check "pull --unpack on a terminal: the same tree" 0

TERM=xterm script -qfec "'$BERTH' --root '$T/tty' unpack $REF '$T/tty-unpack'" "$T/tty-unpack.out" >/dev/null
same "unpack on a terminal succeeds" "$?" 0
grep -q $'\033\\[[0-9]*A' "$T/tty-unpack.out" &&
	ok "unpack: a terminal gets lines redrawn in place" ||
	fail "unpack: a terminal gets lines redrawn in place" "no cursor movement in $(head -c 300 "$T/tty-unpack.out" | cat -v)"
grep -q 'Unpack complete' "$T/tty-unpack.out" &&
	grep -q "Unpacked $REF into $T/tty-unpack: 2 layers" "$T/tty-unpack.out" &&
	ok "unpack: a terminal sees the final states" ||
	fail "unpack: a terminal sees the final states" "$(cat -v "$T/tty-unpack.out" | tail -n 3)"

run "$BERTH" --root "$T/tty" unpack "$REF" "$T/plain-unpack"
check "unpack to a pipe succeeds" 0 "^Unpacked $REF into $T/plain-unpack: 2 layers"
if grep -q $'\033' <<<"$OUT"; then
	fail "unpack: a pipe gets no escape sequences" "$(cat -v <<<"$OUT" | head -n 3)"
else
	ok "unpack: a pipe gets no escape sequences"
fi
same "unpack: a pipe gets one line per layer" "$(grep -c ': Unpack complete$' <<<"$OUT")" 2

done_testing

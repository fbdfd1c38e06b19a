#!/usr/bin/env bash
# What an image's author wrote never reaches the terminal as control
# sequences: `berth inspect` (local and --remote) prints the image's
# strings with JSON \u escapes, so C1 controls (8-bit CSI U+009B) and
# bidirectional overrides (U+202E) arrive escaped, and parse back intact.
. tests/integration/lib.sh
. tests/integration/registry.sh

evil=$(printf 'X=a\xc2\x9b2J\xe2\x80\xaeb\x7f')
mkimage "$T/img" --tag v1 --seed terminal --layer 4k --env "$evil" >/dev/null ||
	bail "mkimage failed"
hostile_start --layout "term/app=$T/img"
S=$T/store

raw_free() {
	if LC_ALL=C grep -q $'\xc2\x9b\|\xe2\x80\xae' <<<"$OUT"; then
		fail "$1: no raw C1 or bidi bytes" "$(head -c 300 <<<"$OUT" | od -c | head -5)"
	else
		ok "$1: no raw C1 or bidi bytes"
	fi
}

run "$BERTH" --root "$S" inspect --remote "$HOSTILE/term/app:v1"
check "inspect --remote" 0 '\\u009[bB]2J\\u202[eE]b'
raw_free "inspect --remote"
same "inspect --remote: the escaped string parses back intact" \
	"$(jget '[e for e in j["Env"] if e.startswith("X=")][0].encode().hex()' <<<"$OUT")" \
	"$(printf '%s' "$evil" | od -An -tx1 | tr -d ' \n')"

run "$BERTH" --root "$S" pull -q "$HOSTILE/term/app:v1"
check "pull" 0
run "$BERTH" --root "$S" inspect "$HOSTILE/term/app:v1"
check "inspect" 0 '\\u009[bB]2J\\u202[eE]b'
raw_free "inspect"

done_testing

#!/usr/bin/env bash
# Pull output on a terminal (progress bars redrawn in place) and off one
# (plain lines, no escape sequences), as docker prints them.
. tests/integration/lib.sh
. tests/integration/registry.sh

registry_start
mkimage "$T/img" --tag v1 --layer 6m --layer 3m >/dev/null || bail "mkimage failed"
skopeo_push "$T/img" v1 "$REG/prog/app:v1"

# script(1) gives the command a pseudo-terminal.
TERM=xterm script -qec "'$BERTH' --root '$T/tty' pull $REG/prog/app:v1" "$T/tty.out" >/dev/null
RC=$?
same "pull on a terminal succeeds" "$RC" 0
grep -q $'\033\\[[0-9]*A' "$T/tty.out" &&
	ok "a terminal gets lines redrawn in place" ||
	fail "a terminal gets lines redrawn in place" "no cursor movement in $(head -c 300 "$T/tty.out" | cat -v)"
grep -q 'Pull complete' "$T/tty.out" && grep -q 'Status: Downloaded newer image' "$T/tty.out" &&
	ok "a terminal sees the final states" || fail "a terminal sees the final states" "$(cat -v "$T/tty.out" | tail -n 3)"

run "$BERTH" --root "$T/plain" pull "$REG/prog/app:v1"
check "pull to a pipe succeeds" 0 "Pull complete"
if grep -q $'\033' <<<"$OUT"; then
	fail "a pipe gets no escape sequences" "$(cat -v <<<"$OUT" | head -n 3)"
else
	ok "a pipe gets no escape sequences"
fi
same "a pipe gets one line per layer" "$(grep -c ': Pull complete$' <<<"$OUT")" 2

run "$BERTH" --root "$T/quiet" pull -q "$REG/prog/app:v1"
check "pull -q succeeds" 0
same "pull -q prints only the reference" "$OUT" "$REG/prog/app:v1"

done_testing

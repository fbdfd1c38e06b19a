#!/usr/bin/env bash
# Runs every tests/integration/t_*.sh (or those given) and counts its
# "ok - " / "not ok - " lines. A script that exits non-zero without a
# "not ok" line counts as one failure.
set -u
cd "$(dirname "$0")/.."
export BERTH=${BERTH:-$PWD/build/berth}
passed=0 failed=0
scripts=("$@")
[ ${#scripts[@]} -eq 0 ] && scripts=(tests/integration/t_*.sh)
for t in "${scripts[@]}"; do
	echo "== $t"
	start=$(date +%s)
	# A script may ask for longer than 15 minutes with a line
	# "# timeout: SECONDS" of its own.
	limit=$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n1)
	out=$(timeout "${limit:-900}" bash "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(grep -c '^ok - ' <<<"$out")
	f=$(grep -c '^not ok - ' <<<"$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $t exited $rc"
		f=1
	fi
	echo "== $t: $p passed, $f failed ($(( $(date +%s) - start )) s)"
	passed=$((passed + p)) failed=$((failed + f))
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

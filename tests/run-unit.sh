#!/usr/bin/env bash
# Runs each unit-test binary and adds up its "N passed, N failed" line.
set -u
passed=0 failed=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^ok ' || true
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed$' | tail -n1)
	if [ -z "$line" ]; then
		echo "$(basename "$t"): crashed or printed no summary (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\2/')
	passed=$((passed + p)) failed=$((failed + f))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && failed=$((failed + 1)) && echo "$(basename "$t"): exit $rc"
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# The whole test suite: installs the Debian packages that are missing,
# builds, runs the unit tests (ASan + UBSan) and the integration tests
# against real peers on 127.0.0.1. The last line is "N passed, N failed"
# over unit and integration tests together; the exit status is non-zero
# when anything failed (a failed build or a crashed runner counts as one).
set -u
cd "$(dirname "$0")/.." || exit 1

logs=$(mktemp -d "${TMPDIR:-/tmp}/berth-test.XXXXXX")
trap 'rm -rf "$logs"' EXIT
passed=0 failed=0

# add_counts KIND FILE RC: adds the "KIND: N passed, N failed" line of FILE.
add_counts() {
	local kind=$1 file=$2 rc=$3 line p f
	line=$(grep -E "^$kind: [0-9]+ passed, [0-9]+ failed$" "$file" | tail -n1)
	if [ -z "$line" ]; then
		echo "$kind tests printed no summary (exit $rc)"
		failed=$((failed + 1))
		return
	fi
	p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<<"$line")
	f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<<"$line")
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$kind tests exited $rc"
		failed=$((failed + 1))
	fi
}

if ! scripts/install-deps.sh; then
	echo "scripts/install-deps.sh failed"
	echo "0 passed, 1 failed"
	exit 1
fi

if ! scripts/install-node-tools.sh; then
	echo "scripts/install-node-tools.sh failed"
	echo "0 passed, 1 failed"
	exit 1
fi

built=1
if ! make -j"$(nproc)"; then
	echo "build failed"
	failed=$((failed + 1))
	built=0
fi

make unit 2>&1 | tee "$logs/unit"
add_counts unit "$logs/unit" "${PIPESTATUS[0]}"

# The fuzz harnesses, briefly: each must build and survive FUZZ_SECONDS of
# generated input (longer runs: tests/fuzz/run.sh SECONDS).
tests/fuzz/run.sh "${FUZZ_SECONDS:-10}" >"$logs/fuzz" 2>&1
fuzz_rc=$?
grep -E '^fuzz: (running|building)|FAILED' "$logs/fuzz"
fp=$(grep -c '^fuzz: running ' "$logs/fuzz")
ff=$(grep -c ' FAILED' "$logs/fuzz")
if [ "$fuzz_rc" -ne 0 ] && [ "$ff" -eq 0 ]; then
	tail -n 20 "$logs/fuzz"
	ff=1
fi
echo "fuzz: $((fp - ff)) passed, $ff failed"
passed=$((passed + fp - ff)) failed=$((failed + ff))

if [ "$built" = 1 ]; then
	tests/run-integration.sh 2>&1 | tee "$logs/integration"
	add_counts integration "$logs/integration" "${PIPESTATUS[0]}"
else
	echo "integration tests skipped: no build/berth"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each
# for a bounded time, or a number of executions. Exits non-zero when a
# harness finds a crash; the input that caused it is left in
# build/fuzz/artifacts/.
#
#   tests/fuzz/run.sh                 # every harness, 30 s each
#   tests/fuzz/run.sh 300 manifest    # one harness, 5 minutes
#   FUZZ_RUNS=10000000 FUZZ_JOBS=2 tests/fuzz/run.sh   # make fuzz-long
#
# FUZZ_RUNS (executions per harness) replaces the time limit; FUZZ_JOBS
# harnesses then run side by side, each logging to build/fuzz/logs/, and
# every harness ends with one summary line:
#   fuzz: NAME: N executions in S s: clean
# The corpus grows in build/fuzz/corpus/<name>/ (seeded from seeds/<name>/).
set -eu
cd "$(dirname "$0")/../.."

secs=${1:-30}
[ $# -gt 0 ] && shift
# Every harness by default: tests/fuzz/fuzz_<name>.c.
harnesses=${*:-$(for f in tests/fuzz/fuzz_*.c; do
	f=${f#tests/fuzz/fuzz_}
	printf '%s ' "${f%.c}"
done)}
cc=${FUZZ_CC:-clang}
jobs=${FUZZ_JOBS:-1}
out=build/fuzz

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: '$cc' not found; libFuzzer needs clang (apt-get install clang)" >&2
	exit 2
fi

# The Makefile knows the sources: the harnesses link the library and the
# server from one instrumented archive (make fuzz).
targets=""
for h in $harnesses; do
	targets="$targets $out/fuzz_$h"
done
echo "fuzz: building$targets"
# shellcheck disable=SC2086
make -s -j2 FUZZ_CC="$cc" $targets

# The harnesses that need files (tar, config, certs) make them under
# TMPDIR; memory is many times faster than a disk for that.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi

rm -f "$out"/logs/*.rc
export FUZZ_SECS="$secs"
if [ "$jobs" -le 1 ]; then
	for h in $harnesses; do
		tests/fuzz/run_one.sh "$h" || :
	done
else
	# FUZZ_JOBS at a time, each starting as soon as a slot is free.
	for h in $harnesses; do
		echo "$h"
	done | xargs -P "$jobs" -n 1 tests/fuzz/run_one.sh || :
fi

status=0
for h in $harnesses; do
	if [ "$(cat "$out/logs/$h.rc" 2>/dev/null)" != 0 ]; then
		echo "fuzz: $h FAILED; see $out/artifacts/" >&2
		status=1
	fi
done
exit $status

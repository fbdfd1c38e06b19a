#!/bin/sh
# Runs one built harness for FUZZ_SECS seconds, or FUZZ_RUNS executions
# when that is set; run.sh calls it. Its log goes to build/fuzz/logs/NAME.log,
# its exit status to NAME.rc, and one summary line to stdout:
#   fuzz: NAME: N executions in S s: clean
set -u
cd "$(dirname "$0")/../.."

h=$1
out=build/fuzz
log=$out/logs/$h.log
mkdir -p "$out/corpus/$h" "$out/logs" "$out/artifacts"
dict=""
[ -f "tests/fuzz/$h.dict" ] && dict="-dict=tests/fuzz/$h.dict"
if [ -n "${FUZZ_RUNS:-}" ]; then
	limit="-runs=$FUZZ_RUNS"
	echo "fuzz: running $h for $FUZZ_RUNS executions"
else
	limit="-max_total_time=${FUZZ_SECS:-30}"
	echo "fuzz: running $h for ${FUZZ_SECS:-30}s"
fi
# An input counts as hung after FUZZ_TIMEOUT seconds: generous, since a
# busy machine can stall a process for many seconds.
start=$(date +%s)
# shellcheck disable=SC2086
"$out/fuzz_$h" $limit -max_len="${FUZZ_MAX_LEN:-8192}" \
	-timeout="${FUZZ_TIMEOUT:-120}" -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$out/artifacts/$h-" $dict \
	"$out/corpus/$h" "tests/fuzz/seeds/$h" >"$log" 2>&1
rc=$?
end=$(date +%s)
n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
if [ "$rc" -eq 0 ]; then
	result=clean
else
	result="crashed (exit $rc); see $log and $out/artifacts/"
fi
echo "fuzz: $h: ${n:-0} executions in $((end - start)) s: $result"
echo "$rc" >"$out/logs/$h.rc"
exit "$rc"

# Shared helpers for integration tests. Source it from a t_*.sh script.
#
# Protocol: each tests/integration/t_*.sh is run from the repository root
# with BERTH set to the absolute path of the built binary. It prints one line
# per case, "ok - NAME" or "not ok - NAME: WHY", and exits 0 only if every
# case passed. tests/run-integration.sh counts the lines.

set -u

: "${BERTH:=$PWD/build/berth}"
TOP=$PWD
T=$(mktemp -d "${TMPDIR:-/tmp}/berth-it.XXXXXX")
_pids=()
_failed=0

# Everything a test starts is stopped and its files removed on exit.
_cleanup() {
	local p
	for p in "${_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap _cleanup EXIT

# bg CMD...: start a background process that is stopped on exit.
bg() {
	"$@" &
	_pids+=($!)
	BG_PID=$!
}

# free_port: print a TCP port nobody listens on, on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; fails
# once SECONDS of wall-clock time have passed. Tests wait for conditions
# this way, never for a sleep assumed long enough: the deadline is only a
# bound for a hang, so make it generous.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# wait_http URL [SECONDS]: wait until URL answers anything over HTTP(S).
wait_http() {
	wait_for "${2:-120}" curl -sk -o /dev/null "$1" && return 0
	echo "timed out waiting for $1" >&2
	return 1
}

ok() { echo "ok - $1"; }
fail() { echo "not ok - $1: $2"; _failed=$((_failed + 1)); }

# run CMD...: run a command, keeping its exit status in RC and its output in
# OUT (stdout) and ERR (stderr).
run() {
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
}

# check NAME EXPECTED_RC [PATTERN_IN_STDERR_OR_STDOUT...]: assert on the
# last `run`. Patterns are grep -E expressions that must all match.
check() {
	local name=$1 want=$2 pat
	shift 2
	if [ "$RC" != "$want" ]; then
		fail "$name" "exit $RC, want $want; stderr: $(head -c 400 <<<"$ERR")"
		return 1
	fi
	for pat in "$@"; do
		if ! grep -qE -- "$pat" <<<"$OUT"$'\n'"$ERR"; then
			fail "$name" "output lacks /$pat/; got: $(head -c 400 <<<"$OUT"$'\n'"$ERR")"
			return 1
		fi
	done
	ok "$name"
}

# same NAME GOT WANT: a case that passes when two strings are equal.
same() {
	if [ "$2" == "$3" ]; then
		ok "$1"
	else
		fail "$1" "got [$(head -c 300 <<<"$2" | tr '\n' '|')], want [$(head -c 300 <<<"$3" | tr '\n' '|')]"
	fi
}

# expect NAME COMMAND...: a case that passes when COMMAND succeeds.
expect() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "'$*' failed"; fi
}

# done_testing: the script's last line.
done_testing() {
	[ "$_failed" -eq 0 ]
}

#!/usr/bin/env bash
# Waiting on the store's lock (held here by flock(1), as another berth
# would hold it) can be interrupted: SIGINT and SIGTERM end the wait with
# one line and 130 / 143, and the interrupted command changes nothing. Once
# the lock is free, a waiting command goes on.
. tests/integration/lib.sh

S=$T/store
mkdir -p "$T/rootfs/etc" && echo lock >"$T/rootfs/etc/lock"
tar -czf "$T/rootfs.tgz" -C "$T/rootfs" .
"$BERTH" --root "$S" import "$T/rootfs.tgz" local/app:v1 >/dev/null 2>&1 || {
	echo "not ok - fixture: import"
	exit 1
}

# hold_lock: a process holds ROOT/.lock (flock(1) on a descriptor that
# `sleep` keeps) until release_lock kills it.
hold_lock() {
	bg bash -c 'exec 9>>"$1" && flock 9 && exec sleep 600' _ "$S/.lock"
	HOLDER=$BG_PID
	local n=600
	# The holder has it once a non-blocking attempt fails.
	while flock -n "$S/.lock" true; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "not ok - fixture: flock did not take the lock"; exit 1; }
		sleep 0.1
	done
}
release_lock() {
	kill "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
}

# waiting PID: wait (generously) until PID has the lock file open, i.e. it
# is at the lock; fails if it exits first.
waiting() {
	local pid=$1 n=600
	while [ $n -gt 0 ]; do
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -q -- "$S/.lock" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# interrupt SIGNAL CMD...: start CMD, wait until it waits on the lock, send
# SIGNAL, and leave its status in RC and its stderr in ERR.
interrupt() {
	local sig=$1
	shift
	"$@" >"$T/.out" 2>"$T/.err" &
	local pid=$!
	if ! waiting "$pid"; then
		wait "$pid"
		RC="never waited (exit $?)"
		ERR=$(cat "$T/.err")
		return
	fi
	kill -"$sig" "$pid"
	# A wait the signal did not end would hang the test: give up after
	# a minute (a deadline for a hang, not a measure of speed).
	local n=600
	while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid"
		RC="still waiting a minute after SIG$sig"
		OUT=$(cat "$T/.out")
		ERR=$(cat "$T/.err")
		return
	fi
	wait "$pid"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
}

hold_lock
interrupt INT "$BERTH" --root "$S" rmi local/app:v1
same "rmi waiting on the lock, SIGINT: exit 130" "$RC" 130
same "rmi, SIGINT: one line saying so" "$ERR" \
	"berth: interrupted while waiting for the lock on '$S/.lock'"
same "rmi, SIGINT: nothing untagged" "$(grep -c Untagged <<<"$OUT")" 0
interrupt TERM "$BERTH" --root "$S" rmi local/app:v1
same "rmi waiting on the lock, SIGTERM: exit 143" "$RC" 143
same "rmi, SIGTERM: one line saying so" "$ERR" \
	"berth: interrupted while waiting for the lock on '$S/.lock'"
interrupt INT "$BERTH" --root "$S" tag local/app:v1 local/app:v2
same "tag waiting on the lock, SIGINT: exit 130" "$RC" 130
release_lock

run "$BERTH" --root "$S" images -q
same "the interrupted commands changed nothing" "$RC:$OUT" "0:docker.io/local/app:v1"
run "$BERTH" --root "$S" fsck
check "the store is sound after the interrupts" 0 "0 problems"

# Without a signal, a command waiting on the lock goes on once it is free.
hold_lock
"$BERTH" --root "$S" rmi local/app:v1 >"$T/rmi.out" 2>"$T/rmi.err" &
rmi_pid=$!
expect "rmi waits on the held lock" waiting "$rmi_pid"
expect "rmi is still waiting (it did not go ahead under the lock)" kill -0 "$rmi_pid"
release_lock
wait "$rmi_pid"
same "rmi goes on once the lock is free" "$?:$(cat "$T/rmi.out" | head -n1)" \
	"0:Untagged: docker.io/local/app:v1"
run "$BERTH" --root "$S" images -q
same "and the image is gone" "$RC:$OUT" "0:"

done_testing

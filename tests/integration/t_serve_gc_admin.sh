#!/usr/bin/env bash
# Garbage collection under access control and on a schedule: only the
# policy's admins may call POST /admin/v1/gc (401 anonymous, 403 for
# others, both audit-logged as denied); a dry run deletes nothing; a
# gc-interval set by SIGHUP starts scheduled collections that delete an
# untagged image's blobs once its grace period is over, audit-logged with
# the actor "gc".
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

command -v htpasswd >/dev/null || {
	fail "htpasswd is installed" "run scripts/install-deps.sh"
	exit 1
}
htpasswd -Bbc -C 4 "$T/htpasswd" root pw-root 2>/dev/null
htpasswd -Bb -C 4 "$T/htpasswd" alice pw-alice 2>/dev/null
cat >"$T/policy.json" <<'JSON'
{ "admins": ["root"],
  "rules": [{"repository": "**", "grant": {"alice": ["pull", "push", "delete"]}}] }
JSON
printf '{"audit-log": "%s", "gc-grace": "1s"}\n' "$T/audit.log" >"$T/config.json"
serve_start --htpasswd "$T/htpasswd" --policy "$T/policy.json" --config "$T/config.json" ||
	{ fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
SRV_CURL+=(-u alice:pw-alice)

# An image pushed and then deleted: its blobs are garbage once the grace
# period is over.
M=$(make_layout "$T/img" v1 7 4096 8192)
same "an image is pushed" "$(push_layout team/app v1 "$T/img" "$M")" 201
same "...and its manifest deleted" \
	"$(http_status DELETE "$SRV_URL/v2/team/app/manifests/$M")" 202
layers() { blob_names "$T/img" | while read -r b; do [ -e "$SRV_STORAGE/blobs/sha256/${b:0:2}/$b" ] && echo "$b"; done; }
same "its blobs are still on disk" "$(layers | wc -l)" "$(blob_names "$T/img" | wc -l)"

gc() { curl -s --max-time 120 -o "$T/gc.json" -w '%{http_code}' -X POST "$@"; }
same "anonymous callers get 401" "$(gc "$SRV_URL/admin/v1/gc?dry-run=true")" 401
same "a user who is not an admin gets 403" \
	"$(gc -u alice:pw-alice "$SRV_URL/admin/v1/gc?dry-run=true")" 403
expect "...saying who may" grep -q "admins" "$T/gc.json"
expect "both refusals are audit-logged" \
	test "$(grep -c '"action":"denied".*admin' "$T/audit.log")" -ge 2
same "a dry-run value must be true or false" \
	"$(gc -u root:pw-root "$SRV_URL/admin/v1/gc?dry-run=maybe")" 400
same "the endpoint takes POST only" \
	"$(curl -s -o /dev/null -w '%{http_code}' -u root:pw-root "$SRV_URL/admin/v1/gc")" 405
# past_grace: a dry run of an admin lists the image's layers.
past_grace() {
	[ "$(gc -u root:pw-root "$SRV_URL/admin/v1/gc?dry-run=true")" = 200 ] &&
		grep -q "$(blob_names "$T/img" | head -n1)" "$T/gc.json"
}
expect "an admin's dry run lists the garbage" wait_for 120 past_grace
expect "...as a dry run" grep -q '"dry_run": *true' "$T/gc.json"
same "...and deletes nothing" "$(layers | wc -l)" "$(blob_names "$T/img" | wc -l)"

# A schedule, set by a reload.
logged_since() { tail -n +"$(($1 + 1))" "$T/serve.log" | grep -q "$2"; }
printf '{"audit-log": "%s", "gc-grace": "1s", "gc-interval": "1s"}\n' "$T/audit.log" >"$T/config.json"
mark=$(wc -l <"$T/serve.log")
kill -HUP "$SRV_PID"
expect "SIGHUP applies gc-interval" \
	wait_for 60 logged_since "$mark" "configuration reloaded.*gc-interval 1 s, gc-grace 1 s"
collected() { [ -z "$(layers)" ]; }
expect "a scheduled collection deletes the image's blobs" wait_for 300 collected
expect "...audit-logged with the actor gc" \
	grep -q '"action":"delete","actor":"gc","repository":"team/app"' "$T/audit.log"
run "${SRV_CURL[@]}" -u root:pw-root "$SRV_URL/metrics"
check "...and counted" 0 '^berth_gc_runs_total\{result="ok"\} [1-9]' \
	'^berth_gc_runs_total\{result="dry_run"\} [1-9]'
expect "every stored blob matches its digest" store_fsck "$SRV_STORAGE"
serve_stop
same "berth serve stops cleanly" "$SRV_RC" 0
done_testing

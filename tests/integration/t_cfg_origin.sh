#!/usr/bin/env bash
# Credentials stay with their origin: a registry whose tag list pages, upload
# Location and blob redirect all point at another port gets its config.json
# credentials, and the server there never sees an Authorization header.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
P=$(free_port)
C=$(free_port)
LOG=$T/origin.log
: >"$LOG"
bg python3 "$TOOLS/origin_registry.py" "$P" "$C" --log "$LOG" 2>"$T/origin.err"
wait_http "http://127.0.0.1:$C/" || bail "origin registry did not start: $(tail -n 3 "$T/origin.err")"
R=127.0.0.1:$P
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$R" "$(printf 'alice:s3cret' | base64)" \
	>"$DOCKER_CONFIG/config.json"
: >"$LOG"

collector_auth() { grep -c '^collector .* auth=yes$' "$LOG"; }
collector_seen() { grep -c "^collector $1 " "$LOG"; }

run berth_ ls "$R/away"
check "ls follows the Link to the other origin" 0 "v1" "v2"
same "the registry got the credentials" "$(grep -c '^registry GET /v2/away/tags/list[?]n=1000 auth=yes$' "$LOG")" 1
same "the collector served the second page" "$(collector_seen GET)" 1
same "the second page went without credentials" "$(collector_auth)" 0

: >"$LOG"
run berth_ pull "$R/away:v1"
check "pull follows a blob redirect to the other origin" 0 "Digest: sha256:"
same "the collector served the layer" "$(grep -c '^collector GET /storage/' "$LOG")" 1
same "the redirected blob went without credentials" "$(collector_auth)" 0

: >"$LOG"
run berth_ push "$R/away:v1"
check "push uploads to the Location on the other origin" 0 "digest: sha256:"
same "the collector got the uploads" "$(collector_seen PUT)" 2
same "the uploads went without credentials" "$(collector_auth)" 0
same "the registry got the credentials for the manifest" \
	"$(grep -c '^registry PUT /v2/away/manifests/v1 auth=yes$' "$LOG")" 1

done_testing

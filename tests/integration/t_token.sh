#!/usr/bin/env bash
# The anonymous bearer-token flow every public registry needs: Debian's
# docker-registry with token authentication, a token server on 127.0.0.1,
# and berth pulling without credentials.
. tests/integration/lib.sh
. tests/integration/registry.sh

start_token_registry() {
	local anon=$1 tport rport dir
	tport=$(free_port)
	rport=$(free_port)
	dir=$(mktemp -d "$T/tokreg.XXXXXX")
	TOKEN_LOG=$dir/token.log
	bg python3 "$TOOLS/token_server.py" "$tport" --dir "$dir" \
		--user pusher:secret --log "$TOKEN_LOG" $anon 2>"$dir/token.err"
	wait_http "http://127.0.0.1:$tport/token" ||
		bail "token server did not start: $(tail -n 3 "$dir/token.err")"
	cat >"$dir/config.yml" <<YML
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $dir/data}
http: {addr: 127.0.0.1:$rport}
auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: berth-test
    issuer: berth-test-issuer
    rootcertbundle: $dir/cert.pem
YML
	bg /usr/bin/docker-registry serve "$dir/config.yml" >/dev/null 2>"$dir/registry.log"
	wait_http "http://127.0.0.1:$rport/v2/" ||
		bail "docker-registry did not start: $(tail -n 3 "$dir/registry.log")"
	TREG=127.0.0.1:$rport
}

mkimage "$T/img" --tag v1 --layer 64k --layer 32k >/dev/null ||
	bail "mkimage failed"

# Anonymous pulls allowed by the token server.
start_token_registry --anonymous-pull
skopeo_push "$T/img" v1 "$TREG/pub/app:v1" --dest-creds pusher:secret

run curl -s -o /dev/null -w '%{http_code}' "http://$TREG/v2/"
same "the registry demands a token" "$OUT" 401

run "$BERTH" --root "$T/s1" pull "$TREG/pub/app:v1"
check "anonymous pull through the token flow" 0 "Pull complete" "Digest: sha256:"
grep -q 'user=- scope=repository:pub/app:pull status=200' "$TOKEN_LOG" &&
	ok "an anonymous token was asked for exactly the pull scope" ||
	fail "an anonymous token was asked for exactly the pull scope" "$(cat "$TOKEN_LOG")"
storecheck verify "$T/s1" >/dev/null &&
	ok "the pulled store verifies" || fail "the pulled store verifies" "storecheck"

run "$BERTH" --root "$T/s1" ls "$TREG/pub/app"
check "tag list through the token flow" 0 "^v1$"

# Anonymous pulls refused: a clear message naming the repository.
start_token_registry ""
skopeo_push "$T/img" v1 "$TREG/priv/app:v1" --dest-creds pusher:secret
run "$BERTH" --root "$T/s2" pull "$TREG/priv/app:v1"
check "pull refused by the token server" 5 "not logged in" "$TREG" "hint: .*berth login"
[ ! -e "$T/s2/index.json" ] || [ "$(jget 'len(j["manifests"])' "$T/s2/index.json")" = 0 ] &&
	ok "a refused pull records no image" || fail "a refused pull records no image" "index.json has entries"

done_testing

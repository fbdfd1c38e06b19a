#!/usr/bin/env bash
# berth login / logout against real registries: docker-registry with
# htpasswd (Basic) and with token authentication (the token flow, identity
# tokens), credentials stored in config.json exactly as docker writes them
# (read back by skopeo), a credential helper, and the 401 messages.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
mkimage "$T/img" --tag v1 --layer 32k --seed cfg-login >"$T/img.json"
digest=$(jget 'j["digest"]' "$T/img.json")
htpasswd -Bbc "$T/htpasswd" alice 's3cret' 2>/dev/null
htpasswd -Bb "$T/htpasswd" bob 'bobpw' 2>/dev/null

dreg_start --htpasswd "$T/htpasswd"
B=$DREG
skopeo_push "$T/img" v1 "$B/cfg/app:v1" --dest-creds alice:s3cret

# --- not logged in ----------------------------------------------------------
run berth_ pull "$B/cfg/app:v1"
check "pull without credentials: exit 5, the repository and the remedy" 5 \
	"not logged in, or your account lacks pull permission on '$B/cfg/app'" \
	"hint: run 'berth login $B'"

# --- login: bad and good password ---------------------------------------------
run berth_ login -u alice -p wrong "$B"
check "login with a wrong password: exit 5" 5 "login to '$B' as 'alice' failed" "hint: check the user name and password"
expect "a failed login stores nothing" test ! -e "$DOCKER_CONFIG/config.json"
run berth_ login -u alice --password-stdin "$B" <<<"s3cret"
check "login with the right password (stdin)" 0 "Login Succeeded" \
	"WARNING! Your password will be stored unencrypted in $DOCKER_CONFIG/config.json"
expect "config.json is mode 0600" test "$(stat -c %a "$DOCKER_CONFIG/config.json")" = 600
want=$(printf 'alice:s3cret' | base64)
same "config.json holds auths[HOST].auth = base64(user:password)" \
	"$(jget "j['auths']['$B']['auth']" "$DOCKER_CONFIG/config.json")" "$want"
run berth_ pull "$B/cfg/app:v1"
check "pull with the stored credentials" 0 "Digest: $digest"
mkdir -p "$T/rootfs/etc" && echo pushed >"$T/rootfs/etc/pushed"
tar -czf "$T/rootfs.tgz" -C "$T/rootfs" .
run berth_ import "$T/rootfs.tgz" "$B/cfg/pushed:v1"
run berth_ push "$B/cfg/pushed:v1"
check "push with the stored credentials" 0 "digest: sha256:"
run skopeo_ inspect --authfile "$DOCKER_CONFIG/config.json" --tls-verify=false "docker://$B/cfg/app:v1"
check "skopeo --authfile reads berth's stored credentials" 0 "\"Digest\": \"$digest\""
run env REGISTRY_AUTH_FILE="$DOCKER_CONFIG/config.json" skopeo --policy "$T/containers/policy.json" \
	inspect --tls-verify=false "docker://$B/cfg/app:v1"
check "skopeo with REGISTRY_AUTH_FILE reads them too" 0 "\"Digest\": \"$digest\""

# other keys of config.json survive a login
jget "dict(j, psFormat='table {{.ID}}')" "$DOCKER_CONFIG/config.json" >"$T/c.json" 2>/dev/null ||
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j["psFormat"]="table"; json.dump(j,open(sys.argv[2],"w"))' \
		"$DOCKER_CONFIG/config.json" "$T/c.json"
cp "$T/c.json" "$DOCKER_CONFIG/config.json"
run berth_ login -u bob -p bobpw "$B"
check "login again as another user (-p warns)" 0 "Login Succeeded" "Using --password via the CLI is insecure"
expect "other keys of config.json are kept" grep -q psFormat "$DOCKER_CONFIG/config.json"
same "the entry now holds bob" "$(jget "j['auths']['$B']['auth']" "$DOCKER_CONFIG/config.json")" \
	"$(printf 'bob:bobpw' | base64)"

# --- logout -------------------------------------------------------------------
run berth_ logout "$B"
check "logout removes the credentials" 0 "Removing login credentials for $B"
expect "the entry is gone" sh -c "! grep -q '$B' '$DOCKER_CONFIG/config.json'"
run berth_ logout "$B"
check "logout again: not logged in, exit 0" 0 "Not logged in to $B"
run berth_ --root "$T/s2" pull "$B/cfg/app:v1"
check "after logout, pulls are refused again" 5 "not logged in"

# --- config.json written by hand as docker / skopeo do ---------------------------
printf '{"auths":{"http://%s/v2/":{"auth":"%s"}}}' "$B" "$(printf 'alice:s3cret' | base64)" \
	>"$DOCKER_CONFIG/config.json"
run berth_ --root "$T/s3" pull "$B/cfg/app:v1"
check "an auths key with scheme and path matches the host" 0 "Digest: $digest"

# --- a credential helper ----------------------------------------------------------
mkdir -p "$T/bin"
cp "$TOP/tests/tools/docker-credential-berthtest" "$T/bin/"
export PATH="$T/bin:$PATH" BERTHTEST_CRED_FILE=$T/helper.json
echo '{"credsStore": "berthtest"}' >"$DOCKER_CONFIG/config.json"
run berth_ login -u alice --password-stdin "$B" <<<"s3cret"
check "login through credsStore: no plaintext warning" 0 "Login Succeeded"
if grep -q unencrypted <<<"$ERR"; then fail "no unencrypted warning with a helper" "$ERR"; else ok "no unencrypted warning with a helper"; fi
same "the helper holds the secret" "$(jget "j['$B']['Secret']" "$T/helper.json")" "s3cret"
expect "config.json holds no secret" sh -c "! grep -q -e auth\\\" -e s3cret '$DOCKER_CONFIG/config.json'"
expect "config.json lists the host with an empty entry (as docker)" \
	test "$(jget "j['auths']['$B']" "$DOCKER_CONFIG/config.json")" = "{}"
run berth_ --root "$T/s4" pull "$B/cfg/app:v1"
check "pull with credentials from the helper" 0 "Digest: $digest"
expect "the helper was asked with 'get HOST'" grep -q "^get $B\$" "$T/helper.json.log"
echo "{\"credHelpers\": {\"$B\": \"berthtest\"}}" >"$DOCKER_CONFIG/config.json"
run berth_ --root "$T/s5" pull "$B/cfg/app:v1"
check "credHelpers[host] is used" 0 "Digest: $digest"
run berth_ logout "$B"
check "logout erases from the helper" 0 "Removing login credentials for $B"
expect "the helper no longer has it" test "$(jget "len(j)" "$T/helper.json")" = 0
echo '{"credsStore": "missing-helper"}' >"$DOCKER_CONFIG/config.json"
run berth_ --root "$T/s6" pull "$B/cfg/app:v1"
check "a configured helper that is not installed: exit 5 naming it" 5 \
	"docker-credential-missing-helper' not found"
rm -f "$DOCKER_CONFIG/config.json"

# --- the token flow (docker-registry + token server) ---------------------------------
TP=$(free_port)
bg python3 "$TOOLS/token_server.py" "$TP" --dir "$T/tok" --user carol:tokpw \
	--refresh-token carol:refresh-123 --log "$T/token.log" >"$T/token.out" 2>&1
wait_http "http://127.0.0.1:$TP/token" || bail "token server did not start"
dreg_start --token "http://127.0.0.1:$TP/token" berth-test "$T/tok/cert.pem"
K=$DREG
skopeo_push "$T/img" v1 "$K/cfg/app:v1" --dest-creds carol:tokpw
run berth_ --root "$T/t1" pull "$K/cfg/app:v1"
check "token registry without credentials: exit 5" 5 "not logged in" "berth login $K"
run berth_ login -u carol -p nope "$K"
check "token login with a wrong password: exit 5" 5 "rejected your credentials|failed"
run berth_ login -u carol -p tokpw "$K"
check "token login with the right password" 0 "Login Succeeded"
expect "the token request carried the user" grep -q "user=carol" "$T/token.log"
run berth_ --root "$T/t2" pull "$K/cfg/app:v1"
check "pull through the token flow with stored credentials" 0 "Digest: $digest"
expect "the token server saw a pull scope" grep -q "scope=repository:cfg/app:pull" "$T/token.log"
printf '{"auths":{"%s":{"auth":"%s","identitytoken":"refresh-123"}}}' "$K" \
	"$(printf 'carol:' | base64)" >"$DOCKER_CONFIG/config.json"
: >"$T/token.log"
run berth_ --root "$T/t3" pull "$K/cfg/app:v1"
check "an identitytoken from config.json is exchanged (OAuth2 POST)" 0 "Digest: $digest"
expect "the token server got a POST" grep -q "^POST user=carol" "$T/token.log"

done_testing

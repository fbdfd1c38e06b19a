#!/usr/bin/env bash
# berth serve's pull-through cache in front of an upstream that wants
# credentials: docker-registry with token authentication (the test token
# server), reached with a username and password, with an identity
# (refresh) token, and anonymously (refused: passed on as 403).
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/serve_lib.sh
. tests/integration/cfg_lib.sh

cfg_env
mkimage "$T/img" --tag v1 --seed cache-auth --layer 64k >"$T/img.json"
digest=$(jget 'j["digest"]' "$T/img.json")
TP=$(free_port)
bg python3 "$TOOLS/token_server.py" "$TP" --dir "$T/tok" --user carol:tokpw \
	--refresh-token carol:refresh-123 --log "$T/token.log" >"$T/token.out" 2>&1
wait_http "http://127.0.0.1:$TP/token" || bail "token server did not start"
dreg_start --token "http://127.0.0.1:$TP/token" berth-test "$T/tok/cert.pem"
skopeo_push "$T/img" v1 "$DREG/team/app:v1" --dest-creds carol:tokpw

cat >"$T/serve.json" <<JSON
{"upstreams": [
  {"url": "http://$DREG", "prefix": "pw", "username": "carol", "password": "tokpw"},
  {"url": "http://$DREG", "prefix": "rt", "token": "refresh-123"},
  {"url": "http://$DREG", "prefix": "anon"}
]}
JSON
serve_start --config "$T/serve.json" || bail "berth serve did not start"

: >"$T/token.log"
run skopeo_ copy -q --src-tls-verify=false "docker://$SRV_HOST/pw/team/app:v1" "oci:$T/out:v1"
check "a username and password get a token from the upstream's token server" 0
expect "...asked for as carol, with a pull scope" grep -q "user=carol scope=repository:team/app:pull" "$T/token.log"
same "...and the upstream's manifest is served" \
	"$(http_status GET "$SRV_URL/v2/pw/team/app/manifests/v1" -H 'Accept: application/vnd.oci.image.manifest.v1+json'; last_header Docker-Content-Digest)" \
	"200$digest"

: >"$T/token.log"
same "an identity token is exchanged for an access token" \
	"$(http_status GET "$SRV_URL/v2/rt/team/app/manifests/v1" -H 'Accept: application/vnd.oci.image.manifest.v1+json'; last_header Docker-Content-Digest)" \
	"200$digest"
expect "...with the OAuth2 POST" grep -q "^POST" "$T/token.log"

same "without credentials the upstream's refusal is passed on as 403" \
	"$(http_status GET "$SRV_URL/v2/anon/team/app/manifests/v1")" 403
expect "...saying what to configure" grep -q "DENIED.*upstream 'http://$DREG': it refused berth's credentials (401 Unauthorized): give its entry in 'upstreams' a username" "$T/.body"

done_testing

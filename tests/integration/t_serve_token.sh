#!/usr/bin/env bash
# berth serve with token authentication and an access policy: the token
# service, a user x repository x action matrix of statuses, real clients
# (skopeo, podman, berth) through the token flow, forged tokens, catalog
# filtering, path tricks, an external issuer, and the audit log.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

htpasswd -Bbc "$T/htpasswd" alice pw-alice-secret 2>/dev/null
for u in carol bob root dave; do
	htpasswd -Bb "$T/htpasswd" "$u" "pw-$u-secret" 2>/dev/null
done
cat >"$T/policy.json" <<'JSON'
{ "groups": { "fin": ["alice"], "auditors": ["carol"], "dev": ["bob"] },
  "admins": ["root"],
  "catalog": ["authenticated"],
  "rules": [
    { "repository": "finance/**",
      "grant": { "group:fin": ["pull", "push"], "group:auditors": ["pull"] } },
    { "repository": "public/*",
      "grant": { "anonymous": ["pull"], "group:dev": ["pull", "push"] } } ] }
JSON
serve_start --auth token --htpasswd "$T/htpasswd" --policy "$T/policy.json" \
	--audit-log "$T/audit.log" ||
	{ fail "serve starts with token auth" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
H=$SRV_HOST

# ---- the challenge and the token service ----
got=$(http_status GET "$R/v2/")
expect "/v2/ without a token is 401" test "$got" = 401
expect "the challenge names the realm and service" \
	grep -qi "^WWW-Authenticate: Bearer realm=\"$R/token\",service=\"berth\"" "$T/.headers"
got=$(http_status GET "$R/v2/finance/app/manifests/v1")
expect "the challenge carries the pull scope" \
	grep -qi 'scope="repository:finance/app:pull"' "$T/.headers"
got=$(http_status POST "$R/v2/finance/app/blobs/uploads/")
expect "a push challenge asks for pull,push" \
	grep -qi 'scope="repository:finance/app:pull,push"' "$T/.headers"
expect "the signing key was generated 0600" test "$(stat -c %a "$SRV_STORAGE/token-keys/signing.pem")" = 600

# tok USER SCOPE...: a token (USER "anon": no credentials)
tok() {
	local user=$1 q="service=berth" s
	shift
	for s in "$@"; do q="$q&scope=$s"; done
	if [ "$user" = anon ]; then
		curl -s "$R/token?$q"
	else
		curl -s -u "$user:pw-$user-secret" "$R/token?$q"
	fi | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
claims() { python3 -c 'import base64,sys; p=sys.argv[1].split(".")[1]; print(base64.urlsafe_b64decode(p+"="*(-len(p)%4)).decode())' "$1"; }

got=$(http_status GET "$R/token?service=berth&scope=repository:finance/app:pull" -u alice:wrong)
expect "wrong credentials at /token are 401" test "$got" = 401
got=$(http_status GET "$R/token?service=other&scope=repository:finance/app:pull" -u alice:pw-alice-secret)
expect "an unknown service at /token is refused" test "$got" = 400
A=$(tok alice "repository:finance/app:pull,push,delete" "repository:team/app:pull")
C=$(claims "$A")
expect "the token grants finance/app pull,push" grep -q '"name": *"finance/app", *"actions": *\["pull", *"push"\]' <<<"$C"
expect "the token does not grant delete or team/app" sh -c '! grep -q -e delete -e team/app' <<<"$C"
expect "the token has iss, aud, exp, iat, jti" grep -q '"iss".*"aud".*"exp".*"iat".*"jti"' <<<"$C"

# ---- seed content as the admin, with skopeo through the token flow ----
make_layout "$T/img" v1 3 2000 30000 >/dev/null
for repo in finance/app public/app team/app; do
	run sk copy --dest-tls-verify=false --dest-creds root:pw-root-secret \
		"oci:$T/img:v1" "docker://$H/$repo:v1"
	check "skopeo pushes $repo as the admin" 0
done
run sk copy --dest-tls-verify=false --dest-creds bob:pw-bob-secret "oci:$T/img:v1" "docker://$H/finance/bob:v1"
check "skopeo push without permission is refused" 1 'denied|unauthorized|403'
run sk inspect --tls-verify=false --creds carol:pw-carol-secret "docker://$H/finance/app:v1"
check "skopeo pulls with an auditor's credentials" 0 '"Digest"'
run sk inspect --tls-verify=false --no-creds "docker://$H/public/app:v1"
check "skopeo pulls a public image anonymously" 0 '"Digest"'
run sk inspect --tls-verify=false --no-creds "docker://$H/finance/app:v1"
check "skopeo anonymously cannot read finance" 1 'unauthorized|authentication required|401'

# ---- the matrix: user x repository x action -> status ----
# pull: GET manifest (200); push: POST upload (202); delete: DELETE an
# absent tag (404 when allowed). Refused: 401 anonymous, 403 signed in.
cell() { # cell USER REPO ACTION WANT
	local user=$1 repo=$2 act=$3 want=$4 t m url got
	case $act in
	pull) m=GET url="$R/v2/$repo/manifests/v1" ;;
	push) m=POST url="$R/v2/$repo/blobs/uploads/" ;;
	delete) m=DELETE url="$R/v2/$repo/manifests/absent" ;;
	esac
	t=$(tok "$user" "repository:$repo:$act")
	got=$(http_status "$m" "$url" -H "Authorization: Bearer $t")
	expect "matrix: $user $act $repo -> $want" test "$got" = "$want"
}
while read -r user repo pull push del; do
	cell "$user" "$repo" pull "$pull"
	cell "$user" "$repo" push "$push"
	cell "$user" "$repo" delete "$del"
done <<'M'
anon  finance/app 401 401 401
alice finance/app 200 202 403
carol finance/app 200 403 403
bob   finance/app 403 403 403
root  finance/app 200 202 404
anon  public/app  200 401 401
alice public/app  200 403 403
bob   public/app  200 202 403
root  public/app  200 202 404
anon  team/app    401 401 401
dave  team/app    403 403 403
root  team/app    200 202 404
M

# ---- tokens and scopes ----
P=$(tok anon "repository:public/app:pull")
got=$(http_status GET "$R/v2/finance/app/manifests/v1" -H "Authorization: Bearer $P")
expect "a token for public/app does not open finance/app" test "$got" = 401
A=$(tok alice "repository:finance/app:pull")
got=$(http_status GET "$R/v2/finance/other/manifests/v1" -H "Authorization: Bearer $A")
expect "alice's finance/app token does not open finance/other (401 to fetch one)" test "$got" = 401
expect "... with insufficient_scope" grep -qi 'error="insufficient_scope"' "$T/.headers"
got=$(http_status GET "$R/v2/team/app/manifests/v1" -H "Authorization: Bearer $A")
expect "alice with a token on a repository she may not read is 403" test "$got" = 403
expect "403 is DENIED" grep -q '"code":"DENIED"' "$T/.body"
got=$(http_status GET "$R/v2/finance/app/blobs/uploads/x" -H "Authorization: Bearer $A")
expect "a pull token does not open uploads" test "$got" = 401

# Forged tokens, made with Python's cryptography against the real key.
forge() { # forge KIND -> a token
	python3 - "$1" "$SRV_STORAGE/token-keys/signing.pem" "$A" <<'PY'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
kind, keyfile, good = sys.argv[1:4]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
unb = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
h, p, s = good.split(".")
hdr, cl = json.loads(unb(h)), json.loads(unb(p))
key = serialization.load_pem_private_key(open(keyfile, "rb").read(), None)
now = int(time.time())
cl["access"] = [{"type": "repository", "name": "team/app", "actions": ["pull", "push", "delete"]}]
if kind == "expired": cl.update(exp=now - 3600, iat=now - 7200, nbf=now - 7200)
if kind == "aud": cl["aud"] = "another-registry"
if kind == "iss": cl["iss"] = "someone-else"
if kind == "other-key": key = ec.generate_private_key(ec.SECP256R1())
if kind == "refresh": cl["berth_refresh"] = True
def sign(hdr, cl, key):
    inp = (b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(cl).encode())).encode()
    r, s = utils.decode_dss_signature(key.sign(inp, ec.ECDSA(hashes.SHA256())))
    return inp.decode() + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
if kind == "forged":   # new claims, the old signature
    print(b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(cl).encode()) + "." + s)
elif kind == "none":
    print(b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + b64(json.dumps(cl).encode()) + ".")
elif kind == "der":    # a valid signature, DER-encoded instead of r||s
    inp = (b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(cl).encode())).encode()
    print(inp.decode() + "." + b64(key.sign(inp, ec.ECDSA(hashes.SHA256()))))
else:
    print(sign(hdr, cl, key))
PY
}
G=$(forge good)
got=$(http_status GET "$R/v2/team/app/manifests/v1" -H "Authorization: Bearer $G")
expect "control: a token signed by the registry's key is accepted" test "$got" = 200
for kind in forged expired aud iss none other-key der refresh; do
	F=$(forge "$kind")
	got=$(http_status GET "$R/v2/team/app/manifests/v1" -H "Authorization: Bearer $F")
	expect "a $kind token is rejected with 401" test "$got" = 401
done
F=$(forge forged)
http_status GET "$R/v2/team/app/manifests/v1" -H "Authorization: Bearer $F" >/dev/null
expect "a rejected token gets error=invalid_token" grep -qi 'error="invalid_token"' "$T/.headers"
got=$(http_status GET "$R/v2/team/app/manifests/v1" -H "Authorization: Bearer not.a.jwt")
expect "garbage is rejected with 401" test "$got" = 401

# ---- POST /token (OAuth2) with refresh tokens ----
out=$(curl -s -X POST -d "grant_type=password&username=alice&password=pw-alice-secret&service=berth&client_id=t&access_type=offline&scope=repository:finance/app:pull" "$R/token")
RT=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("refresh_token",""))' "$out")
expect "POST /token with access_type=offline returns a refresh token" test -n "$RT"
out=$(curl -s -X POST -d "grant_type=refresh_token&refresh_token=$RT&service=berth&client_id=t&scope=repository:finance/app:pull" "$R/token")
AT=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["access_token"])' "$out" 2>/dev/null)
got=$(http_status GET "$R/v2/finance/app/manifests/v1" -H "Authorization: Bearer $AT")
expect "the refresh token buys an access token that works" test "$got" = 200
got=$(http_status GET "$R/v2/finance/app/manifests/v1" -H "Authorization: Bearer $RT")
expect "a refresh token is no access token" test "$got" = 401
got=$(http_status POST "$R/token" -d "grant_type=password&username=alice&password=nope&service=berth")
expect "POST /token with a wrong password is 401" test "$got" = 401

# ---- catalog and tags, filtered ----
catalog() { curl -s -H "Authorization: Bearer $(tok "$1" registry:catalog:*)" "$R/v2/_catalog"; }
expect "alice's catalog: finance and public, not team" \
	test "$(catalog alice)" = '{"repositories":["finance/app","public/app"]}'
expect "bob's catalog: only public" test "$(catalog bob)" = '{"repositories":["public/app"]}'
expect "root's catalog: everything" grep -q '"team/app"' <<<"$(catalog root)"
got=$(http_status GET "$R/v2/_catalog?n=1" -H "Authorization: Bearer $(tok alice registry:catalog:*)")
expect "a filtered catalog pages with Link" test "$got" = 200 -a "$(last_body)" = '{"repositories":["finance/app"]}'
got=$(http_status GET "$R/v2/_catalog" -H "Authorization: Bearer $(tok anon registry:catalog:*)")
expect "anonymous catalog is 401" test "$got" = 401
got=$(http_status GET "$R/v2/finance/app/tags/list" -H "Authorization: Bearer $(tok bob repository:finance/app:pull)")
expect "bob may not list finance's tags" test "$got" = 403

# ---- path and name tricks ----
PT=$(tok anon "repository:public/app:pull")
got=$(http_status GET "$R/v2/public/app/../../team/app/manifests/v1" --path-as-is -H "Authorization: Bearer $PT")
expect "../ in the path never reaches another repository" test "$got" = 400 -o "$got" = 401 -o "$got" = 404
got=$(http_status GET "$R/v2/public%2F..%2Fteam%2Fapp/manifests/v1" -H "Authorization: Bearer $PT")
expect "encoded slashes and dots are NAME_INVALID" test "$got" = 400
LONG=$(printf 'a%.0s' $(seq 300))
got=$(http_status GET "$R/v2/public/$LONG/manifests/v1" -H "Authorization: Bearer $PT")
expect "a very long name is refused" test "$got" = 400 -o "$got" = 401
W=$(tok alice "repository:finance/*:pull" "repository:../team/app:pull")
C=$(claims "$W")
expect "patterns and traversal in scopes grant nothing" grep -q '"access":\[\][,}]' <<<"$C"
got=$(http_status GET "$R/v2/team/app/manifests/v1" -H "Authorization: Bearer $W")
expect "... and open nothing" test "$got" = 403

# ---- berth's own client: login, then pull through the token flow ----
export DOCKER_CONFIG=$T/docker
run "$BERTH" login -u alice --password-stdin "$H" <<<"pw-alice-secret"
check "berth login against the token service" 0
expect "berth login stored an identity token and the user name only, as docker does" \
	python3 -c 'import base64, json, sys; a = json.load(open(sys.argv[1]))["auths"][sys.argv[2]]; sys.exit(not (a.get("identitytoken") and base64.b64decode(a["auth"]) == b"alice:"))' "$T/docker/config.json" "$H"
expect "the password is nowhere in config.json" sh -c "! grep -q pw-alice-secret '$T/docker/config.json'"
run "$BERTH" --root "$T/store" pull -q "$H/finance/app:v1"
check "berth pulls finance/app as alice (with the identity token)" 0
run "$BERTH" --root "$T/store" pull -q "$H/team/app:v1"
expect "berth pulling a forbidden repository fails (denied)" test "$RC" = 6
unset DOCKER_CONFIG

# ---- podman: login, push, pull ----
if command -v podman >/dev/null 2>&1; then
	PD=(podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver vfs
		--cgroup-manager cgroupfs --events-backend file)
	run "${PD[@]}" login --tls-verify=false --authfile "$T/auth.json" -u alice -p pw-alice-secret "$H"
	check "podman logs in" 0
	run "${PD[@]}" pull --tls-verify=false --authfile "$T/auth.json" "$H/finance/app:v1"
	check "podman pulls through the token flow" 0
	run "${PD[@]}" push --tls-verify=false --authfile "$T/auth.json" "$H/finance/app:v1" "$H/finance/podman:v1"
	check "podman pushes through the token flow" 0
	run "${PD[@]}" push --tls-verify=false --authfile "$T/auth.json" "$H/finance/app:v1" "$H/team/podman:v1"
	check "podman push to a forbidden repository fails" 125 'denied|unauthorized|403'
else
	echo "# podman is not installed: podman cases not run"
fi

# ---- the audit log ----
expect "audit: a push by root" grep -q '"action":"push","user":"root".*"repository":"team/app"' "$T/audit.log"
expect "audit: a pull by carol" grep -q '"action":"pull","user":"carol"' "$T/audit.log"
expect "audit: logins" grep -q '"action":"login","user":"alice"' "$T/audit.log"
expect "audit: denials" grep -q '"action":"denied","user":"bob"' "$T/audit.log"
expect "audit: every line is JSON" python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/audit.log"
expect "audit and logs never hold a password or token" \
	sh -c "! grep -q -e pw- -e eyJ '$T/audit.log' '$T/access.log' '$T/serve.log'"
serve_stop

# ---- key rotation: tokens of the old key stay valid ----
mv "$SRV_STORAGE/token-keys/signing.pem" "$SRV_STORAGE/token-keys/old-1.pem"
serve_start --auth token --htpasswd "$T/htpasswd" --policy "$T/policy.json" ||
	{ fail "restart after rotation" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
got=$(http_status GET "$R/v2/finance/app/manifests/v1" -H "Authorization: Bearer $AT")
expect "after a key rotation an old token still works" test "$got" = 200
N=$(tok alice "repository:finance/app:pull")
expect "new tokens carry the new key's kid" test "$(cut -d. -f1 <<<"$N")" != "$(cut -d. -f1 <<<"$AT")"
serve_stop

# ---- an external issuer ----
python3 - "$T" <<'PY'
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
k = ec.generate_private_key(ec.SECP256R1())
open(sys.argv[1] + "/ext.key", "wb").write(k.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
open(sys.argv[1] + "/ext.pub", "wb").write(k.public_key().public_bytes(serialization.Encoding.PEM,
    serialization.PublicFormat.SubjectPublicKeyInfo))
PY
serve_start --auth token --token-issuer-keys "$T/ext.pub" --token-realm https://auth.example.test/token \
	--token-issuer ext-issuer --token-service ext-registry ||
	{ fail "serve starts with an external issuer" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
ext_token() { # ext_token KEYFILE ISSUER
	python3 - "$1" "$2" <<'PY'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
now = int(time.time())
cl = {"iss": sys.argv[2], "sub": "ext-user", "aud": "ext-registry", "exp": now + 300, "iat": now,
      "access": [{"type": "repository", "name": "team/app", "actions": ["pull"]}]}
inp = b64(json.dumps({"alg": "ES256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(cl).encode())
r, s = utils.decode_dss_signature(key.sign(inp.encode(), ec.ECDSA(hashes.SHA256())))
print(inp + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big")))
PY
}
got=$(http_status GET "$R/v2/team/app/manifests/v1")
expect "external mode: the challenge names the external realm" grep -qi 'realm="https://auth.example.test/token",service="ext-registry"' "$T/.headers"
got=$(http_status GET "$R/v2/team/app/manifests/v1" -H "Authorization: Bearer $(ext_token "$T/ext.key" ext-issuer)")
expect "external mode: the issuer's token is accepted" test "$got" = 200
got=$(http_status GET "$R/v2/team/app/manifests/v1" -H "Authorization: Bearer $(ext_token "$T/ext.key" ext-other)")
expect "external mode: another issuer name is refused" test "$got" = 401
got=$(http_status GET "$R/v2/team/app/manifests/v1" -H "Authorization: Bearer $(ext_token "$SRV_STORAGE/token-keys/signing.pem" ext-issuer)")
expect "external mode: a key it does not trust is refused" test "$got" = 401
got=$(http_status GET "$R/token?service=ext-registry")
expect "external mode: no built-in /token" test "$got" = 404
serve_stop

# ---- refusals at start ----
run "$BERTH" serve --addr "0.0.0.0:$(free_port)" --storage "$T/r2" --auth token
check "token auth on plain non-loopback HTTP is refused" 2 'plain HTTP' 'insecure-auth'
run "$BERTH" serve --addr "127.0.0.1:$(free_port)" --storage "$T/r2" --auth htpasswd
check "--auth htpasswd without a file is refused" 2 'needs --htpasswd'
printf '{"rules": [{"repository": "x", "grant": {"a": ["fly"]}}]}' >"$T/bad-policy.json"
run "$BERTH" serve --addr "127.0.0.1:$(free_port)" --storage "$T/r2" --auth token --policy "$T/bad-policy.json"
check "a bad policy is refused" 2 "unknown action 'fly'"
run "$BERTH" serve --addr "127.0.0.1:$(free_port)" --storage "$T/r2" --auth token --pull-limit everyone=1/1h
check "a bad pull limit is refused" 2 'invalid --pull-limit'
done_testing

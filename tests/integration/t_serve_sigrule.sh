#!/usr/bin/env bash
# berth serve's require-signatures: manifests of the repositories a rule
# names are served only when a signature by one of its keys verifies,
# looked up in the server's own storage when the pull comes (the .sig tag
# and cosign's referrers). Refused pulls are 403 DENIED saying why, for
# berth pull, curl, skopeo and podman; a signature pushed later counts at
# once; another key's does not; an unsigned image re-pushed under a signed
# tag is refused; repositories outside the pattern and pushes are not
# affected; SIGHUP replaces the rules, and a bad key file is one clear
# error (at start) or leaves the running rules (on reload). A pull-through
# cache is checked against the signatures it holds; with access control a
# HEAD answers only callers who may push.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/serve_lib.sh

unset COSIGN_PASSWORD
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
S=$T/store

mkimage "$T/img" --tag one --seed 51 >/dev/null
mkimage "$T/img" --tag two --seed 52 >/dev/null
printf 'sig pass\n' >"$T/pass"
run "$BERTH" key generate --output-key-prefix "$T/good" --passphrase-file "$T/pass"
check "key generate: the rule's key" 0
run "$BERTH" key generate --output-key-prefix "$T/other" --passphrase-file "$T/pass"
check "key generate: another key" 0

# sign REF KEY: berth sign with a key of the test.
sign() { env COSIGN_PASSWORD='sig pass' "$BERTH" sign "$1" --key "$2"; }

# get METHOD REPO REF [CURL ARGS]: the status of a manifest request (body in last_body).
get() {
	local m=$1 repo=$2 ref=$3
	shift 3
	http_status "$m" "$SRV_URL/v2/$repo/manifests/$ref" -H "Accept: $OCI_MANIFEST" "$@"
}

# --- a bad key file is one clear error at start ---------------------------
echo "not a key" >"$T/bad.pub"
cat >"$T/bad.json" <<JSON
{"require-signatures": [{"repositories": "prod/**", "keys": ["$T/bad.pub"]}]}
JSON
run timeout 60 "$BERTH" serve --addr "127.0.0.1:$(free_port)" --storage "$T/bad-reg" --config "$T/bad.json"
check "a key file that is no public key stops the start, naming it" 2 \
	"require-signatures\[0\]: key file '$T/bad.pub'" "holds no PEM 'PUBLIC KEY'"
cat >"$T/bad.json" <<JSON
{"require-signatures": [{"repositories": "prod/**", "keys": ["$T/missing.pub"]}]}
JSON
run timeout 60 "$BERTH" serve --addr "127.0.0.1:$(free_port)" --storage "$T/bad-reg" --config "$T/bad.json"
check "a missing key file stops the start, naming it" 4 \
	"require-signatures\[0\]: key file '$T/missing.pub': cannot read"
cat >"$T/bad.json" <<JSON
{"require-signatures": [{"repository": "prod/**", "keys": ["$T/good.pub"]}]}
JSON
run timeout 60 "$BERTH" serve --addr "127.0.0.1:$(free_port)" --storage "$T/bad-reg" --config "$T/bad.json"
check "an unknown key in a rule is one clear error" 2 \
	"require-signatures\[0\] has an unknown key 'repository'" "Signed images only"

# --- the server with one rule ---------------------------------------------
cat >"$T/serve.json" <<JSON
{"require-signatures": [{"repositories": ["prod/**"], "keys": ["$T/good.pub"]}]}
JSON
serve_start --config "$T/serve.json" --audit-log "$T/audit.log" || bail "berth serve did not start"
H=$SRV_HOST

# Pushes are not affected: skopeo and berth push into the rule's repositories.
skopeo_push "$T/img" one "$H/dev/app:v1"
run "$BERTH" --root "$S" pull -q "$H/dev/app:v1"
check "a repository outside the pattern serves unsigned images" 0
run "$BERTH" --root "$S" tag "$H/dev/app:v1" "$H/prod/app:v1"
check "berth tag" 0
run "$BERTH" --root "$S" push "$H/prod/app:v1"
check "berth push into a signed-only repository is not refused" 0
get HEAD dev/app v1 >/dev/null
d1=$(last_header Docker-Content-Digest)
expect "the pushed image has a digest" test -n "$d1"
same "berth push stored the same manifest" "$(get GET dev/app "$d1")" 200

# Refused, saying why, to every client.
rm -rf "$T/store2"
run "$BERTH" --root "$T/store2" pull "$H/prod/app:v1"
check "berth pull of an unsigned image is refused with the server's reason and remedy" 6 \
	"access denied: registry '$H' refuses to pull '$H/prod/app': DENIED: require-signatures\[0\] \('prod/\*\*'\): no signature of '$d1' by its keys verifies \(none is stored\)" \
	"hint: sign it with 'berth sign $H/prod/app:v1 --key KEY' or cosign sign --key KEY, KEY the private half of one of $T/good.pub; signatures count under tag 'sha256-${d1#sha256:}\.sig' or as referrers"
same "curl GET by tag: 403" "$(get GET prod/app v1)" 403
same "its body is an OCI error DENIED with the reason and the remedy" \
	"$(jget '[j["errors"][0]["code"], j["errors"][0]["message"], str(j["errors"][0]["detail"].startswith("sign it with '"'"'berth sign '"$H"'/prod/app:v1 --key KEY'"'"'"))]' "$T/.body")" \
	"DENIED"$'\n'"require-signatures[0] ('prod/**'): no signature of '$d1' by its keys verifies (none is stored)"$'\n'"True"
same "curl GET by digest: 403" "$(get GET prod/app "$d1")" 403
expect "the remedy names the digest asked for" grep -q "berth sign $H/prod/app@$d1 --key KEY" "$T/.body"
same "curl HEAD by a caller who may push (signing tools learn the digest)" "$(get HEAD prod/app v1)" 200
same "...which answers the digest" "$(last_header Docker-Content-Digest)" "$d1"
run sk copy --src-tls-verify=false "docker://$H/prod/app:v1" "oci:$T/sk-out:x"
check "skopeo copy is refused with the reason" 1 "denied: require-signatures\[0\]"
run sk copy --src-tls-verify=false "docker://$H/prod/app@$d1" "oci:$T/sk-out:x"
check "skopeo copy by digest is refused" 1 "denied: require-signatures\[0\]"
if command -v podman >/dev/null 2>&1; then
	P=(podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver vfs
		--cgroup-manager cgroupfs --events-backend file)
	run "${P[@]}" pull --tls-verify=false "$H/prod/app:v1"
	check "podman pull is refused with the reason" 125 "require-signatures\[0\]"
else
	echo "# podman is not installed: podman cases not run"
fi
expect "the refusal is in the audit log" grep -q '"action":"denied".*"repository":"prod/app".*"detail":"pull: require-signatures\[0\]: no signature by its keys verifies"' "$T/audit.log"

# Signed: allowed by tag and by digest, at once.
run sign "$H/prod/app:v1" "$T/good.key"
check "berth sign the image in place" 0 "Pushed signature"
same "curl GET by tag after signing: 200" "$(get GET prod/app v1)" 200
same "curl GET by digest after signing: 200" "$(get GET prod/app "$d1")" 200
same "the signature manifest itself is served" "$(get GET prod/app "sha256-${d1#sha256:}.sig")" 200
rm -rf "$T/store2"
run "$BERTH" --root "$T/store2" pull "$H/prod/app:v1"
check "berth pull by tag of the signed image" 0 "Digest: $d1"
run "$BERTH" --root "$T/store3" pull "$H/prod/app@$d1"
check "berth pull by digest of the signed image" 0
run "$BERTH" verify "$H/prod/app:v1" --key "$T/good.pub"
check "berth verify reads the signatures through the rule" 0
run sk copy --src-tls-verify=false "docker://$H/prod/app:v1" "oci:$T/sk-out:x"
check "skopeo copy of the signed image" 0
run sk copy --src-tls-verify=false "docker://$H/prod/app@$d1" "oci:$T/sk-out:y"
check "skopeo copy by digest of the signed image" 0
if [ -n "${P+x}" ]; then
	run "${P[@]}" pull --tls-verify=false "$H/prod/app:v1"
	check "podman pull of the signed image" 0
fi

# A signature by another key does not count; one by the key added later does.
skopeo_push "$T/img" two "$H/prod/team/tool:v1"
run sign "$H/prod/team/tool:v1" "$T/other.key"
check "sign with another key" 0
same "an image signed only by another key: 403" "$(get GET prod/team/tool v1)" 403
expect "the reason says the signature found does not verify" \
	grep -q "by its keys verifies ([0-9]* checked: the signature does not match the key)" "$T/.body"
run "$BERTH" --root "$T/store4" pull "$H/prod/team/tool:v1"
check "berth pull says so too" 6 "by its keys verifies \([0-9]+ checked: the signature does not match the key\)"
run sign "$H/prod/team/tool:v1" "$T/good.key"
check "sign it with the rule's key as well" 0 "2 signatures there"
same "two signatures, one by the rule's key: 200" "$(get GET prod/team/tool v1)" 200

# An unsigned image re-pushed under the signed tag.
skopeo_push "$T/img" two "$H/prod/app:v1"
same "an unsigned image pushed again under the signed tag: 403" "$(get GET prod/app v1)" 403
same "the signed digest is still served by digest" "$(get GET prod/app "$d1")" 200

# --- SIGHUP -------------------------------------------------------------------
reloads=0
hup() {
	reloads=$((reloads + 1))
	kill -HUP "$SRV_PID"
	wait_for 120 sh -c "[ \$(grep -c -e 'configuration reloaded' -e 'configuration not reloaded' '$T/serve.log') -ge $reloads ]"
}
cat >"$T/serve.json" <<JSON
{"require-signatures": [{"repositories": "prod/**", "keys": ["$T/good.pub"]},
                        {"repositories": ["dev/*"], "keys": ["$T/other.pub", "$T/good.pub"]}]}
JSON
expect "SIGHUP with a rule added" hup
expect "the reload is logged" grep -q "configuration reloaded: .*require-signatures" "$T/serve.log"
same "the added rule takes effect: dev/app unsigned is refused" "$(get GET dev/app v1)" 403
expect "naming the second rule and both keys" \
	grep -q "require-signatures\[1\] ('dev/\*').*one of $T/other.pub, $T/good.pub;" "$T/.body"
run sign "$H/dev/app:v1" "$T/other.key"
check "sign dev/app with the second rule's other key" 0
same "a signature by any of the rule's keys counts" "$(get GET dev/app v1)" 200

cat >"$T/serve.json" <<JSON
{"require-signatures": [{"repositories": "**", "keys": ["$T/missing.pub"]}]}
JSON
expect "SIGHUP with a missing key file" hup
expect "the reload is refused, naming the file" \
	grep -q "configuration not reloaded, the running one stays: require-signatures\[0\]: key file '$T/missing.pub'" "$T/serve.log"
same "the running rules stay: prod/team/tool still served" "$(get GET prod/team/tool v1)" 200
skopeo_push "$T/img" two "$H/misc/app:v1"
same "...and misc/ still outside them" "$(get GET misc/app v1)" 200

echo '{}' >"$T/serve.json"
expect "SIGHUP with the rules removed" hup
same "without rules, the unsigned re-push is served" "$(get GET prod/app v1)" 200

serve_stop

# --- a pull-through cache: checked against what it holds ---------------------
registry_start
skopeo_push "$T/img" one "$REG/prod/app:v1"
skopeo_push "$T/img" two "$REG/prod/unsigned:v1"
run sign "$REG/prod/app:v1" "$T/good.key"
check "sign the image upstream (docker-registry: the .sig tag)" 0
cat >"$T/serve.json" <<JSON
{"upstreams": [{"url": "http://$REG", "prefix": "up"}],
 "require-signatures": [{"repositories": "up/**", "keys": ["$T/good.pub"]}]}
JSON
SRV_STORAGE=$T/cache-reg
serve_start --config "$T/serve.json" || bail "the caching berth serve did not start"
same "the cache refuses an image whose signature it does not hold yet" "$(get GET up/prod/app v1)" 403
run "$BERTH" verify "$SRV_HOST/up/prod/app:v1" --key "$T/good.pub"
check "berth verify through the cache fetches the signature into it" 0
same "then the cache serves the signed image" "$(get GET up/prod/app v1)" 200
same "the cache refuses an unsigned upstream image" "$(get GET up/prod/unsigned v1)" 403
serve_stop
SRV_STORAGE=$T/reg

# --- with access control: HEAD answers only those who may push -------------
htpasswd -Bbc "$T/htpasswd" reader pw-reader 2>/dev/null
htpasswd -Bb "$T/htpasswd" writer pw-writer 2>/dev/null
cat >"$T/serve.json" <<JSON
{"htpasswd": "$T/htpasswd",
 "policy": {"rules": [{"repository": "**", "grant": {"reader": ["pull"], "writer": ["pull", "push"]}}]},
 "require-signatures": [{"repositories": "prod/**", "keys": ["$T/good.pub"]}]}
JSON
serve_start --config "$T/serve.json" || bail "berth serve did not start"
H=$SRV_HOST
skopeo_push "$T/img" two "$H/prod/locked:v1" --dest-creds writer:pw-writer
same "HEAD by a pull-only caller: 403" "$(get HEAD prod/locked v1 -u reader:pw-reader)" 403
same "HEAD by a caller who may push: 200" "$(get HEAD prod/locked v1 -u writer:pw-writer)" 200
same "GET by a caller who may push: 403 all the same" "$(get GET prod/locked v1 -u writer:pw-writer)" 403
export DOCKER_CONFIG=$T/docker
run "$BERTH" login -u writer --password-stdin "$H" <<<"pw-writer"
check "berth login as the writer" 0
run sign "$H/prod/locked:v1" "$T/good.key"
check "the writer signs the image by its tag" 0 "Pushed signature"
same "now the reader may pull it" "$(get GET prod/locked v1 -u reader:pw-reader)" 200
same "...and HEAD it" "$(get HEAD prod/locked v1 -u reader:pw-reader)" 200

serve_stop
done_testing

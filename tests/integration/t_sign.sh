#!/usr/bin/env bash
# berth key generate, berth sign and berth verify against berth serve (which
# has the OCI 1.1 referrers API) and Debian's docker-registry (which has
# not): the .sig tag cosign and containers/image read, the referrer, keys
# cosign made (tests/fixtures/cosign), a wrong passphrase, another key, a
# tampered signature, a payload naming another digest, and an image pushed
# again under the signed tag.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/serve_lib.sh

FIX=$TOP/tests/fixtures/cosign
SIG_MT=application/vnd.dev.cosign.simplesigning.v1+json
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
unset COSIGN_PASSWORD

mkimage "$T/img" --tag one --seed 31 >/dev/null
mkimage "$T/img" --tag two --seed 32 >/dev/null

# --- keys ----------------------------------------------------------------
printf 'correct horse\n' >"$T/pass"
run "$BERTH" key generate --output-key-prefix "$T/k" --passphrase-file "$T/pass"
check "key generate writes NAME.key and NAME.pub" 0 "Private key written to $T/k.key" \
	"Public key written to $T/k.pub"
same "the private key is cosign's encrypted PEM" "$(head -n1 "$T/k.key")" \
	"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"
same "the private key is mode 0600" "$(stat -c %a "$T/k.key")" 600
same "the public key is PEM PUBLIC KEY" "$(head -n1 "$T/k.pub")" "-----BEGIN PUBLIC KEY-----"
same "its JSON has cosign's kdf and cipher" \
	"$(sed '1d;$d' "$T/k.key" | base64 -d | jget '[j["kdf"]["name"], str(j["kdf"]["params"]["N"]), j["cipher"]["name"]]')" \
	$'scrypt\n32768\nnacl/secretbox'
run "$BERTH" key generate --output-key-prefix "$T/k" --passphrase-file "$T/pass"
check "key generate does not overwrite a key" 17 "exists; berth does not overwrite" "hint: remove it"
# No terminal here (setsid below): the message says where else to put it.
run setsid -w "$BERTH" key generate --output-key-prefix "$T/nokey" </dev/null
check "without a terminal or passphrase, one clear error" 2 "no terminal to ask" "COSIGN_PASSWORD"
run env COSIGN_PASSWORD= "$BERTH" key generate --output-key-prefix "$T/empty"
check "COSIGN_PASSWORD set but empty is an empty passphrase" 0
run "$BERTH" key --help
check "key --help" 0 "--output-key-prefix NAME"

# digest_of HOST REPO TAG: the manifest digest skopeo sees.
digest_of() {
	skopeo_ inspect --tls-verify=false --format '{{.Digest}}' "docker://$1/$2:$3"
}

# sig_manifest HOST REPO DIGEST FILE: the .sig manifest into FILE.
sig_manifest() {
	curl -sf -H "Accept: $OCI_MANIFEST" -o "$4" \
		"http://$1/v2/$2/manifests/sha256-${3#sha256:}.sig"
}

# put HOST REPO REF FILE: PUT a manifest, prints the status.
put() {
	curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $OCI_MANIFEST" \
		--data-binary "@$4" "http://$1/v2/$2/manifests/$3"
}

# scenario LABEL HOST REFERRERS(yes|no)
scenario() {
	local L=$1 H=$2 refs=$3 d1 d2 want
	skopeo_push "$T/img" one "$H/team/app:v1"
	d1=$(digest_of "$H" team/app v1)

	run env COSIGN_PASSWORD='correct horse' "$BERTH" sign "$H/team/app:v1" --key "$T/k.key"
	if [ "$refs" = yes ]; then
		check "$L: sign stores the .sig tag and a referrer" 0 \
			"Pushed signature to $H/team/app:sha256-${d1#sha256:}\.sig \(1 signature there\)" \
			"Pushed referrer $H/team/app@sha256:"
	else
		check "$L: sign stores the .sig tag, and says there is no referrers API" 0 \
			"Pushed signature to $H/team/app:sha256-${d1#sha256:}\.sig" \
			"no referrers API: the signature is stored under the tag only"
	fi

	sig_manifest "$H" team/app "$d1" "$T/sig.json" || fail "$L: fetch the .sig manifest" "curl failed"
	same "$L: the .sig manifest is OCI, its layer cosign's simple-signing payload" \
		"$(jget '[j["mediaType"], j["layers"][0]["mediaType"], str(len(j["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"]) > 60)]' "$T/sig.json")" \
		"$OCI_MANIFEST"$'\n'"$SIG_MT"$'\n'True
	want="{\"critical\":{\"identity\":{\"docker-reference\":\"$H/team/app\"},\"image\":{\"docker-manifest-digest\":\"$d1\"},\"type\":\"cosign container image signature\"},\"optional\":null}"
	same "$L: the payload blob is cosign's, byte for byte" \
		"$(curl -sf "http://$H/v2/team/app/blobs/$(jget 'j["layers"][0]["digest"]' "$T/sig.json")")" "$want"

	run "$BERTH" verify "$H/team/app:v1" --key "$T/k.pub"
	check "$L: verify" 0 "verified" "signed for $H/team/app, $d1" "1 of 1 signature verified"
	run "$BERTH" verify "$H/team/app:v1" --key "$T/k.pub" --json
	check "$L: verify --json" 0
	same "$L: --json names the signature, its digest and where it was found" \
		"$(jget '[str(j["verified"]), j["signatures"][0]["docker-reference"], j["signatures"][0]["docker-manifest-digest"], j["signatures"][0]["source"], str(j["referrersAPI"])]' <<<"$OUT")" \
		"1"$'\n'"$H/team/app"$'\n'"$d1"$'\n'"$([ "$refs" = yes ] && echo tag+referrer || echo tag)"$'\n'"$([ "$refs" = yes ] && echo True || echo False)"

	# cosign's own key signs too (old cosign's file label as well); the
	# signature is appended, the first one kept.
	run env COSIGN_PASSWORD=hello "$BERTH" sign "$H/team/app:v1" --key "$FIX/cosign/sigstore-ec.key"
	check "$L: sign with cosign's encrypted test key" 0 "\(2 signatures there\)"
	run env COSIGN_PASSWORD=hello "$BERTH" sign "$H/team/app:v1" --key "$FIX/cosign/cosign-label.key" --no-referrer
	check "$L: sign with a key labelled ENCRYPTED COSIGN PRIVATE KEY" 0 "\(3 signatures there\)"
	run "$BERTH" verify "$H/team/app:v1" --key "$FIX/cosign/sigstore-ec.pub"
	check "$L: verify with that key's public half: one of three holds" 0 \
		"1 of 3 signatures verified" "FAILED +tag"
	run "$BERTH" verify "$H/team/app:v1" --key "$T/k.pub"
	check "$L: the first signature is still there" 0 "1 of 3 signatures verified"

	run env COSIGN_PASSWORD=wrong "$BERTH" sign "$H/team/app:v1" --key "$T/k.key"
	check "$L: a wrong passphrase is one clear error" 5 \
		"^berth: wrong passphrase for private key '$T/k.key'$" "hint: give the passphrase"
	run "$BERTH" verify "$H/team/app:v1" --key "$FIX/containers-image/cosign.pub"
	check "$L: another key verifies none" 20 "0 of 3 signatures verified" \
		"none of the 3 signatures of '$d1' verifies: the signature does not match the key"

	# A tampered signature: one byte of the annotation changed.
	skopeo_push "$T/img" one "$H/team/tamper:v1"
	run env COSIGN_PASSWORD='correct horse' "$BERTH" sign "$H/team/tamper:v1" --key "$T/k.key" --no-referrer
	check "$L: sign (tag only)" 0
	sig_manifest "$H" team/tamper "$d1" "$T/t.json"
	python3 - "$T/t.json" <<'EOF'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
a = m["layers"][0]["annotations"]
s = a["dev.cosignproject.cosign/signature"]
a["dev.cosignproject.cosign/signature"] = s[:20] + ("A" if s[20] != "A" else "B") + s[21:]
json.dump(m, open(p, "w"), separators=(",", ":"))
EOF
	same "$L: put the tampered .sig manifest" "$(put "$H" team/tamper "sha256-${d1#sha256:}.sig" "$T/t.json")" 201
	run "$BERTH" verify "$H/team/tamper:v1" --key "$T/k.pub"
	check "$L: a tampered signature does not verify" 20 "FAILED +tag" \
		"verifying '$H/team/tamper:v1': none of the 1 signatures"

	# A valid signature whose payload names another image.
	skopeo_push "$T/img" two "$H/team/app:v2"
	d2=$(digest_of "$H" team/app v2)
	sig_manifest "$H" team/app "$d1" "$T/s1.json"
	same "$L: the signatures of v1 put under v2's .sig tag" \
		"$(put "$H" team/app "sha256-${d2#sha256:}.sig" "$T/s1.json")" 201
	run "$BERTH" verify "$H/team/app:v2" --key "$T/k.pub"
	check "$L: a payload naming another digest does not verify" 20 \
		"the payload names '$d1', the image is '$d2'"

	# The image pushed again under the signed tag.
	skopeo_push "$T/img" two "$H/team/app:v1"
	run "$BERTH" verify "$H/team/app:v1" --key "$T/k.pub"
	check "$L: an image re-pushed under the signed tag is refused" 20 \
		"the payload names '$d1', the image is '$d2'" "hint: an image pushed again"
	skopeo_push "$T/img" two "$H/team/fresh:v1"
	run "$BERTH" verify "$H/team/fresh:v1" --key "$T/k.pub"
	check "$L: no signature at all" 20 "no signature of '$d2' found" "hint: sign it with"
}

serve_start || bail "berth serve did not start"
scenario "berth serve" "$SRV_HOST" yes
registry_start
scenario "docker-registry" "$REG" no

# --- berth pull and containers-policy.json ----------------------------------
S=$T/store
skopeo_push "$T/img" one "$REG/pol/signed:v1"
skopeo_push "$T/img" two "$REG/pol/unsigned:v1"
skopeo_push "$T/img" two "$REG/other/app:v1"
run env COSIGN_PASSWORD='correct horse' "$BERTH" sign "$REG/pol/signed:v1" --key "$T/k.key"
check "policy: sign the image" 0
d1=$(digest_of "$REG" pol/signed v1)
# in_store NAME: does berth images list NAME?
in_store() { "$BERTH" --root "$S" images 2>/dev/null | grep -q "$1"; }

printf '{"default":[{"type":"reject"}]}\n' >"$T/reject.json"
run "$BERTH" --root "$S" pull --signature-policy "$T/reject.json" "$REG/pol/signed:v1"
check "policy: reject refuses, naming the scope and the file" 6 \
	"refused by signature policy '$T/reject.json' \(scope 'default': reject\)"
expect "policy: nothing of a refused image is tagged" sh -c "! '$BERTH' --root '$S' images | grep -q pol/signed"

cat >"$T/policy.json" <<JSON
{"default":[{"type":"insecureAcceptAnything"}],
 "transports":{"docker":{
   "$REG/pol":[{"type":"sigstoreSigned","keyPath":"$T/k.pub","signedIdentity":{"type":"matchRepository"}}],
   "$REG/pol/exact":[{"type":"sigstoreSigned","keyData":"$(base64 -w0 "$T/k.pub")"}]}}}
JSON
run "$BERTH" --root "$S" pull --signature-policy "$T/policy.json" "$REG/pol/signed:v1"
check "policy: a signed image in a sigstoreSigned scope is pulled" 0 "Digest: $d1"
run "$BERTH" --root "$S" pull --signature-policy "$T/policy.json" "$REG/pol/unsigned:v1"
check "policy: an unsigned image in that scope is refused" 20 \
	"'$REG/pol/unsigned:v1' is refused by signature policy '$T/policy.json' \(scope '$REG/pol': sigstoreSigned by $T/k.pub\)" \
	"no signature of 'sha256:"
expect "policy: the refused image is not in the store" sh -c "! '$BERTH' --root '$S' images | grep -q pol/unsigned"
run env BERTH_SIGNATURE_POLICY="$T/policy.json" "$BERTH" --root "$S" pull "$REG/other/app:v1"
check "policy: BERTH_SIGNATURE_POLICY; a scope that does not apply lets the image in" 0
run env BERTH_SIGNATURE_POLICY="$T/reject.json" "$BERTH" --root "$S" pull "$REG/other/app:v1"
check "policy: BERTH_SIGNATURE_POLICY is read" 6 "scope 'default': reject"

# matchRepoDigestOrExact (the default): cosign's payload names the
# repository, so a pull by tag is refused and a pull by digest passes.
skopeo_push "$T/img" one "$REG/pol/exact:v1"
run env COSIGN_PASSWORD='correct horse' "$BERTH" sign "$REG/pol/exact:v1" --key "$T/k.key"
check "policy: sign pol/exact" 0
run "$BERTH" --root "$S" pull --signature-policy "$T/policy.json" "$REG/pol/exact:v1"
check "policy: matchRepoDigestOrExact refuses a tag the payload does not name" 20 \
	"scope '$REG/pol/exact'" "names another identity"
run "$BERTH" --root "$S" pull --signature-policy "$T/policy.json" "$REG/pol/exact@$d1"
check "policy: and accepts the pull by digest" 0

printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$T/any.json"
run "$BERTH" --root "$S" pull --signature-policy "$T/any.json" --verify-key "$T/k.pub" "$REG/pol/unsigned:v1"
check "pull --verify-key refuses an unsigned image" 20 "refused by signature policy '--verify-key'"
run "$BERTH" --root "$S" pull --signature-policy "$T/any.json" --verify-key "$FIX/containers-image/cosign.pub" "$REG/pol/signed:v1"
check "pull --verify-key refuses an image signed by another key" 20 "the signature does not match the key"
run "$BERTH" --root "$S" pull --signature-policy "$T/any.json" --verify-key "$T/k.pub" "$REG/pol/signed:v1"
check "pull --verify-key accepts the signed image" 0 "Digest: $d1"
printf '{"default":[{"type":"sigstoreSigned"}]}\n' >"$T/bad.json"
run "$BERTH" --root "$S" pull --signature-policy "$T/bad.json" "$REG/pol/signed:v1"
check "policy: a malformed policy is one clear error" 2 \
	"policy '$T/bad.json', scope 'default': sigstoreSigned needs keyPath"
run "$BERTH" --root "$S" pull --signature-policy "$T/missing.json" "$REG/pol/signed:v1"
check "policy: a missing --signature-policy file" 4 "missing.json"

# --- a signature by another toolchain (the OpenSSL command line) over a
# payload that is not a simple-signing payload, on berth serve ------------
openssl ecparam -genkey -name prime256v1 -noout -out "$T/ossl.pem" 2>/dev/null &&
	openssl pkey -in "$T/ossl.pem" -pubout -out "$T/ossl.pub" 2>/dev/null ||
	bail "openssl could not make a key"
skopeo_push "$T/img" one "$SRV_HOST/team/odd:v1"
dodd=$(digest_of "$SRV_HOST" team/odd v1)
# odd_sig PAYLOAD-FILE: sign it with ossl.pem and make it the one signature
# of team/odd:v1.
odd_sig() {
	local pd sig
	pd=$(push_blob team/odd "$1") || bail "blob upload"
	sig=$(openssl dgst -sha256 -sign "$T/ossl.pem" "$1" | base64 -w0)
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"%s"},"layers":[{"mediaType":"%s","size":%d,"digest":"%s","annotations":{"dev.cosignproject.cosign/signature":"%s"}}]}' \
		"$OCI_MANIFEST" "$(push_blob team/odd "$T/empty.json")" \
		"$SIG_MT" "$(stat -c %s "$1")" "$pd" "$sig" >"$T/odd.json"
	[ "$(put "$SRV_HOST" team/odd "sha256-${dodd#sha256:}.sig" "$T/odd.json")" = 201 ] || bail "put odd .sig"
}
printf '{}' >"$T/empty.json"
printf '{"critical":{"identity":{"docker-reference":"%s/team/odd"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":{"by":"openssl"}}' \
	"$SRV_HOST" "$dodd" >"$T/good-payload"
odd_sig "$T/good-payload"
run "$BERTH" verify "$SRV_HOST/team/odd:v1" --key "$T/ossl.pub" --json
check "a signature made with the OpenSSL command line verifies" 0
same "its optional fields are shown" "$(jget 'j["signatures"][0]["optional"]["by"]' <<<"$OUT")" openssl
printf 'not json' >"$T/bad-payload"
odd_sig "$T/bad-payload"
run "$BERTH" verify "$SRV_HOST/team/odd:v1" --key "$T/ossl.pub"
check "a well-signed payload that is not JSON is refused, saying so" 20 \
	"signature payload is not valid JSON"

# --- the CLI's own checks ------------------------------------------------
run "$BERTH" sign "$REG/team/app:v1"
check "sign without --key" 2 "--key FILE is required"
run "$BERTH" verify "$REG/team/app:v1" --key "$T/k.key"
check "verify with the private key says to use the public one" 2 \
	"holds no PEM 'PUBLIC KEY'" "hint: this is a private key"
run "$BERTH" verify "$REG/team/app:v1" --key "$T/missing.pub"
check "a missing key file" 4 "missing.pub" "hint: make a key pair with 'berth key generate'"
run "$BERTH" sign --help
check "sign --help" 0 "--passphrase-file FILE" "--no-referrer"
run "$BERTH" verify --help
check "verify --help" 0 "--json"

done_testing

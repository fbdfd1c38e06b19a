#!/usr/bin/env bash
# berth copy's per-end client options, as skopeo names them: --src-creds /
# --dest-creds, --src-tls-verify / --dest-tls-verify, --src-cert-dir /
# --dest-cert-dir, against a docker-registry with TLS (a test CA) and
# htpasswd logins; each read back by skopeo with its own options.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
make_certs "$T/ca"
htpasswd -Bbc "$T/htpasswd" alice 's3cret' 2>/dev/null
registry_start
A=$REG
dreg_start --tls "$T/ca/server.crt" "$T/ca/server.key" --htpasswd "$T/htpasswd"
S=$DREG
mkdir -p "$T/certdir" "$T/empty"
cp "$T/ca/ca.crt" "$T/certdir/"

sha() { echo "sha256:$(sha256sum | cut -c1-64)"; }
img=$(mkimage "$T/img" --tag v1 --layer 200k --layer 1m)
img_digest=$(jget 'j["digest"]' <<<"$img")
skopeo_push "$T/img" v1 "$A/src/app:v1"

run "$BERTH" copy "docker://$A/src/app:v1" "docker://$S/dst/app:v1"
check "a TLS destination whose CA berth does not know" 9 "$S" "cert"
run "$BERTH" copy --dest-cert-dir "$T/certdir" "docker://$A/src/app:v1" "docker://$S/dst/app:v1"
check "--dest-cert-dir: the CA is trusted, but no login" 5 "$S"
run "$BERTH" copy --dest-cert-dir "$T/certdir" --dest-creds alice:wrong \
	"docker://$A/src/app:v1" "docker://$S/dst/app:v1"
check "--dest-creds with a wrong password" 5 "$S"
run "$BERTH" copy --dest-cert-dir "$T/certdir" --dest-creds alice:s3cret \
	"docker://$A/src/app:v1" "docker://$S/dst/app:v1"
check "--dest-cert-dir and --dest-creds" 0 "^$img_digest\$"
same "skopeo reads it with --cert-dir and --creds, byte for byte" \
	"$(skopeo_ inspect --raw --cert-dir "$T/certdir" --creds alice:s3cret "docker://$S/dst/app:v1" | sha)" \
	"$img_digest"

run "$BERTH" copy --dest-tls-verify=false --dest-creds alice:s3cret \
	"docker://$A/src/app:v1" "docker://$S/dst/unverified:v1"
check "--dest-tls-verify=false: TLS without verification" 0 "^$img_digest\$"
run "$BERTH" copy --dest-tls-verify --dest-creds alice:s3cret \
	"docker://$A/src/app:v1" "docker://$S/dst/verified:v1"
check "--dest-tls-verify alone means true" 9 "$S"

run "$BERTH" copy "docker://$S/dst/app:v1" "oci:$T/out:v1"
check "a TLS source without its CA" 9 "$S"
run "$BERTH" copy --src-cert-dir "$T/certdir" "docker://$S/dst/app:v1" "oci:$T/out:v1"
check "--src-cert-dir without a login" 5 "$S"
run "$BERTH" copy --src-cert-dir "$T/certdir" --src-creds alice:s3cret \
	"docker://$S/dst/app:v1" "docker://$A/back/app:v1"
check "--src-cert-dir and --src-creds" 0 "^$img_digest\$"
run "$BERTH" copy --src-tls-verify=false --src-creds alice:s3cret \
	"docker://$S/dst/app:v1" "oci:$T/out:v1"
check "--src-tls-verify=false" 0 "^$img_digest\$"
expect "--src-tls-verify=false: skopeo reads the layout written" \
	skopeo_ inspect "oci:$T/out:v1"
run "$BERTH" copy --src-cert-dir "$T/empty" --src-creds alice:s3cret \
	"docker://$S/dst/app:v1" "oci:$T/out:v1"
check "--src-cert-dir replaces certs.d: a directory without the CA" 9 "$S"

# The options of one end leave the other alone.
mkdir -p "$BERTH_CERTS_D/$S"
cp "$T/ca/ca.crt" "$BERTH_CERTS_D/$S/"
run "$BERTH" copy --src-creds alice:s3cret --dest-creds bob:x \
	"docker://$S/dst/app:v1" "docker://$A/back/two:v1"
check "--dest-creds does not reach the source; certs.d still read" 0 "^$img_digest\$"

run "$BERTH" copy --src-cert-dir "$T/nothing" "docker://$S/dst/app:v1" "oci:$T/out:v1"
check "--src-cert-dir that does not exist" 9 "$T/nothing"
run "$BERTH" copy --src-tls-verify=maybe "docker://$S/dst/app:v1" "oci:$T/out:v1"
check "--src-tls-verify with a value that is no boolean" 2 "true or false"
run "$BERTH" copy --dest-creds alice "docker://$A/src/app:v1" "docker://$S/x:v1"
check "--dest-creds without a password" 2 "USER:PASS"
run "$BERTH" copy --help
check "copy --help lists the options" 0 "--src-creds" "--dest-tls-verify\[=BOOL\]" "--src-cert-dir"

done_testing

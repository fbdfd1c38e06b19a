#!/usr/bin/env bash
# berth serve over TLS (a test CA made here), with htpasswd Basic
# authentication, with client certificates, from a config file, and its
# usage errors.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

# ---- a test CA, a server certificate for 127.0.0.1, a client certificate ----
C=$T/certs
mkdir -p "$C"
(
	cd "$C" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=berth test CA' \
		-keyout ca.key -out ca.crt
	openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout server.key -out server.csr
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile server.ext -out server.crt
	openssl req -newkey rsa:2048 -nodes -subj '/CN=ci-client' -keyout client.key -out client.csr
	printf 'extendedKeyUsage=clientAuth\n' >client.ext
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile client.ext -out client.crt
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=stranger' \
		-keyout stranger.key -out stranger.crt
) >"$T/openssl.log" 2>&1 || { fail "test CA" "$(tail -n 5 "$T/openssl.log")"; exit 1; }
# skopeo's certificate directory: ca.crt to trust, client.cert/.key to present.
mkdir -p "$T/skcerts" "$T/skclient"
cp "$C/ca.crt" "$T/skcerts/ca.crt"
cp "$C/ca.crt" "$T/skclient/ca.crt"
cp "$C/client.crt" "$T/skclient/client.cert"
cp "$C/client.key" "$T/skclient/client.key"

htpasswd -Bbc "$T/htpasswd" alice 's3cret-pass' 2>/dev/null
htpasswd -Bb "$T/htpasswd" bob 'other' 2>/dev/null
M1=$(make_layout "$T/img" v1 7 2000 40000)

# ---- TLS + htpasswd ----
serve_start --tls-cert "$C/server.crt" --tls-key "$C/server.key" --htpasswd "$T/htpasswd" ||
	{ fail "serve starts with TLS and htpasswd" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
expect "the server speaks TLS with its certificate" test "$(http_status GET "$R/v2/" --cacert "$C/ca.crt" -u alice:s3cret-pass)" = 200
expect "a client trusting another CA refuses the certificate" \
	test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/stranger.crt" "$R/v2/")" = 000
got=$(curl -s -o "$T/.body" -D "$T/.headers" -w '%{http_code}' --cacert "$C/ca.crt" "$R/v2/")
expect "no credentials is 401" test "$got" = 401
expect "401 is UNAUTHORIZED" grep -q '"code":"UNAUTHORIZED"' "$T/.body"
expect "401 has a Basic challenge" grep -qi '^WWW-Authenticate: Basic realm="berth"' "$T/.headers"
got=$(curl -s -o "$T/.body" -w '%{http_code}' --cacert "$C/ca.crt" -u alice:wrong "$R/v2/")
expect "a wrong password is 401" test "$got" = 401
got=$(curl -s -o "$T/.body" -w '%{http_code}' --cacert "$C/ca.crt" -u mallory:s3cret-pass "$R/v2/")
expect "an unknown user is 401" test "$got" = 401
got=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/ca.crt" "$R/v2/x/tags/list")
expect "every endpoint needs credentials" test "$got" = 401
got=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/ca.crt" -u bob:other "$R/v2/")
expect "a second user logs in" test "$got" = 200

run sk copy --dest-cert-dir "$T/skcerts" "oci:$T/img:v1" "docker://$SRV_HOST/secure/app:v1"
check "skopeo without credentials is refused" 1 'authentication required|unauthorized'
run sk copy --dest-cert-dir "$T/skcerts" --dest-creds alice:s3cret-pass "oci:$T/img:v1" "docker://$SRV_HOST/secure/app:v1"
check "skopeo pushes over TLS with credentials" 0
run sk inspect --cert-dir "$T/skcerts" --creds alice:s3cret-pass "docker://$SRV_HOST/secure/app:v1"
check "skopeo reads it back over TLS" 0 "\"Digest\": \"$M1\""
run sk copy --src-cert-dir "$T/skcerts" --src-creds bob:other "docker://$SRV_HOST/secure/app:v1" "oci:$T/out:v1"
check "another user pulls it" 0
expect "the access log names the user" grep -qE ' alice "PUT /v2/secure/app/manifests/v1" 201 ' "$T/access.log"
expect "the access log never holds a password" sh -c "! grep -q -e s3cret -e other '$T/access.log' '$T/serve.log'"
serve_stop

# ---- client certificates ----
serve_start --tls-cert "$C/server.crt" --tls-key "$C/server.key" --tls-client-ca "$C/ca.crt" ||
	{ fail "serve starts with --tls-client-ca" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
got=$(http_status GET "$R/v2/" --cacert "$C/ca.crt")
expect "no client certificate is refused" test "$got" = 403 -o "$got" = 000
got=$(http_status GET "$R/v2/" --cacert "$C/ca.crt" --cert "$C/stranger.crt" --key "$C/stranger.key")
expect "a certificate from another CA is refused" test "$got" = 403 -o "$got" = 000
got=$(http_status GET "$R/v2/" --cacert "$C/ca.crt" --cert "$C/client.crt" --key "$C/client.key")
expect "the CA's client certificate is accepted" test "$got" = 200
run sk inspect --cert-dir "$T/skclient" "docker://$SRV_HOST/secure/app:v1"
check "skopeo with a client certificate reads the image" 0 "\"Digest\": \"$M1\""
serve_stop

# ---- a config file, and flags over it ----
P=$(free_port)
cat >"$T/serve.json" <<JSON
{ "addr": "127.0.0.1:1", "storage": "$T/reg", "htpasswd": "$T/htpasswd",
  "realm": "from-config", "log-level": "warn", "threads": 3 }
JSON
bg "$BERTH" serve --config "$T/serve.json" --addr "127.0.0.1:$P" 2>>"$T/serve.log"
CPID=$BG_PID
wait_http "http://127.0.0.1:$P/v2/"
got=$(curl -s -o /dev/null -D "$T/.headers" -w '%{http_code}' "http://127.0.0.1:$P/v2/")
expect "the config file's htpasswd applies" test "$got" = 401
expect "the config file's realm applies" grep -qi 'realm="from-config"' "$T/.headers"
got=$(curl -s -o /dev/null -w '%{http_code}' -u alice:s3cret-pass "http://127.0.0.1:$P/v2/secure/app/tags/list")
expect "the config file's storage holds the earlier push" test "$got" = 200
kill -TERM "$CPID"
wait "$CPID"
expect "SIGTERM stops it with status 0" test $? = 0

# ---- usage errors ----
run "$BERTH" serve --help
check "--help documents the flags" 0 '--addr' '--storage' '--tls-cert' '--tls-key' '--tls-client-ca' '--htpasswd' '--log-level' '--config'
run "$BERTH" serve --bogus
check "an unknown flag is a usage error" 2 "unknown option '--bogus'"
run "$BERTH" serve --tls-cert "$C/server.crt" --storage "$T/r2"
check "--tls-cert without --tls-key is a usage error" 2 'go together'
run "$BERTH" serve --threads many --storage "$T/r2"
check "a bad number is a usage error" 2 "invalid value 'many'"
printf '{"addr": "127.0.0.1:5000", "colour": "blue"}' >"$T/bad.json"
run "$BERTH" serve --config "$T/bad.json"
check "an unknown config key is a usage error" 2 "unknown setting 'colour'"
printf 'alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n' >"$T/sha.htpasswd"
run "$BERTH" serve --htpasswd "$T/sha.htpasswd" --storage "$T/r2"
check "a non-bcrypt htpasswd entry is refused" 14 'not bcrypt' 'htpasswd -B'
run "$BERTH" serve --addr "127.0.0.1:$SRV_PORT" --storage /proc/nope
check "an unusable storage directory is an I/O error" 13 "cannot create directory"
done_testing

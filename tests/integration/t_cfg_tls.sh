#!/usr/bin/env bash
# TLS trust the way Docker users configure it: a test CA made here,
# certs.d/<host:port>/ca.crt, client certificates (client.cert/.key),
# insecure-registries by host:port and by CIDR, and the messages when
# trust fails (unknown authority, wrong name, expired, no client
# certificate, TLS against plain HTTP).
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
C=$T/ca
make_certs "$C"
mkdir -p "$T/skcerts" "$T/skclient"
cp "$C/ca.crt" "$T/skcerts/"
cp "$C/ca.crt" "$T/skclient/"
cp "$C/client.crt" "$T/skclient/client.cert"
cp "$C/client.key" "$T/skclient/client.key"
mkimage "$T/img" --tag v1 --layer 32k --seed cfg-tls >"$T/img.json"
digest=$(jget 'j["digest"]' "$T/img.json")

# push IMAGE_DEST CERTDIR: put the test image on a TLS registry.
push() {
	skopeo_push "$T/img" v1 "$1" --dest-cert-dir "$2" --dest-tls-verify=true
}

# --- a TLS registry whose CA nobody trusts yet --------------------------
dreg_start --tls "$C/server.crt" "$C/server.key"
TLS=$DREG
push "$TLS/cfg/app:v1" "$T/skcerts"

run berth_ pull "$TLS/cfg/app:v1"
check "untrusted CA: exit 9 with docker's x509 words" 9 \
	"x509: certificate signed by unknown authority" "$TLS"
check "untrusted CA: the issuer is named" 9 "issued by 'CN=berth cfg test CA'"
check "untrusted CA: hint names certs.d/HOST:PORT/ca.crt" 9 \
	"hint: .*certs.d/$TLS/ca.crt" "insecure-registries"

mkdir -p "$BERTH_CERTS_D/$TLS"
cp "$C/ca.crt" "$BERTH_CERTS_D/$TLS/ca.crt"
run berth_ pull "$TLS/cfg/app:v1"
check "CA in certs.d/HOST:PORT/ca.crt: pull works" 0 "Digest: $digest"
run berth_ --certs-d "$T/nowhere" pull "$TLS/cfg/app:v1"
check "--certs-d moves the directory (none there: x509 again)" 9 "unknown authority"
rm -f "$BERTH_CERTS_D/$TLS/ca.crt"
cp "$C/ca.crt" "$BERTH_CERTS_D/$TLS/extra-name.crt"
run berth_ pull "$TLS/cfg/app:v1"
check "any *.crt in certs.d/HOST:PORT is trusted" 0
rm -rf "$BERTH_CERTS_D/$TLS"

run berth_ config --check "$TLS"
check "config --check names the TLS failure" 9 "FAIL +tls +x509: certificate signed by unknown authority" \
	"ok +dns" "ok +tcp"

# --- insecure-registries --------------------------------------------------
echo "{\"insecure-registries\": [\"$TLS\"]}" >"$BERTH_DAEMON_JSON"
run berth_ pull "$TLS/cfg/app:v1"
check "insecure by host:port: pull works without verification" 0 "Digest: $digest"
echo '{"insecure-registries": ["127.0.0.0/8"]}' >"$BERTH_DAEMON_JSON"
run berth_ pull "$TLS/cfg/app:v1"
check "insecure by CIDR 127.0.0.0/8: pull works" 0 "Digest: $digest"
run berth_ config
check "berth config shows the entry and its file" 0 \
	"insecure-registries +127.0.0.0/8 +\($BERTH_DAEMON_JSON\)"
echo '{"insecure-registries": ["10.0.0.0/8", "127.0.0.1:1"]}' >"$BERTH_DAEMON_JSON"
run berth_ pull "$TLS/cfg/app:v1"
check "not listed (other CIDR, other port): x509 again" 9 "unknown authority"
echo '{"insecure-registries": ["https://bad"]}' >"$BERTH_DAEMON_JSON"
run berth_ pull "$TLS/cfg/app:v1"
check "an insecure entry with a scheme is a configuration error" 2 \
	"insecure registry 'https://bad'" "$BERTH_DAEMON_JSON"
rm -f "$BERTH_DAEMON_JSON"

# --- wrong name, expired ----------------------------------------------------
mkdir -p "$BERTH_CERTS_D"
dreg_start --tls "$C/wrong.crt" "$C/wrong.key"
WRONG=$DREG
mkdir -p "$BERTH_CERTS_D/$WRONG" && cp "$C/ca.crt" "$BERTH_CERTS_D/$WRONG/"
run berth_ pull "$WRONG/cfg/app:v1"
check "certificate for another name: exit 9 naming both" 9 \
	"valid for elsewhere.example, not '127.0.0.1'"

dreg_start --tls "$C/expired.crt" "$C/expired.key"
EXP=$DREG
mkdir -p "$BERTH_CERTS_D/$EXP" && cp "$C/ca.crt" "$BERTH_CERTS_D/$EXP/"
run berth_ pull "$EXP/cfg/app:v1"
check "expired certificate: exit 9 saying so and until when" 9 "expired" "2020"

# --- client certificates (docker-registry with clientcas) -------------------
dreg_start --tls "$C/server.crt" "$C/server.key" --clientca "$C/ca.crt"
MTLS=$DREG
skopeo_push "$T/img" v1 "$MTLS/cfg/app:v1" --dest-cert-dir "$T/skclient"
mkdir -p "$BERTH_CERTS_D/$MTLS" && cp "$C/ca.crt" "$BERTH_CERTS_D/$MTLS/"
run berth_ pull "$MTLS/cfg/app:v1"
check "client certificate required, none given: exit 9 with the remedy" 9 \
	"client certificate" "certs.d/$MTLS/client.cert"
cp "$C/client.crt" "$BERTH_CERTS_D/$MTLS/client.cert"
run berth_ pull "$MTLS/cfg/app:v1"
check "client.cert without client.key: exit 9 naming the missing key" 9 "missing key '.*client.key'"
cp "$C/client.key" "$BERTH_CERTS_D/$MTLS/client.key"
run berth_ pull "$MTLS/cfg/app:v1"
check "client.cert + client.key in certs.d: pull works" 0 "Digest: $digest"

# --- berth serve with a client CA ------------------------------------------
SP=$(free_port)
bg "$BERTH" serve --addr "127.0.0.1:$SP" --storage "$T/serve" \
	--tls-cert "$C/server.crt" --tls-key "$C/server.key" --tls-client-ca "$C/ca.crt" \
	2>"$T/serve.log"
wait_tcp "127.0.0.1:$SP" || bail "berth serve did not start"
SRV=127.0.0.1:$SP
skopeo_push "$T/img" v1 "$SRV/cfg/app:v1" --dest-cert-dir "$T/skclient"
mkdir -p "$BERTH_CERTS_D/$SRV" && cp "$C/ca.crt" "$BERTH_CERTS_D/$SRV/"
run berth_ pull "$SRV/cfg/app:v1"
check "berth serve requiring a client certificate: refused without (403)" 6 \
	"requires a client certificate" "hint: .*certs.d/$SRV/client.cert"
cp "$C/client.crt" "$BERTH_CERTS_D/$SRV/client.cert"
cp "$C/client.key" "$BERTH_CERTS_D/$SRV/client.key"
run berth_ --root "$T/store2" pull "$SRV/cfg/app:v1"
check "berth serve: pull with certs.d client certificate" 0 "Digest: $digest"

# --- plain HTTP to a non-loopback address (network namespace) -----------------
NS=berthcfg$$
if ip netns add "$NS" 2>/dev/null; then
	_cleanup_ns() { ip netns del "$NS" 2>/dev/null; ip link del "veth$$a" 2>/dev/null; }
	trap '_cleanup; _cleanup_ns' EXIT
	ip link add "veth$$a" type veth peer name "veth$$b" &&
		ip link set "veth$$b" netns "$NS" &&
		ip addr add 10.203.0.1/30 dev "veth$$a" && ip link set "veth$$a" up &&
		ip netns exec "$NS" ip addr add 10.203.0.2/30 dev "veth$$b" &&
		ip netns exec "$NS" ip link set "veth$$b" up &&
		ip netns exec "$NS" ip link set lo up ||
		bail "cannot set up the veth pair"
	dreg_start --addr 10.203.0.2:5000 --netns "$NS"
	skopeo_push "$T/img" v1 "10.203.0.2:5000/cfg/app:v1" --dest-tls-verify=false
	run berth_ pull "10.203.0.2:5000/cfg/app:v1"
	check "plain HTTP registry on a non-loopback address, not listed: refused" 9 \
		"plain HTTP on a TLS connection" "insecure-registries"
	echo '{"insecure-registries": ["10.203.0.0/30"]}' >"$BERTH_DAEMON_JSON"
	run berth_ pull "10.203.0.2:5000/cfg/app:v1"
	check "listed by CIDR: HTTPS fails, plain HTTP is used" 0 "Digest: $digest"
	echo '{"insecure-registries": ["10.203.0.2:5000"]}' >"$BERTH_DAEMON_JSON"
	run berth_ --root "$T/store3" pull "10.203.0.2:5000/cfg/app:v1"
	check "listed by host:port: plain HTTP is used" 0 "Digest: $digest"
	rm -f "$BERTH_DAEMON_JSON"
else
	echo "# ip netns is not available here: non-loopback plain HTTP not tested"
fi

done_testing

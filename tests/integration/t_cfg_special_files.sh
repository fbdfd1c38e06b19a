#!/usr/bin/env bash
# Configuration files that are not regular files (a FIFO, a device, a
# directory) are refused with a message naming the file and what it is,
# without waiting on them: certs.d files, config.json, daemon.json, berth's
# config, berth serve's config, policy, htpasswd and key files. Links to regular files still
# work. Every command runs under timeout: a hang fails the case (124).
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
registry_start
mkimage "$T/img" --tag v1 --layer 8k --seed cfg-special >"$T/img.json"
skopeo_push "$T/img" v1 "$REG/sp/app:v1"
digest=$(jget 'j["digest"]' "$T/img.json")
tmo() { timeout 60 "$BERTH" "$@"; }

# --- certs.d ------------------------------------------------------------------
mkdir -p "$BERTH_CERTS_D/$REG"
mkfifo "$BERTH_CERTS_D/$REG/ca.crt"
run tmo pull "$REG/sp/app:v1"
check "a FIFO as certs.d/HOST/ca.crt: refused at once, naming it" 2 \
	"'$BERTH_CERTS_D/$REG/ca.crt' is a FIFO \(named pipe\), not a regular file" \
	"^hint: put a regular file at '$BERTH_CERTS_D/$REG/ca.crt'"
rm "$BERTH_CERTS_D/$REG/ca.crt"
mkfifo "$BERTH_CERTS_D/$REG/client.cert"
: >"$BERTH_CERTS_D/$REG/client.key"
run tmo pull "$REG/sp/app:v1"
check "a FIFO as certs.d/HOST/client.cert: refused" 2 \
	"'$BERTH_CERTS_D/$REG/client.cert' is a FIFO \(named pipe\), not a regular file"
rm "$BERTH_CERTS_D/$REG/client.cert" "$BERTH_CERTS_D/$REG/client.key"
mkfifo "$BERTH_CERTS_D/$REG/client.key"
run tmo pull "$REG/sp/app:v1"
check "a FIFO as certs.d/HOST/client.key: refused" 2 \
	"'$BERTH_CERTS_D/$REG/client.key' is a FIFO \(named pipe\), not a regular file"
rm "$BERTH_CERTS_D/$REG/client.key"
mkdir "$BERTH_CERTS_D/$REG/dir.crt"
run tmo pull "$REG/sp/app:v1"
check "a directory named *.crt in certs.d: refused" 2 \
	"'$BERTH_CERTS_D/$REG/dir.crt' is a directory, not a regular file"
rmdir "$BERTH_CERTS_D/$REG/dir.crt"
run tmo pull "$REG/sp/app:v1"
check "certs.d without the FIFO: the pull works" 0 "Digest: $digest"

# --- config.json ----------------------------------------------------------------
mkfifo "$DOCKER_CONFIG/config.json"
run tmo logout "$REG"
check "a FIFO as config.json: logout refused, naming it" 2 \
	"'$DOCKER_CONFIG/config.json' is a FIFO \(named pipe\), not a regular file" \
	"DOCKER_CONFIG"
run tmo login -u a -p b "$REG"
check "a FIFO as config.json: login refused too" 2 \
	"'$DOCKER_CONFIG/config.json' is a FIFO \(named pipe\), not a regular file"
expect "the refused login left the FIFO alone" test -p "$DOCKER_CONFIG/config.json"
rm "$DOCKER_CONFIG/config.json"
echo '{"auths": {}}' >"$T/real-config.json"
ln -s "$T/real-config.json" "$DOCKER_CONFIG/config.json"
run tmo pull "$REG/sp/app:v1"
check "config.json as a link to a regular file: read" 0 "Digest: $digest"
rm "$DOCKER_CONFIG/config.json"

# --- daemon.json, berth's config ---------------------------------------------------
mkfifo "$BERTH_DAEMON_JSON"
run tmo pull "$REG/sp/app:v1"
check "a FIFO as daemon.json: refused, naming it" 2 \
	"'$BERTH_DAEMON_JSON' is a FIFO \(named pipe\), not a regular file" "BERTH_DAEMON_JSON"
rm "$BERTH_DAEMON_JSON"
run tmo --daemon-json /dev/null config
check "a device as daemon.json: refused, naming it" 2 \
	"'/dev/null' is a character device, not a regular file"
mkfifo "$BERTH_CONFIG"
run tmo config
check "a FIFO as berth's config: refused, naming it" 2 \
	"'$BERTH_CONFIG' is a FIFO \(named pipe\), not a regular file" "BERTH_CONFIG"
rm "$BERTH_CONFIG"

# --- berth serve's config and policy -----------------------------------------------
mkfifo "$T/serve.json"
run tmo serve --config "$T/serve.json" --storage "$T/srv"
check "a FIFO as berth serve --config: refused, naming it" 2 \
	"config file: '$T/serve.json' is a FIFO \(named pipe\), not a regular file"
mkfifo "$T/policy.json"
run tmo serve --policy "$T/policy.json" --storage "$T/srv" --addr "127.0.0.1:$(free_port)"
check "a FIFO as berth serve --policy: refused, naming it" 2 \
	"'$T/policy.json' is a FIFO \(named pipe\), not a regular file"
mkfifo "$T/htpasswd"
run tmo serve --htpasswd "$T/htpasswd" --storage "$T/srv" --addr "127.0.0.1:$(free_port)"
check "a FIFO as berth serve --htpasswd: refused, naming it" 2 \
	"'$T/htpasswd' is a FIFO \(named pipe\), not a regular file"
mkfifo "$T/issuer.pem"
run tmo serve --auth token --token-realm https://auth.example.com/token \
	--token-issuer-keys "$T/issuer.pem" --storage "$T/srv" --addr "127.0.0.1:$(free_port)"
check "a FIFO as berth serve --token-issuer-keys: refused, naming it" 2 \
	"'$T/issuer.pem' is a FIFO \(named pipe\), not a regular file"

done_testing

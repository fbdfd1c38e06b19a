# Fixtures for the t_cfg_*.sh tests (registry configuration), sourced after
# lib.sh and registry.sh. Nothing here touches /etc/docker or $HOME: every
# configuration path points into $T.
#
#   cfg_env                  DOCKER_CONFIG, BERTH_DAEMON_JSON, BERTH_CERTS_D,
#                            BERTH_CONFIG, BERTH_ROOT under $T (exported)
#   make_certs DIR           a test CA and certificates signed by it:
#                            server (127.0.0.1, localhost), wrong-name,
#                            expired, client; a self-signed stranger
#   dreg_start [OPTS]        docker-registry with --tls CERT KEY,
#                            --clientca CA, --htpasswd FILE, --token REALM
#                            SERVICE CERTBUNDLE, --addr HOST:PORT,
#                            --netns NAME; sets DREG (host:port), DREG_LOG
#   berth_ ARGS...           $BERTH with the test store

cfg_env() {
	export DOCKER_CONFIG=$T/docker
	export BERTH_DAEMON_JSON=$T/daemon.json
	export BERTH_CERTS_D=$T/certs.d
	export BERTH_CONFIG=$T/berth.json
	export BERTH_ROOT=$T/store
	export HOME=$T/home
	mkdir -p "$DOCKER_CONFIG" "$BERTH_CERTS_D" "$HOME"
	unset REGISTRY_AUTH_FILE
}

berth_() {
	"$BERTH" "$@"
}

make_certs() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
			-subj '/CN=berth cfg test CA' -keyout ca.key -out ca.crt
		openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' \
			-keyout server.key -out server.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
			-CAcreateserial -days 2 -extfile server.ext -out server.crt
		openssl req -newkey rsa:2048 -nodes -subj '/CN=elsewhere.example' \
			-keyout wrong.key -out wrong.csr
		printf 'subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\n' >wrong.ext
		openssl x509 -req -in wrong.csr -CA ca.crt -CAkey ca.key \
			-CAcreateserial -days 2 -extfile wrong.ext -out wrong.crt
		# An expired certificate: `openssl ca` takes explicit dates.
		mkdir -p ca.db && : >ca.db/index.txt && echo 01 >ca.db/serial
		cat >ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca.db
database = ca.db/index.txt
serial = ca.db/serial
new_certs_dir = ca.db
default_md = sha256
policy = any
copy_extensions = copy
[any]
commonName = supplied
CNF
		openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' \
			-addext 'subjectAltName=IP:127.0.0.1' \
			-keyout expired.key -out expired.csr
		openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key \
			-startdate 20200101000000Z -enddate 20200102000000Z \
			-in expired.csr -out expired.crt
		openssl req -newkey rsa:2048 -nodes -subj '/CN=berth-client' \
			-keyout client.key -out client.csr
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key \
			-CAcreateserial -days 2 -extfile client.ext -out client.crt
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
			-subj '/CN=stranger' -keyout stranger.key -out stranger.crt
	) >"$d/openssl.log" 2>&1 || bail "test CA: $(tail -n 5 "$d/openssl.log")"
}

dreg_start() {
	local addr="" tls="" key="" clientca="" htp="" realm="" service="" bundle="" ns="" dir
	while [ $# -gt 0 ]; do
		case $1 in
		--tls) tls=$2 key=$3; shift 3 ;;
		--clientca) clientca=$2; shift 2 ;;
		--htpasswd) htp=$2; shift 2 ;;
		--token) realm=$2 service=$3 bundle=$4; shift 4 ;;
		--addr) addr=$2; shift 2 ;;
		--netns) ns=$2; shift 2 ;;
		*) bail "dreg_start: unknown option $1" ;;
		esac
	done
	[ -n "$addr" ] || addr=127.0.0.1:$(free_port)
	dir=$(mktemp -d "$T/dreg.XXXXXX")
	mkdir -p "$dir/data"
	{
		echo "version: 0.1"
		echo "log: {level: info, accesslog: {disabled: false}}"
		echo "storage:"
		echo "  filesystem: {rootdirectory: $dir/data}"
		echo "  maintenance: {uploadpurging: {enabled: false}}"
		echo "http:"
		echo "  addr: $addr"
		echo "  secret: berth-cfg-test"
		if [ -n "$tls" ]; then
			echo "  tls:"
			echo "    certificate: $tls"
			echo "    key: $key"
			[ -n "$clientca" ] && echo "    clientcas: [$clientca]"
		fi
		if [ -n "$htp" ]; then
			echo "auth:"
			echo "  htpasswd: {realm: berth-test, path: $htp}"
		elif [ -n "$realm" ]; then
			echo "auth:"
			echo "  token: {realm: \"$realm\", service: $service, issuer: berth-test-issuer, rootcertbundle: $bundle}"
		fi
	} >"$dir/config.yml"
	if [ -n "$ns" ]; then
		bg ip netns exec "$ns" /usr/bin/docker-registry serve "$dir/config.yml" \
			>"$dir/access.log" 2>"$dir/registry.log"
	else
		bg /usr/bin/docker-registry serve "$dir/config.yml" \
			>"$dir/access.log" 2>"$dir/registry.log"
	fi
	wait_tcp "$addr" ||
		bail "docker-registry did not start: $(tail -n 3 "$dir/registry.log")"
	DREG=$addr
	DREG_DIR=$dir
	DREG_LOG=$dir/access.log
}

# wait_tcp HOST:PORT: wait until something accepts connections there.
wait_tcp() { wait_for 120 tcp_open "$1"; }
tcp_open() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

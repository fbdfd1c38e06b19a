# The benchmark images and their registry, sourced by bench/pull.sh and
# bench/unpack.sh from the repository root.
#
#   bench_images          generate "big" and "small" once, cached under
#                         $DATA (build/bench-data/vN-KEY/; KEY changes with
#                         the generator and the image specs, so editing
#                         either regenerates)
#   bench_registry WORK   start Debian's docker-registry on a free 127.0.0.1
#                         port (storage kept in the cache), push both images
#                         with skopeo as bench/big:1 and bench/small:1; sets
#                         REG (host:port) and REG_PID. The caller stops it.
#   image_summary NAME    "6 layers, 1027.0 MiB uncompressed, 393.0 MiB gzip"
#   die MESSAGE           print and exit 1

DATA_ROOT=$TOP/build/bench-data

# The images. Layer sizes of "big" add up to 1 GiB; "small" has 50 layers
# of 8 to 200 KiB.
BIG_LAYERS=(64m 320m 256m 192m 128m 64m)
SMALL_LAYERS=()
for i in $(seq 0 49); do
	SMALL_LAYERS+=("$((8 + (i * 37) % 193))k")
done
DATA_VERSION=1

die() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

key=$({
	echo "$DATA_VERSION ${BIG_LAYERS[*]} ${SMALL_LAYERS[*]}"
	cat bench/genimage.py
} | sha256sum | cut -c1-12)
DATA=$DATA_ROOT/v$DATA_VERSION-$key

_gen() {
	local name=$1
	shift
	if [ ! -e "$DATA/$name.done" ]; then
		echo "generating image '$name' in $DATA/$name (once)" >&2
		rm -rf "$DATA/$name"
		mkdir -p "$DATA"
		python3 bench/genimage.py "$DATA/$name" --tag 1 --seed "$name" "$@" \
			>"$DATA/$name.json"
		touch "$DATA/$name.done"
	fi
}

bench_images() {
	local d l big_args=() small_args=()
	mkdir -p "$DATA_ROOT"
	# Old generations are a gigabyte each: keep only the current one.
	for d in "$DATA_ROOT"/v*; do
		[ -e "$d" ] && [ "$d" != "$DATA" ] && rm -rf "$d"
	done
	for l in "${BIG_LAYERS[@]}"; do big_args+=(--layer "$l"); done
	for l in "${SMALL_LAYERS[@]}"; do small_args+=(--layer "$l"); done
	_gen big "${big_args[@]}"
	_gen small "${small_args[@]}"
}

bench_registry() {
	local work=$1 port name
	port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	REG=127.0.0.1:$port
	mkdir -p "$DATA/registry"
	cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $DATA/registry
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $REG
  secret: berth-bench
YML
	# The access log (stdout) lets a benchmark count each pull's requests.
	/usr/bin/docker-registry serve "$work/registry.yml" \
		>"$work/access.log" 2>"$work/registry.log" &
	REG_PID=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://$REG/v2/" && break
		sleep 0.1
	done
	curl -s -o /dev/null "http://$REG/v2/" ||
		die "docker-registry did not start: $(tail -n 3 "$work/registry.log")"
	printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$work/policy.json"
	for name in ${BENCH_PUSH-big small}; do
		skopeo --policy "$work/policy.json" copy -q --dest-tls-verify=false \
			"oci:$DATA/$name:1" "docker://$REG/bench/$name:1" ||
			die "skopeo could not push '$name' to the registry"
	done
}

image_summary() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
z = sum(l["size"] for l in d["layers"])
print("%d layers, %.1f MiB uncompressed, %.1f MiB gzip"
      % (len(d["layers"]), d["uncompressed"] / 2**20, z / 2**20))
' "$DATA/$1.json"
}

#!/usr/bin/env bash
# berth's main job on an embedded default: start `berth serve` on 127.0.0.1,
# put a sample image in it, pull it into a fresh local store, show it and
# unpack it into a file tree.
# Installs missing Debian packages and builds first. Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
make >/dev/null  # errors still reach stderr

berth=$PWD/build/berth
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-demo.XXXXXX")
registry_pid=
cleanup() {
	[ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port

# The registry: berth serve, on loopback only.
"$berth" serve --addr "$host" --storage "$work/registry" --access-log off \
	>"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do curl -fs "http://$host/v2/" >/dev/null && break; sleep 0.1; done

# A sample image: a small root file system, imported and pushed by berth.
mkdir -p "$work/rootfs/etc" "$work/rootfs/usr/share/hello"
printf 'NAME="berth sample"\nID=berth-sample\n' >"$work/rootfs/etc/os-release"
printf 'hello from an image served on %s\n' "$host" >"$work/rootfs/usr/share/hello/README"
head -c 2000000 /dev/urandom >"$work/rootfs/usr/share/hello/data.bin"
tar -C "$work/rootfs" -czf "$work/rootfs.tar.gz" .
"$berth" --root "$work/publisher" import "$work/rootfs.tar.gz" "$host/sample/hello:1.0" >/dev/null
"$berth" --root "$work/publisher" push "$host/sample/hello:1.0" >/dev/null

echo "\$ berth pull $host/sample/hello:1.0"
"$berth" --root "$work/store" pull "$host/sample/hello:1.0"
echo
echo "\$ berth images"
"$berth" --root "$work/store" images
echo
echo "\$ berth inspect $host/sample/hello:1.0"
"$berth" --root "$work/store" inspect "$host/sample/hello:1.0"
echo
echo "\$ berth unpack $host/sample/hello:1.0 rootfs && cat rootfs/usr/share/hello/README"
"$berth" --root "$work/store" unpack "$host/sample/hello:1.0" "$work/unpacked"
cat "$work/unpacked/usr/share/hello/README"

#!/usr/bin/env bash
# The peer fixtures and tree_diff.py: an image generated here (files of every
# kind, whiteouts, an opaque directory, a directory replaced by a file and
# back) is pushed by skopeo to docker-registry, pulled by dockerd, containerd
# and podman; docker's exported tree equals umoci's unpack of the same image;
# tree_diff.py reports each kind of difference introduced on purpose; dockerd
# writes nothing under /etc/docker or /var/lib/docker.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/docker_lib.sh

TD=(python3 "$TOOLS/tree_diff.py")

# snapshot DIR: every path below DIR with its type, mode, size and mtime
# ("absent" when DIR does not exist).
snapshot() {
	if [ -e "$1" ]; then
		find "$1" -printf '%y %m %s %T@ %p\n' | sort
	else
		echo absent
	fi
}
etc_before=$(snapshot /etc/docker)
var_before=$(snapshot /var/lib/docker)

registry_start
run python3 "$TOOLS/mklayout.py" "$T/src" tests/integration/peers_image.json \
	--tag v1 --platform "$HOST_PLATFORM"
[ "$RC" = 0 ] || bail "mklayout.py failed: $ERR"
skopeo_push "$T/src" v1 "$REG/peers:v1"
IMG=$REG/peers:v1

# ---- umoci: the reference tree ---------------------------------------------
run skopeo_ copy -q --src-tls-verify=false "docker://$IMG" "oci:$T/oci:v1"
check "skopeo copies the image back into a layout" 0
run umoci unpack --image "$T/oci:v1" "$T/umoci"
check "umoci unpacks the image" 0
U=$T/umoci/rootfs
# The reference holds what the spec says, so comparisons below mean something.
same "umoci: setuid file with its capability" \
	"$(stat -c '%a %U' "$U/bin/tool") $(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "security.capability").hex())' "$U/bin/tool")" \
	"4755 root 0100000200200000000000000000000000000000"
same "umoci: whiteouts, opaque directory, replaced directory" \
	"$(cd "$U" && echo $(ls data) / $(ls opt/old))" "big d f new / c"
same "umoci: hard link" "$(stat -c %h "$U/usr/share/a")" 2

# ---- docker ----------------------------------------------------------------
docker_start "$REG"
run docker pull -q "$IMG"
check "docker pull from docker-registry" 0
run docker create "$IMG"
check "docker create" 0
cid=$OUT
run docker export -o "$T/docker.tar" "$cid"
check "docker export" 0
mkdir "$T/docker-tree"
run tar -xpf "$T/docker.tar" --numeric-owner --xattrs --xattrs-include='*' -C "$T/docker-tree"
check "docker's export unpacks with tar" 0
# docker export carries security.capability and no other xattrs. srv/private
# is the one place where docker's result differs, below.
run "${TD[@]}" --docker-export --xattrs security.capability --mtimes \
	--ignore srv/private "$U" "$T/docker-tree"
check "docker's exported tree equals umoci's (modes, owners, contents, links, devices, capabilities, mtimes)" 0
# Layer 3 adds srv/private/two without an entry for srv/private: docker's
# overlay2 driver applies the layer into an empty directory, creates the
# parent as 0755 root:root there, and overlayfs shows that upper directory's
# mode and owner instead of the 0700 1000:1000 of layer 1. podman's overlay
# driver does the same; umoci and containerd keep layer 1's.
run "${TD[@]}" --docker-export --xattrs security.capability "$U" "$T/docker-tree"
same "docker 20.10 overlay2: a layer's implied parent directory hides the lower one's mode and owner" \
	"$OUT" "mode srv/private: 0700 in A, 0755 in B
owner srv/private: 1000:1000 in A, 0:0 in B"
# And without the ignore list, what docker adds is seen.
run "${TD[@]}" --xattrs security.capability "$U" "$T/docker-tree"
check "tree_diff.py sees what docker export adds" 1 '^missing in A: \.dockerenv \(file\)$' \
	'^missing in A: etc/hosts \(file\)$'

# ---- tree_diff.py on differences made on purpose ---------------------------
cp -a "$U" "$T/copy"
run "${TD[@]}" --mtimes "$U" "$T/copy"
check "tree_diff.py: a copy made with cp -a is equal (all xattrs, hard links)" 0
M=$T/copy
chmod 0755 "$M/bin/sgid"
printf 'second NOTES\n' >"$M/home/user/notes" # same size, other content
rm "$M/opt/old/c"
ln -sfn libx.so.2 "$M/usr/lib/libx.so"
python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.comment", b"changed")' "$M/home/user/notes"
rm "$M/usr/share/a-link" && cp -p "$M/usr/share/a" "$M/usr/share/a-link"
run "${TD[@]}" "$U" "$M"
same "tree_diff.py reports each difference on its own line" "$OUT" \
	"mode bin/sgid: 2755 in A, 0755 in B
content home/user/notes: SHA-256 differs
xattr home/user/notes: user.comment is 'again' in A, 'changed' in B
missing in B: opt/old/c (file)
target usr/lib/libx.so: 'libx.so.1' in A, 'libx.so.2' in B
hardlinks usr/share/a = usr/share/a-link: one file in A, not in B"
same "tree_diff.py exits 1 on differences" "$RC" 1
# Owner, type, device numbers and mtimes, on a second copy.
cp -a "$U" "$T/copy2"
N=$T/copy2
chown 1001:1000 "$N/home/user/notes"
rm "$N/var/fifo" && printf 'x' >"$N/var/fifo" && chmod 0600 "$N/var/fifo"
rm "$N/var/null" && mknod -m 0666 "$N/var/null" c 1 5
touch -h -d 2020-01-01T00:00:00Z "$N/usr/lib/libx.so"
run "${TD[@]}" "$U" "$N"
same "tree_diff.py reports owner, type and device differences" "$OUT" \
	"owner home/user/notes: 1000:100 in A, 1001:1000 in B
type var/fifo: fifo in A, file in B
device var/null: 1,3 in A, 1,5 in B"
run "${TD[@]}" --mtimes --no-owner "$U" "$N"
check "tree_diff.py --mtimes reports a symlink's changed mtime, --no-owner leaves owners out" 1 \
	'^mtime usr/lib/libx\.so: 1704067200 in A, 1577836800 in B$'
same "tree_diff.py --no-owner reports no owner line" "$(grep -c '^owner' <<<"$OUT")" 0
run "${TD[@]}" --xattrs security.capability,user.other "$U" "$M"
check "tree_diff.py --xattrs: only the chosen attributes are compared" 1
same "tree_diff.py --xattrs leaves user.comment out" "$(grep -c '^xattr' <<<"$OUT")" 0
run "${TD[@]}" --ignore opt/ --ignore 'usr/share/a*' --ignore bin/sgid --ignore home --ignore usr/lib/libx.so "$U" "$M"
check "tree_diff.py --ignore leaves the ignored paths out" 0
run "${TD[@]}" "$U"
check "tree_diff.py: one tree is a usage error" 2 'usage'
run "${TD[@]}" "$U" "$T/docker.tar"
check "tree_diff.py: a tar instead of a directory is a usage error" 2 'is not a directory'

# ---- containerd ------------------------------------------------------------
containerd_start
run ctr_ image pull --plain-http "$IMG"
check "ctr image pull --plain-http from docker-registry" 0
run ctr_ image ls -q
check "containerd lists the image" 0 "^$IMG$"
mkdir "$T/ctr-mnt"
run ctr_ image mount "$IMG" "$T/ctr-mnt"
check "ctr image mount" 0
run "${TD[@]}" --mtimes "$U" "$T/ctr-mnt"
check "containerd's snapshot equals umoci's tree (all xattrs, mtimes, srv/private too)" 0
run ctr_ image unmount "$T/ctr-mnt"
check "ctr image unmount" 0

# ---- podman ----------------------------------------------------------------
run podman_ pull -q --tls-verify=false "$IMG"
check "podman pull from docker-registry" 0
run podman_ image mount "$IMG"
check "podman image mount" 0
pm=$OUT
run "${TD[@]}" --mtimes --ignore srv/private "$U" "$pm"
check "podman's overlay tree equals umoci's (all xattrs, mtimes)" 0
run "${TD[@]}" "$U" "$pm"
same "podman 4.3 overlay: the implied parent directory hides the lower one's mode and owner, as docker's" \
	"$OUT" "mode srv/private: 0700 in A, 0755 in B
owner srv/private: 1000:1000 in A, 0:0 in B"
podman_ image unmount "$IMG" >/dev/null 2>&1

# ---- nothing outside the temp dir ------------------------------------------
docker_stop
same "dockerd wrote nothing under /etc/docker" "$(snapshot /etc/docker)" "$etc_before"
same "dockerd wrote nothing under /var/lib/docker" "$(snapshot /var/lib/docker)" "$var_before"

done_testing

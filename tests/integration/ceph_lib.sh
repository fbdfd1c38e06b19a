# A single-node Ceph on 127.0.0.1 for the S3 tests: one monitor, one OSD
# on a memstore (RAM, nothing on disk), one RADOS Gateway. Source it
# after lib.sh; everything lives under $T/ceph and is stopped on exit.
# Needs Debian 12's ceph-mon, ceph-osd, radosgw and ceph-common
# (scripts/install-deps.sh).
#
#   ceph_up                 start it; sets S3_ENDPOINT S3_ACCESS_KEY
#                           S3_SECRET_KEY S3_REGION, RGW_PID
#   rgw_stop / rgw_start    stop the gateway (by its pid) and start it
#                           again on the same port

CEPH_DIR=$T/ceph
S3_REGION=default
S3_ACCESS_KEY=BERTHTESTACCESSKEY00
S3_SECRET_KEY=berthtestsecretkey0000000000000000000000

_ceph_conf() {
	cat >"$CEPH_DIR/ceph.conf" <<CONF
[global]
fsid = $CEPH_FSID
mon host = [v2:127.0.0.1:$CEPH_MON2,v1:127.0.0.1:$CEPH_MON1]
public network = 127.0.0.0/8
run dir = $CEPH_DIR/run
admin socket = $CEPH_DIR/run/\$name.asok
log file = $CEPH_DIR/log/\$name.log
pid file = $CEPH_DIR/run/\$name.pid
keyring = $CEPH_DIR/keyring
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
auth allow insecure global id reclaim = false
ms bind ipv6 = false

[mon]
mon data = $CEPH_DIR/mon.\$id
mon cluster log file = $CEPH_DIR/log/cluster.log
mon data avail warn = 2
mon data avail crit = 1

[osd]
osd data = $CEPH_DIR/osd.\$id
keyring = $CEPH_DIR/osd.\$id/keyring
osd objectstore = memstore
memstore device bytes = 2147483648
osd op num shards = 1
osd op num threads per shard = 2

[client]
rgw dns name = localhost
rgw enable usage log = false
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $CEPH_DIR/rgw.a
keyring = $CEPH_DIR/rgw.a/keyring
CONF
}

# _ceph_wait WHAT CMD...: CMD succeeds within a generous deadline.
_ceph_wait() {
	local what=$1
	shift
	wait_for 300 "$@" >/dev/null 2>&1 && return 0
	echo "ceph: timed out waiting for $what; logs in $CEPH_DIR/log" >&2
	tail -n 5 "$CEPH_DIR"/log/*.out >&2
	return 1
}

ceph_up() {
	local c osd_uuid osd_key id
	mkdir -p "$CEPH_DIR"/{run,log,mon.a,osd.0,rgw.a}
	CEPH_MON2=$(free_port)
	CEPH_MON1=$(free_port)
	RGW_PORT=$(free_port)
	CEPH_FSID=$(uuidgen)
	_ceph_conf
	c=(ceph -c "$CEPH_DIR/ceph.conf")
	CEPH=("${c[@]}")
	ceph-authtool --create-keyring "$CEPH_DIR/mon.keyring" --gen-key \
		-n mon. --cap mon 'allow *' >/dev/null || return 1
	ceph-authtool --create-keyring "$CEPH_DIR/keyring" --gen-key \
		-n client.admin --cap mon 'allow *' --cap osd 'allow *' \
		--cap mgr 'allow *' >/dev/null || return 1
	ceph-authtool "$CEPH_DIR/mon.keyring" \
		--import-keyring "$CEPH_DIR/keyring" >/dev/null || return 1
	monmaptool --create --fsid "$CEPH_FSID" --addv a \
		"[v2:127.0.0.1:$CEPH_MON2,v1:127.0.0.1:$CEPH_MON1]" \
		"$CEPH_DIR/monmap" >/dev/null || return 1
	ceph-mon -c "$CEPH_DIR/ceph.conf" -i a --mkfs \
		--monmap "$CEPH_DIR/monmap" \
		--keyring "$CEPH_DIR/mon.keyring" || return 1
	bg ceph-mon -c "$CEPH_DIR/ceph.conf" -i a -f \
		>"$CEPH_DIR/log/mon.out" 2>&1
	_ceph_wait monitor "${c[@]}" -s --connect-timeout 5 || return 1

	osd_uuid=$(uuidgen)
	osd_key=$(ceph-authtool --gen-print-key)
	echo "{\"cephx_secret\": \"$osd_key\"}" >"$CEPH_DIR/osd.0/new.json"
	id=$("${c[@]}" osd new "$osd_uuid" -i "$CEPH_DIR/osd.0/new.json") ||
		return 1
	ceph-authtool --create-keyring "$CEPH_DIR/osd.0/keyring" \
		--name "osd.$id" --add-key "$osd_key" >/dev/null || return 1
	ceph-osd -c "$CEPH_DIR/ceph.conf" -i "$id" --mkfs \
		--osd-uuid "$osd_uuid" >"$CEPH_DIR/log/osd.mkfs" 2>&1 ||
		return 1
	bg ceph-osd -c "$CEPH_DIR/ceph.conf" -i "$id" -f \
		>"$CEPH_DIR/log/osd.out" 2>&1
	_ceph_wait OSD bash -c "${c[*]} osd dump | grep -q '^osd.$id up'" ||
		return 1

	"${c[@]}" auth get-or-create client.rgw.a mon 'allow rw' \
		osd 'allow rwx' mgr 'allow rw' >"$CEPH_DIR/rgw.a/keyring" ||
		return 1
	S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
	rgw_start || return 1
	radosgw-admin -c "$CEPH_DIR/ceph.conf" -n client.admin user create \
		--uid=berth --display-name=berth \
		--access-key="$S3_ACCESS_KEY" \
		--secret-key="$S3_SECRET_KEY" >/dev/null || return 1
}

rgw_start() {
	bg radosgw -c "$CEPH_DIR/ceph.conf" -n client.rgw.a -f \
		>>"$CEPH_DIR/log/rgw.out" 2>&1
	RGW_PID=$BG_PID
	_ceph_wait "RADOS Gateway" curl -sf -o /dev/null "$S3_ENDPOINT/"
}

rgw_stop() {
	kill -TERM "$RGW_PID" 2>/dev/null
	wait "$RGW_PID" 2>/dev/null
	# Gone when the port refuses connections.
	wait_for 120 bash -c "! curl -s -o /dev/null '$S3_ENDPOINT/'"
}

#!/usr/bin/env bash
# berth serve with its metadata in PostgreSQL: real clients (berth, skopeo,
# podman); tags, paging, referrers and deletes; two instances sharing one
# database and one blob directory (an upload started on one and finished
# on the other, the same tag pushed on both at once, pull limits counted
# across both); garbage collection run by one instance, taken over when it
# is killed; the database stopped and started again under a running
# server; a schema newer than this berth refused; the metadata unit test
# and the OCI conformance workflows on PostgreSQL.
# timeout: 1800
. tests/integration/lib.sh
. tests/integration/serve_lib.sh
. tests/integration/pg_lib.sh

pg_start || { fail "a private PostgreSQL starts" "see above"; exit 1; }
ok "a private PostgreSQL starts"
OCI=application/vnd.oci.image.manifest.v1+json

# pg_serve NAME [FLAGS...]: berth serve on PostgreSQL, storage $T/reg,
# log $T/NAME.log; sets NAME_URL NAME_HOST NAME_PID.
pg_serve() {
	local name=$1 port
	shift
	port=$(free_port)
	bg "$BERTH" serve --addr "127.0.0.1:$port" --storage "$T/reg" \
		--metadata "$PG_URL" --access-log off "$@" 2>>"$T/$name.log"
	printf -v "${name}_PID" %s "$BG_PID"
	printf -v "${name}_HOST" %s "127.0.0.1:$port"
	printf -v "${name}_URL" %s "http://127.0.0.1:$port"
	wait_for 120 curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && return 0
	tail -n 5 "$T/$name.log" >&2
	return 1
}

pg_serve A || { fail "berth serve starts on PostgreSQL" "$(tail -n 3 "$T/A.log")"; exit 1; }
ok "berth serve starts on PostgreSQL"
expect "it says where its metadata is" grep -q "metadata in PostgreSQL at 'postgres://berth@127.0.0.1:$PG_PORT/berth'" "$T/A.log"
same "the schema is created at version 1" "$(pg_sql 'SELECT version FROM berth_schema')" 1
H=$A_HOST SRV_URL=$A_URL

# ---- real clients ----
M1=$(make_layout "$T/img" v1 1 1000 300000)
M2=$(make_layout "$T/img" v2 2 5000)
run sk copy --dest-tls-verify=false "oci:$T/img:v1" "docker://$H/team/app:v1"
check "skopeo pushes" 0
run sk copy --dest-tls-verify=false "oci:$T/img:v2" "docker://$H/team/app:v2"
check "skopeo pushes a second tag" 0
run sk copy --src-tls-verify=false "docker://$H/team/app:v1" "oci:$T/out:v1"
check "skopeo pulls it back" 0
expect "the pulled manifest is byte-identical" cmp -s "$T/out/blobs/sha256/${M1#sha256:}" "$T/img/blobs/sha256/${M1#sha256:}"
run sk list-tags --tls-verify=false "docker://$H/team/app"
check "skopeo lists the tags" 0 '"v1"' '"v2"'
same "the tags are rows of the database" "$(pg_sql "SELECT string_agg(tag, ',' ORDER BY tag) FROM tags WHERE repo = 'team/app'")" "v1,v2"
S=$T/store
run "$BERTH" --root "$S" pull -q "$H/team/app:v1"
check "berth pulls" 0
run "$BERTH" --root "$S" tag "$H/team/app:v1" "$H/berth/pushed:v1"
check "berth tags for a push" 0
run "$BERTH" --root "$S" push "$H/berth/pushed:v1"
check "berth pushes" 0
run sk inspect --tls-verify=false "docker://$H/berth/pushed:v1"
check "skopeo sees what berth pushed" 0 "\"Digest\": \"$M1\""
P=(podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file)
run "${P[@]}" pull --tls-verify=false "$H/team/app:v1"
check "podman pulls" 0
run "${P[@]}" push --tls-verify=false "$H/team/app:v1" "$H/podman/app:v1"
check "podman pushes" 0
run sk inspect --tls-verify=false "docker://$H/podman/app:v1"
check "skopeo sees what podman pushed" 0 '"Name"'

# ---- tags with paging, referrers, deletes ----
MF1=$T/img/blobs/sha256/${M1#sha256:}
for t in t1 t2 t3 t4 t5; do put_manifest team/app "$t" "$MF1" >/dev/null; done
same "a first page of tags" "$(http_status GET "$A_URL/v2/team/app/tags/list?n=3")$(last_body)" \
	'200{"name":"team/app","tags":["t1","t2","t3"]}'
expect "it links to the next page" grep -qi '^link: </v2/team/app/tags/list?.*last=t3' "$T/.headers"
same "the next page" "$(http_status GET "$A_URL/v2/team/app/tags/list?n=3&last=t3")$(last_body)" \
	'200{"name":"team/app","tags":["t4","t5","v1"]}'
same "the last page" "$(http_status GET "$A_URL/v2/team/app/tags/list?n=3&last=v1")$(last_body)" \
	'200{"name":"team/app","tags":["v2"]}'
expect "...links to none" test -z "$(last_header link)"
python3 - "$T/empty.json" "$T/ref.json" "$M1" "$(stat -c %s "$MF1")" <<'PY'
import hashlib, json, sys
empty, ref, subject, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
open(empty, "wb").write(b"{}")
d = "sha256:" + hashlib.sha256(b"{}").hexdigest()
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "artifactType": "application/vnd.example.sbom",
     "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": d, "size": 2},
     "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": d, "size": 2}],
     "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": size}}
open(ref, "w").write(json.dumps(m))
PY
push_blob team/app "$T/empty.json" >/dev/null
RD=$(sha256_of "$T/ref.json")
same "a referrer is stored" "$(put_manifest team/app "$RD" "$T/ref.json")" 201
got=$(http_status GET "$A_URL/v2/team/app/referrers/$M1")
expect "the subject lists its referrer" grep -q "\"digest\":\"$RD\".*application/vnd.example.sbom" "$T/.body"
same "referrers answer 200" "$got" 200
same "a tag is deleted" "$(http_status DELETE "$A_URL/v2/team/app/manifests/t5")" 202
same "the deleted tag is gone" "$(http_status GET "$A_URL/v2/team/app/manifests/t5" -H "Accept: $OCI")" 404
same "a manifest is deleted" "$(http_status DELETE "$A_URL/v2/team/app/manifests/$M2")" 202
same "the deleted manifest is gone" "$(http_status GET "$A_URL/v2/team/app/manifests/v2" -H "Accept: $OCI")" 404
same "its rows are gone" "$(pg_sql "SELECT count(*) FROM manifests WHERE digest = '$M2'")" 0

# ---- two instances on one database and one blob directory ----
pg_serve B || { fail "a second instance starts on the same database" "$(tail -n 3 "$T/B.log")"; exit 1; }
ok "a second instance starts on the same database"
same "the second instance sees the first one's tags" "$(http_status GET "$B_URL/v2/team/app/manifests/v1" -H "Accept: $OCI")" 200
head -c 300000 /dev/urandom >"$T/chunked"
head -c 100000 "$T/chunked" >"$T/c1"
tail -c +100001 "$T/chunked" >"$T/c2"
CD=$(sha256_of "$T/chunked")
curl -s -o /dev/null -D "$T/h" -X POST "$A_URL/v2/team/chunked/blobs/uploads/"
LOC=$(grep -i '^location:' "$T/h" | cut -d' ' -f2 | tr -d '\r')
case $LOC in http*) ;; *) LOC=$A_URL$LOC ;; esac
same "a chunk goes to the first instance" "$(http_status PATCH "$LOC" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 0-99999' --data-binary "@$T/c1")" 202
LOC_B=$B_URL${LOC#"$A_URL"}
same "the second instance knows the session" "$(http_status GET "$LOC_B")" 204
expect "...with the first instance's offset" grep -qi '^range: 0-99999' "$T/.headers"
same "the next chunk goes to the second instance" "$(http_status PATCH "$LOC_B" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 100000-299999' --data-binary "@$T/c2")" 202
LOC_B2=$(last_header location)
case $LOC_B2 in http*) ;; *) LOC_B2=$B_URL$LOC_B2 ;; esac
sep='?'; case $LOC_B2 in *\?*) sep='&' ;; esac
same "the second instance completes the upload" "$(http_status PUT "$LOC_B2${sep}digest=$CD")" 201
curl -s -o "$T/back" "$A_URL/v2/team/chunked/blobs/$CD"
expect "the first instance serves the whole blob" cmp -s "$T/back" "$T/chunked"

# The same tag pushed on both instances at once, many times over: every
# time one of the two manifests wins, and both instances agree on it.
MA=$(make_layout "$T/ra" x 11 800)
MB=$(make_layout "$T/rb" x 12 900)
SRV_URL=$A_URL push_layout race/app a "$T/ra" "$MA" >/dev/null
SRV_URL=$B_URL push_layout race/app b "$T/rb" "$MB" >/dev/null
bad=0
for i in $(seq 1 15); do
	curl -s -o /dev/null -X PUT -H "Content-Type: $OCI" --data-binary "@$T/ra/blobs/sha256/${MA#sha256:}" "$A_URL/v2/race/app/manifests/hot" &
	p1=$!
	curl -s -o /dev/null -X PUT -H "Content-Type: $OCI" --data-binary "@$T/rb/blobs/sha256/${MB#sha256:}" "$B_URL/v2/race/app/manifests/hot" &
	p2=$!
	wait "$p1" "$p2"
	da=$(curl -s -o /dev/null -w '%header{docker-content-digest}' -H "Accept: $OCI" "$A_URL/v2/race/app/manifests/hot")
	db=$(curl -s -o /dev/null -w '%header{docker-content-digest}' -H "Accept: $OCI" "$B_URL/v2/race/app/manifests/hot")
	rows=$(pg_sql "SELECT count(*) FROM tags WHERE repo = 'race/app' AND tag = 'hot'")
	if [ "$da" != "$db" ] || { [ "$da" != "$MA" ] && [ "$da" != "$MB" ]; } || [ "$rows" != 1 ]; then
		bad=$((bad + 1))
		echo "# round $i: A says $da, B says $db, $rows rows" >&2
	fi
done
same "two instances pushing one tag at once leave one consistent state" "$bad" 0
same "both manifests stay stored" "$(pg_sql "SELECT count(*) FROM manifests WHERE repo = 'race/app'")" 2
expect "every stored blob matches its digest" store_fsck "$T/reg"

# ---- the database away for 5 s ----
pg_stop
got=$(http_status GET "$A_URL/v2/team/app/manifests/v1" -H "Accept: $OCI")
same "with the database stopped a request answers 503" "$got" 503
expect "...naming the database" grep -q 'metadata database (PostgreSQL) is unreachable' "$T/.body"
expect "...and when to retry" test "$(last_header retry-after)" = 5
expect "the log says which database and why" grep -q "metadata database 'postgres://berth@127.0.0.1:$PG_PORT/berth' is unreachable" "$T/A.log"
same "a push fails the same way" "$(put_manifest team/app down "$MF1")" 503
sleep 5 # the outage itself, not a wait for a condition
pg_resume || { fail "PostgreSQL comes back" "see above"; exit 1; }
pull_ok() { [ "$(http_status GET "$1/v2/team/app/manifests/v1" -H "Accept: $OCI")" = 200 ]; }
expect "once it is back the first instance answers again, not restarted" wait_for 60 pull_ok "$A_URL"
expect "...and the second" wait_for 60 pull_ok "$B_URL"
same "pushes work again" "$(put_manifest team/app back "$MF1")" 201
expect "both instances still run" kill -0 "$A_PID" "$B_PID"

# ---- pull limits across instances ----
kill "$A_PID" "$B_PID"; wait "$A_PID" "$B_PID" 2>/dev/null
pg_serve C --pull-limit anonymous=3/1h || { fail "an instance with pull limits starts" "$(tail -n 3 "$T/C.log")"; exit 1; }
pg_serve D --pull-limit anonymous=3/1h || { fail "another instance with pull limits starts" "$(tail -n 3 "$T/D.log")"; exit 1; }
codes=""
for u in "$C_URL" "$D_URL" "$C_URL" "$D_URL" "$C_URL"; do
	codes="$codes $(http_status GET "$u/v2/team/app/manifests/v1" -H "Accept: $OCI")"
done
same "a pull limit of 3 holds across two instances" "$codes" " 200 200 200 429 429"
kill "$C_PID" "$D_PID"; wait "$C_PID" "$D_PID" 2>/dev/null

# ---- garbage collection: one instance runs it, another takes over ----
pg_serve G1 --gc-interval 1s --log-level debug || { fail "an instance with scheduled gc starts" "$(tail -n 3 "$T/G1.log")"; exit 1; }
wait_for 120 grep -q "now runs 'gc'" "$T/G1.log"
pg_serve G2 --gc-interval 1s --log-level debug || { fail "a second instance with scheduled gc starts" "$(tail -n 3 "$T/G2.log")"; exit 1; }
expect "the first instance takes the gc lock" grep -q "now runs 'gc'" "$T/G1.log"
expect "the second one finds it taken and skips" wait_for 120 grep -q "'gc' skipped: another instance runs it" "$T/G2.log"
runs() { grep -c '^berth serve: info: garbage collection: ' "$T/$1.log"; }
more_runs() { [ "$(runs "$1")" -gt "$2" ]; }
expect "the lock holder keeps collecting" wait_for 120 more_runs G1 "$(runs G1)"
same "the other instance has not collected" "$(runs G2)" 0
kill -9 "$G1_PID"; wait "$G1_PID" 2>/dev/null
expect "after a kill -9 of the runner the other takes over" wait_for 120 grep -q "now runs 'gc'" "$T/G2.log"
expect "...and collects" wait_for 120 more_runs G2 0
kill "$G2_PID"; wait "$G2_PID" 2>/dev/null

# ---- a schema newer than this berth ----
pg_sql "UPDATE berth_schema SET version = 99"
run "$BERTH" serve --addr "127.0.0.1:$(free_port)" --storage "$T/reg" --metadata "$PG_URL"
check "a schema newer than this berth's is refused" 14 "schema version 99, newer than this berth's \(1\)"
check "...with what to do" 14 "hint: a newer berth has migrated it"
pg_sql "UPDATE berth_schema SET version = 1"

# ---- the metadata unit test and the conformance workflows ----
_pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U berth unit
_pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U berth oci
UNIT=$TOP/build/asan/tests/test_serve_store
[ -x "$UNIT" ] || make -s "$UNIT" >/dev/null
run env BERTH_TEST_META_URL="postgres://berth@127.0.0.1:$PG_PORT/unit" "$UNIT" meta
check "the metadata store's unit test passes on PostgreSQL" 0 "ok meta"
out=$(BERTH_SERVE_EXTRA="--metadata postgres://berth@127.0.0.1:$PG_PORT/oci" bash tests/integration/t_serve_protocol.sh 2>&1)
np=$(grep -c '^ok - ' <<<"$out")
nf=$(grep -c '^not ok - ' <<<"$out")
grep '^not ok - ' <<<"$out" | sed 's/^/# /'
expect "the OCI conformance workflows pass on PostgreSQL ($np cases)" test "$nf" -eq 0 -a "$np" -gt 100

done_testing

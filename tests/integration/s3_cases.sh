# The cases of berth serve with its blobs in S3, for any S3 service.
# Source it after lib.sh and serve_lib.sh once the service is up, with
# S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_REGION set and
# s3_svc_stop / s3_svc_start defined (ceph_lib.sh has what they call for
# the RADOS Gateway, s3rver_lib.sh for s3rver).

# s3_curl ARGS...: curl signed for the service (AWS SigV4). S3 wants the
# payload's hash in a header, which curl's own signing does not send.
s3_curl() {
	curl -s --aws-sigv4 "aws:amz:$S3_REGION:s3" \
		--user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}
s3_mb() { [ "$(s3_curl -o /dev/null -w '%{http_code}' -X PUT "$S3_ENDPOINT/$1")" = 200 ]; }

BUCKET=berth-reg
s3_mb "$BUCKET" || { fail "bucket created" "$S3_ENDPOINT"; exit 1; }

# s3_head KEY: the HTTP status of a HEAD of the object.
s3_head() {
	s3_curl -o /dev/null -w '%{http_code}' -I "$S3_ENDPOINT/$BUCKET/$1"
}
blob_key() { local h=${1#sha256:}; echo "blobs/sha256/${h:0:2}/$h"; }
s3_keys() { # s3_keys PREFIX: the keys under it, one a line
	local q
	q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")
	s3_curl "$S3_ENDPOINT/$BUCKET/?list-type=2&prefix=$q" |
		python3 -c '
import re, sys
for k in re.findall(r"<Key>([^<]*)</Key>", sys.stdin.read()):
    print(k)'
}

CFG=$T/s3.json
cat >"$CFG" <<JSON
{"s3-bucket": "$BUCKET", "s3-endpoint": "$S3_ENDPOINT",
 "s3-region": "$S3_REGION", "s3-addressing": "path",
 "s3-access-key": "$S3_ACCESS_KEY", "s3-secret-key": "$S3_SECRET_KEY",
 "s3-part-size": 5242880, "gc-grace": "1s"}
JSON
serve_start --config "$CFG" || { fail "serve starts on S3" "$(tail -n 5 "$T/serve.log")"; exit 1; }
H=$SRV_HOST
R=$SRV_URL
ok "berth serve starts with its blobs in S3"
expect "nothing of the blobs is under --storage" test ! -e "$SRV_STORAGE/blobs"

# ---- clients: skopeo, berth, podman ----

M1=$(make_layout "$T/img" v1 1 1000 300000 7000000)
M2=$(make_layout "$T/img" v2 2 5000 70000)
run sk copy --dest-tls-verify=false "oci:$T/img:v1" "docker://$H/team/app:v1"
check "skopeo pushes an image" 0
run sk copy --dest-tls-verify=false "oci:$T/img:v2" "docker://$H/team/app:v2"
check "skopeo pushes a second tag" 0
run sk copy --src-tls-verify=false "docker://$H/team/app:v1" "oci:$T/out:v1"
check "skopeo pulls it back" 0
expect "every pulled blob is one that was pushed" test -z "$(comm -23 <(blob_names "$T/out") <(blob_names "$T/img"))"
expect "the pulled blobs are byte-identical" bash -c "cd '$T/out/blobs/sha256' && sha256sum -c --quiet <(for f in *; do echo \"\$f  \$f\"; done)"
LAYER=$(ls -S "$T/img/blobs/sha256" | head -n1)
same "the largest layer is an object in the bucket" "$(s3_head "$(blob_key "$LAYER")")" 200

MARK=$(wc -l <"$T/access.log")
run sk copy --src-tls-verify=false --dest-tls-verify=false "docker://$H/team/app:v1" "docker://$H/other/app:v1"
check "skopeo copies between repositories" 0
expect "the copy mounted blobs instead of uploading them" \
	grep -qE '"POST /v2/other/app/blobs/uploads/" 201 ' <(tail -n +"$((MARK + 1))" "$T/access.log")

S=$T/store
run "$BERTH" --root "$S" pull -q "$H/team/app:v1"
check "berth pulls from berth serve on S3" 0
run "$BERTH" --root "$S" tag "$H/team/app:v1" "$H/berth/pushed:v1"
check "berth tags for a push" 0
run "$BERTH" --root "$S" push "$H/berth/pushed:v1"
check "berth pushes to berth serve on S3" 0
run sk inspect --tls-verify=false "docker://$H/berth/pushed:v1"
check "skopeo sees what berth pushed" 0 "\"Digest\": \"$M1\""

if command -v podman >/dev/null 2>&1; then
	P=(podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver vfs
		--cgroup-manager cgroupfs --events-backend file)
	run "${P[@]}" pull --tls-verify=false "$H/team/app:v1"
	check "podman pulls from berth serve on S3" 0
	run "${P[@]}" push --tls-verify=false "$H/team/app:v1" "$H/podman/app:v1"
	check "podman pushes to berth serve on S3" 0
	run sk inspect --tls-verify=false "docker://$H/podman/app:v1"
	check "skopeo sees what podman pushed" 0 '"Name"'
else
	fail "podman pulls and pushes" "podman is not installed (scripts/install-deps.sh)"
fi

# ---- uploads by hand: monolithic, chunked across parts, streamed ----

head -c 3000 /dev/urandom >"$T/small"
D=$(push_blob up/a "$T/small")
same "a monolithic upload is stored" "$(s3_head "$(blob_key "$D")")" 200
"${SRV_CURL[@]}" -o "$T/got" "$R/v2/up/a/blobs/$D"
expect "and reads back byte-exact" cmp -s "$T/got" "$T/small"

# Three 3 MB chunks: the 5 MiB parts fill across chunk boundaries.
head -c 9000000 /dev/urandom >"$T/chunked"
D=$(sha256_of "$T/chunked")
http_status POST "$R/v2/up/a/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
for i in 0 1 2; do
	dd if="$T/chunked" of="$T/chunk" bs=3000000 skip=$i count=1 status=none
	st=$(http_status PATCH "$R$LOC" -H 'Content-Type: application/octet-stream' \
		-H "Content-Range: $((i * 3000000))-$((i * 3000000 + 2999999))" \
		--data-binary "@$T/chunk")
	[ "$st" = 202 ] || break
	LOC=$(last_header Location)
done
same "chunks are taken in order" "$st $(last_header Range)" "202 0-8999999"
same "a chunk out of order is refused" "$(http_status PATCH "$R$LOC" -H 'Content-Range: 5-9' --data-binary 12345)" 416
same "the chunked upload closes" "$(http_status PUT "$R$LOC?digest=$D")" 201
"${SRV_CURL[@]}" -o "$T/got" "$R/v2/up/a/blobs/$D"
expect "and reads back byte-exact" cmp -s "$T/got" "$T/chunked"

# 64 MiB streamed in one PATCH: held in memory one part at a time, so
# the peak grows by far less than the blob (by how much depends on how
# many parts the store has in flight, not on a fixed figure).
HWM0=$(awk '/^VmHWM/ {print $2}' "/proc/$SRV_PID/status")
head -c $((64 << 20)) /dev/urandom >"$T/big"
D=$(sha256_of "$T/big")
http_status POST "$R/v2/up/big/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
same "a 64 MiB stream is taken" "$(http_status PATCH "$R$LOC" -H 'Content-Type: application/octet-stream' -T "$T/big")" 202
same "and committed" "$(http_status PUT "$R$LOC?digest=$D")" 201
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$SRV_PID/status")
expect "berth serve never held the blob in memory (peak RSS ${HWM0} kB before, ${HWM} kB after)" \
	test $((HWM - HWM0)) -lt $((32 << 10))
"${SRV_CURL[@]}" -o "$T/got" "$R/v2/up/big/blobs/$D"
expect "the 64 MiB blob reads back byte-exact" cmp -s "$T/got" "$T/big"
BIGD=$D
same "a ranged GET answers 206" "$(http_status GET "$R/v2/up/big/blobs/$D" -H 'Range: bytes=60000000-60000099')" 206
expect "with the range's bytes" cmp -s "$T/.body" <(tail -c +60000001 "$T/big" | head -c 100)
same "with its Content-Range" "$(last_header Content-Range)" "bytes 60000000-60000099/67108864"

# ---- a digest mismatch is never linked ----

head -c 6000000 /dev/urandom >"$T/liar"
REAL=$(sha256_of "$T/liar")
LIE=sha256:$(printf 'not the content' | sha256sum | cut -d' ' -f1)
http_status POST "$R/v2/up/liar/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
http_status PATCH "$R$LOC" --data-binary "@$T/liar" >/dev/null
same "a PUT with the wrong digest is refused" "$(http_status PUT "$R$LOC?digest=$LIE")" 400
expect "as DIGEST_INVALID" grep -q DIGEST_INVALID "$T/.body"
same "no object has the claimed digest" "$(s3_head "$(blob_key "$LIE")")" 404
same "nor the real one" "$(s3_head "$(blob_key "$REAL")")" 404
same "the repository links neither" "$(http_status HEAD "$R/v2/up/liar/blobs/$LIE") $(http_status HEAD "$R/v2/up/liar/blobs/$REAL")" "404 404"
same "the refused upload is over" "$(http_status GET "$R$LOC")" 404
expect "and its session objects are gone" test -z "$(s3_keys "uploads/${LOC##*/}/")"

# ---- garbage collection on S3 ----

run sk delete --tls-verify=false "docker://$H/team/app:v2"
check "a manifest is deleted" 0
V2ONLY=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$T/img/blobs/sha256/${M2#sha256:}")
same "one of its blobs is in the bucket" "$(s3_head "$(blob_key "$V2ONLY")")" 200
gc_gone() {
	"${SRV_CURL[@]}" -o /dev/null -X POST "$R/admin/v1/gc" &&
		[ "$(s3_head "$(blob_key "$V2ONLY")")" = 404 ]
}
expect "garbage collection removes its unreferenced blob from the bucket" wait_for 120 gc_gone
same "and keeps the blobs still referenced" "$(s3_head "$(blob_key "$LAYER")")" 200
run sk copy --src-tls-verify=false "docker://$H/team/app:v1" "oci:$T/out2:v1"
check "the surviving tag still pulls" 0

# ---- the S3 service away for a while, then back ----

LAYERF=$T/img/blobs/sha256/$LAYER
s3_svc_stop
st=$(http_status GET "$R/v2/team/app/blobs/sha256:$LAYER")
expect "a blob GET fails while S3 is away ($st)" test "$st" = 500
expect "saying S3 cannot be reached" grep -q "cannot reach S3 at '$S3_ENDPOINT" "$T/serve.log"
head -c 4000 /dev/urandom >"$T/away"
st=$(http_status POST "$R/v2/up/a/blobs/uploads/?digest=$(sha256_of "$T/away")" --data-binary "@$T/away")
expect "a push fails too ($st)" test "$st" = 500
s3_svc_start
recovered() { [ "$(http_status GET "$R/v2/team/app/blobs/sha256:$LAYER")" = 200 ]; }
expect "berth serve recovers without a restart" wait_for 120 recovered
expect "the same process" kill -0 "$SRV_PID"
expect "the blob reads back byte-exact" cmp -s "$T/.body" "$LAYERF"
head -c 4000 /dev/urandom >"$T/after"
same "pushes work again" "$(http_status POST "$R/v2/up/a/blobs/uploads/?digest=$(sha256_of "$T/after")" --data-binary "@$T/after")" 201
serve_stop

# ---- redirects: the client fetches from S3 itself ----

AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY \
	serve_start --s3-bucket "$BUCKET" --s3-endpoint "$S3_ENDPOINT" \
	--s3-region "$S3_REGION" --s3-redirect ||
	{ fail "serve starts in redirect mode" "$(tail -n 5 "$T/serve.log")"; exit 1; }
R=$SRV_URL
H=$SRV_HOST
ok "credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
same "a blob GET answers 307" "$(http_status GET "$R/v2/team/app/blobs/sha256:$LAYER")" 307
case $(last_header Location) in
"$S3_ENDPOINT/$BUCKET/$(blob_key "$LAYER")?"*X-Amz-Signature=*) ok "to a presigned URL of the object" ;;
*) fail "to a presigned URL of the object" "$(last_header Location)" ;;
esac
"${SRV_CURL[@]}" -L -o "$T/got" "$R/v2/team/app/blobs/sha256:$LAYER"
expect "which the client follows to the bytes" cmp -s "$T/got" "$LAYERF"
"${SRV_CURL[@]}" -L -o "$T/got" -H 'Range: bytes=100-199' "$R/v2/team/app/blobs/sha256:$LAYER"
expect "a range too" cmp -s "$T/got" <(tail -c +101 "$LAYERF" | head -c 100)
MARK=$(wc -l <"$T/access.log")
run sk copy --src-tls-verify=false "docker://$H/team/app:v1" "oci:$T/out3:v1"
check "skopeo pulls through redirects" 0
run "$BERTH" --root "$T/store2" pull -q "$H/team/app:v1"
check "berth pulls through redirects" 0
serve_stop
expect "their blob GETs were answered with 307" \
	grep -qE '"GET /v2/team/app/blobs/sha256:[0-9a-f]+" 307 ' <(tail -n +"$((MARK + 1))" "$T/access.log")

# ---- the OCI conformance workflows of our own suite, on S3 ----

printf '{"s3-bucket": "%s", "s3-endpoint": "%s", "s3-region": "%s", "s3-prefix": "conformance", "s3-access-key": "%s", "s3-secret-key": "%s"}\n' \
	"$BUCKET" "$S3_ENDPOINT" "$S3_REGION" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$T/conf.json"
BERTH_SERVE_EXTRA="--config $T/conf.json" BERTH="$BERTH" bash tests/integration/t_serve_protocol.sh >"$T/protocol.out" 2>&1
PRC=$?
NOK=$(grep -c '^ok - ' "$T/protocol.out")
same "t_serve_protocol.sh passes on S3 ($NOK cases)" "$PRC $(grep -c '^not ok' "$T/protocol.out")" "0 0"
grep '^not ok' "$T/protocol.out" | head -n 5
expect "its blobs went to the bucket" test -n "$(s3_keys conformance/blobs/)"

# s3rver (npm's "s3rver", a small S3 server in Node.js) on 127.0.0.1 as
# a second S3 implementation for the S3 tests. Source it after lib.sh.
# scripts/install-deps.sh installs it (npm install -g s3rver); S3RVER
# names another copy.
#
#   s3rver_up               start it; sets S3_ENDPOINT S3_ACCESS_KEY
#                           S3_SECRET_KEY S3_REGION
#   s3rver_stop / s3rver_start   stop it (by its pid) and start it again

: "${S3RVER:=s3rver}"
S3_REGION=us-east-1
S3_ACCESS_KEY=S3RVER # s3rver's fixed credentials
S3_SECRET_KEY=S3RVER

s3rver_start() {
	bg "$S3RVER" -d "$T/s3rver" -a 127.0.0.1 -p "$S3RVER_PORT" \
		--no-vhost-buckets >>"$T/s3rver.log" 2>&1
	S3RVER_PID=$BG_PID
	wait_for 120 curl -s -o /dev/null "$S3_ENDPOINT/" || {
		echo "s3rver did not start: $(tail -n 5 "$T/s3rver.log")" >&2
		return 1
	}
}

s3rver_up() {
	command -v "$S3RVER" >/dev/null || {
		echo "s3rver is not installed (scripts/install-deps.sh)" >&2
		return 1
	}
	mkdir -p "$T/s3rver"
	S3RVER_PORT=$(free_port)
	S3_ENDPOINT=http://127.0.0.1:$S3RVER_PORT
	s3rver_start
}

s3rver_stop() {
	kill -TERM "$S3RVER_PID" 2>/dev/null
	wait "$S3RVER_PID" 2>/dev/null
	wait_for 120 bash -c "! curl -s -o /dev/null '$S3_ENDPOINT/'"
}

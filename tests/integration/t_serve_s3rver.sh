#!/usr/bin/env bash
# The cases of t_serve_s3.sh against a second S3 implementation, s3rver
# (npm), so that berth serve does not depend on one server's quirks.
# timeout: 1800
. tests/integration/lib.sh
. tests/integration/serve_lib.sh
. tests/integration/s3rver_lib.sh

s3rver_up || { fail "s3rver starts" "see $T/s3rver.log"; exit 1; }
s3_svc_stop() { s3rver_stop; }
s3_svc_start() { s3rver_start; }
. tests/integration/s3_cases.sh
done_testing

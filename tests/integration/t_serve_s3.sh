#!/usr/bin/env bash
# berth serve with its blobs in a real Ceph RADOS Gateway (single node on
# 127.0.0.1, memstore OSD): skopeo, berth and podman push and pull;
# monolithic, chunked and streamed uploads; ranged GETs, mounts,
# redirects, a digest mismatch, garbage collection, the gateway stopped
# and started again, and the OCI protocol script on the bucket.
# timeout: 1800
. tests/integration/lib.sh
. tests/integration/serve_lib.sh
. tests/integration/ceph_lib.sh

ceph_up || { fail "Ceph RADOS Gateway starts" "see $CEPH_DIR/log"; exit 1; }
s3_svc_stop() { rgw_stop; }
s3_svc_start() { rgw_start; }
. tests/integration/s3_cases.sh
done_testing

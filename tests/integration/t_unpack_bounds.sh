#!/usr/bin/env bash
# berth unpack on the hostile layers of the corpus that test bounds and
# broken input (tests/tools/layer_corpus.py, group "bounds": gzip and zstd
# bombs, a tar of many entries, garbage, a wrong diff ID, a truncated layer,
# a NUL byte in a name, names over PATH_MAX and NAME_MAX), pushed by skopeo
# to docker-registry and pulled by berth; t_unpack_hostile.sh runs the path
# attacks. Each is refused with its exit status and one message and hint,
# leaving no DIR, or unpacked with the attack neutralised; in both resolve
# modes, nothing is ever written outside DIR in the canary around it.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/docker_lib.sh
. tests/integration/unpack_lib.sh

corpus_setup hostile

hostile_group bounds

done_testing

#!/usr/bin/env bash
# berth unpack on the hostile layers of the corpus that attack paths
# (tests/tools/layer_corpus.py, group "paths": "..", absolute names, links
# to "/" and ".." written through, hard links out, a link swapped for a
# directory between entries, whiteouts naming ../x or through links, link
# loops), pushed by skopeo to docker-registry and pulled by berth;
# t_unpack_bounds.sh runs the rest. Each is refused with its exit status and
# one message and hint, leaving no DIR, or unpacked with the attack
# neutralised; in both resolve modes, nothing is ever written outside DIR in
# the canary directory around it.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/docker_lib.sh
. tests/integration/unpack_lib.sh

corpus_setup hostile

hostile_group paths

done_testing

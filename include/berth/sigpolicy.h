/*
 * The containers policy.json format (containers-policy.json(5), what
 * podman and skopeo read from /etc/containers/policy.json), for pulls:
 * "default" and "transports" → "docker" → scope → requirements, with the
 * requirement types insecureAcceptAnything, reject and sigstoreSigned
 * (keyPath, keyPaths, keyData, keyDatas; signedIdentity
 * matchRepoDigestOrExact, matchRepository, matchExact, exactReference,
 * exactRepository). A scope's requirements must all hold. signedBy (GPG)
 * is read, and refuses what it applies to: berth has no GPG.
 */
#ifndef BERTH_SIGPOLICY_H
#define BERTH_SIGPOLICY_H

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/ref.h"
#include "berth/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_sigpolicy berth_sigpolicy;

/* The file podman and skopeo read. */
#define BERTH_SIGPOLICY_DEFAULT_PATH "/etc/containers/policy.json"

/*
 * Parses a policy; `path` names it in messages (and every refusal). Keys
 * are read now: a missing key file or a malformed policy is BERTH_EUSAGE
 * naming the file and the scope.
 */
BERTH_EXTERN int berth_sigpolicy_parse(berth_sigpolicy **out, const char *json,
				       size_t len, const char *path,
				       berth_error **err);

/* berth_sigpolicy_parse of the file at `path`. */
BERTH_EXTERN int berth_sigpolicy_load(berth_sigpolicy **out, const char *path,
				      berth_error **err);

/* A policy that accepts anything (no file), for berth_sigpolicy_require_key. */
BERTH_EXTERN berth_sigpolicy *berth_sigpolicy_new_accept(void);

/*
 * Adds a check made for every image besides the file's: a sigstoreSigned
 * requirement with the public key `pem` (from `what`) and signedIdentity
 * matchRepository (cosign's payload names the repository): berth pull
 * --verify-key.
 */
BERTH_EXTERN int berth_sigpolicy_require_key(berth_sigpolicy *p,
					     const char *pem, size_t len,
					     const char *what,
					     berth_error **err);

BERTH_EXTERN void berth_sigpolicy_free(berth_sigpolicy *p);

static inline void
berth_sigpolicy_freep(berth_sigpolicy **p)
{
	berth_sigpolicy_free(*p);
	*p = NULL;
}

/*
 * Does the policy let `ref` (whose top-level manifest is `digest`, served
 * by `reg`) in? 0, or BERTH_EDENIED (reject, signedBy) or
 * BERTH_ESIGNATURE (no signature satisfies a sigstoreSigned requirement)
 * with a message naming the scope and the policy file.
 */
BERTH_EXTERN int berth_sigpolicy_check(const berth_sigpolicy *p,
				       berth_registry *reg,
				       const berth_ref *ref,
				       const berth_digest *digest,
				       berth_error **err);

#ifdef __cplusplus
}
#endif
#endif

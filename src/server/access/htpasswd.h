/*
 * htpasswd files with bcrypt entries ("user:$2y$..."), the format
 * `htpasswd -B` writes and distribution reads. Checks go through crypt_r
 * (libxcrypt); successful checks are remembered by a hash of the
 * credentials so a busy client does not pay bcrypt on every request.
 */
#ifndef BERTH_SERVER_ACCESS_HTPASSWD_H
#define BERTH_SERVER_ACCESS_HTPASSWD_H

#include "berth/common.h"

typedef struct berth_htpasswd berth_htpasswd;

/*
 * Loads a file. Lines that are empty or start with '#' are skipped; an
 * entry that is not bcrypt is an error (BERTH_EUNSUPPORTED), as is a file
 * without any entry.
 */
int berth_htpasswd_load(berth_htpasswd **out, const char *path,
			berth_error **err);

/*
 * 0 when user/pass match an entry, else BERTH_EAUTH. Thread-safe. Costs
 * one bcrypt unless the credentials were good recently; an unknown user
 * costs one bcrypt too (of the file's highest cost), so a wrong user name
 * takes as long as a wrong password.
 */
int berth_htpasswd_check(berth_htpasswd *h, const char *user, const char *pass,
			 berth_error **err);

/* True when user/pass passed a check recently (no bcrypt is run). */
bool berth_htpasswd_check_cached(berth_htpasswd *h, const char *user,
				 const char *pass);

/* How many bcrypt computations checks ran (for the tests). */
unsigned long berth_htpasswd_bcrypt_runs(berth_htpasswd *h);

/* True when the file has an entry for user. */
bool berth_htpasswd_has_user(const berth_htpasswd *h, const char *user);

#define BERTH_HTPASSWD_FP_LEN 16

/*
 * A short fingerprint of user's entry (hex of a SHA-256 of the user and
 * the bcrypt hash), into out (BERTH_HTPASSWD_FP_LEN + 1 bytes). Tokens
 * carry it, so a changed password or a removed user invalidates them.
 * False when the file has no entry for user.
 */
bool berth_htpasswd_fingerprint(const berth_htpasswd *h, const char *user,
				char *out);

/* One more owner of h, which berth_htpasswd_free then releases. */
berth_htpasswd *berth_htpasswd_ref(berth_htpasswd *h);
/* Drops one owner; the last frees. */
void berth_htpasswd_free(berth_htpasswd *h);

#endif

#include "test.h"

#include "berth/digest.h"
#include "util/error.h"

#define EMPTY256                                                               \
	"sha256:"                                                              \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC256                                                                 \
	"sha256:"                                                              \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC512                                                                 \
	"sha512:"                                                              \
	"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d3"       \
	"9a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

TEST(of)
{
	berth_digest d;

	berth_digest_of(&d, BERTH_DIGEST_SHA256, "", 0);
	CHECK_STR(d.str, EMPTY256);
	CHECK(d.alg == BERTH_DIGEST_SHA256, "alg %d", d.alg);
	berth_digest_of(&d, BERTH_DIGEST_SHA256, "abc", 3);
	CHECK_STR(d.str, ABC256);
	CHECK_STR(berth_digest_hex(&d), &ABC256[7]);
	berth_digest_of(&d, BERTH_DIGEST_SHA512, "abc", 3);
	CHECK_STR(d.str, ABC512);
	CHECK(d.alg == BERTH_DIGEST_SHA512, "alg %d", d.alg);
	CHECK_STR(berth_digest_alg_name(BERTH_DIGEST_SHA256), "sha256");
	CHECK_STR(berth_digest_alg_name(BERTH_DIGEST_SHA512), "sha512");
}

TEST(hasher)
{
	berth_hasher *h = berth_hasher_new(BERTH_DIGEST_SHA256);
	berth_digest d, one;
	static char big[100000];

	berth_hasher_update(h, "a", 1);
	berth_hasher_update(h, "", 0);
	berth_hasher_update(h, "bc", 2);
	berth_hasher_final(&d, h);
	CHECK_STR(d.str, ABC256);

	berth_hasher_reset(h);
	berth_hasher_final(&d, h);
	CHECK_STR(d.str, EMPTY256);

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	berth_hasher_reset(h);
	for (size_t off = 0; off < sizeof(big); off += 999)
		berth_hasher_update(h, big + off,
				    sizeof(big) - off < 999 ? sizeof(big) - off
							    : 999);
	berth_hasher_final(&d, h);
	berth_digest_of(&one, BERTH_DIGEST_SHA256, big, sizeof(big));
	CHECK_STR(d.str, one.str);
	berth_hasher_free(h);

	h = berth_hasher_new(BERTH_DIGEST_SHA512);
	berth_hasher_update(h, "ab", 2);
	berth_hasher_update(h, "c", 1);
	berth_hasher_final(&d, h);
	CHECK_STR(d.str, ABC512);
	berth_hasher_free(h);
	berth_hasher_free(NULL);
}

TEST(parse_ok)
{
	berth_digest d;
	berth_error *err = NULL;

	CHECK(berth_digest_parse(&d, ABC256, &err) == 0, "parse sha256");
	CHECK_STR(d.str, ABC256);
	CHECK(d.alg == BERTH_DIGEST_SHA256, "alg");
	CHECK(berth_digest_parse(&d, ABC512, &err) == 0, "parse sha512");
	CHECK(d.alg == BERTH_DIGEST_SHA512, "alg");
	CHECK_STR(berth_digest_hex(&d), &ABC512[7]);
	CHECK(err == NULL, "no error set on success");
	CHECK(berth_digest_valid(ABC256), "valid");
	CHECK(berth_digest_valid(ABC512), "valid");
	CHECK(!berth_digest_valid(NULL), "NULL is not valid");
}

TEST(parse_bad)
{
	static const struct {
		const char *in;
		const char *msg;
	} cases[] = {
		{"", "invalid digest '': digest is empty"},
		{"xyz",
		 "invalid digest 'xyz': expected 'sha256:' or 'sha512:'"},
		{"sha256:abc",
		 "invalid digest 'sha256:abc': expected 64 lowercase hex"},
		{"sha256:"
		 "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F2001"
		 "5AD",
		 "expected 64 lowercase hex digits after 'sha256:'"},
		{"sha256:"
		 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001"
		 "5adaa",
		 "expected 64"},
		{"sha256:"
		 "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001"
		 "5ad",
		 "expected 64"},
		{"sha256:", "expected 64"},
		{"sha512:"
		 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001"
		 "5ad",
		 "expected 128 lowercase hex digits after 'sha512:'"},
		{"md5:d41d8cd98f00b204e9800998ecf8427e",
		 "algorithm 'md5' is not supported"},
		{"SHA256:"
		 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001"
		 "5ad",
		 "algorithm 'SHA256' is not supported"},
		{" sha256:"
		 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001"
		 "5ad",
		 "is not supported"},
		{"sha256:"
		 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001"
		 "5a\n",
		 "expected 64"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		berth_digest d;
		berth_error *err = NULL;
		int r = berth_digest_parse(&d, cases[i].in, &err);

		CHECK(r == BERTH_EPROTO, "'%s': code %d", cases[i].in, r);
		CHECK(!berth_digest_valid(cases[i].in), "'%s' valid",
		      cases[i].in);
		CHECK(err && err->code == BERTH_EPROTO, "'%s': err code",
		      cases[i].in);
		CHECK(err && strstr(err->msg, cases[i].msg), "'%s': msg '%s'",
		      cases[i].in, err ? err->msg : "(none)");
		CHECK(err && !strchr(err->msg, '\n'), "one-line message");
		berth_error_free(err);
	}
	/* NULL err is allowed: the code alone comes back */
	{
		berth_digest d;

		CHECK(berth_digest_parse(&d, "nope", NULL) == BERTH_EPROTO,
		      "NULL err");
	}
}

TEST_MAIN("test_digest")

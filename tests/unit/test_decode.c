/*
 * unpack/decode.c: layer bytes (gzip, zstd, tar) from a file or a pipe into
 * tar bytes, both digests, the output bound and the one-line errors.
 */
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <zlib.h>
#include <zstd.h>

#include "berth/digest.h"
#include "unpack/decode.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef struct {
	uint8_t *p;
	size_t len;
} bytes;

static void
bytes_add(bytes *b, const void *p, size_t n)
{
	b->p = xrealloc(b->p, b->len + n + 1);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Half text, half noise: compresses, but not to nothing. */
static bytes
sample(size_t n, uint32_t seed)
{
	bytes b = {xmalloc(n + 1), n};
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b.p[i] = (i / 4096) % 2 ? (uint8_t)(x >> 24)
					: (uint8_t) "layer tar bytes "[i % 16];
	}
	return b;
}

/* One gzip member of p (zlib); with a file name in the header when named. */
static void
gzip_member(bytes *out, const void *p, size_t n, bool named)
{
	z_stream z = {0};
	gz_header h = {0};
	size_t cap;
	uint8_t *buf;

	CHECK(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) ==
		      Z_OK,
	      "deflateInit2");
	cap = deflateBound(&z, n) + 64;
	buf = xmalloc(cap);
	if (named) {
		h.name = (Bytef *)"layer.tar";
		h.comment = (Bytef *)"made by the test";
		deflateSetHeader(&z, &h);
	}
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
	bytes_add(out, buf, cap - z.avail_out);
	deflateEnd(&z);
	free(buf);
}

static void
zstd_frame(bytes *out, const void *p, size_t n)
{
	size_t cap = ZSTD_compressBound(n);
	uint8_t *buf = xmalloc(cap);
	size_t r = ZSTD_compress(buf, cap, p, n, 3);

	CHECK(!ZSTD_isError(r), "ZSTD_compress");
	bytes_add(out, buf, r);
	free(buf);
}

typedef struct {
	int fd;
	const bytes *in;
	bool keep_open; /* write everything, then wait, never EOF */
	int done_fd;
} writer_arg;

static void *
writer(void *arg)
{
	writer_arg *w = arg;
	size_t off = 0;

	/* Small writes, so the decoder sees short reads. */
	while (off < w->in->len) {
		size_t n = w->in->len - off < 7000 ? w->in->len - off : 7000;
		ssize_t r = write(w->fd, w->in->p + off, n);

		if (r <= 0)
			break;
		off += (size_t)r;
	}
	if (w->keep_open) {
		char c;

		/* Until the test says so: the read end sees no EOF. */
		if (read(w->done_fd, &c, 1) < 0)
			perror("read");
	}
	close(w->fd);
	return NULL;
}

typedef struct {
	int rc;
	bytes out;
	berth_digest digest, diff_id;
	berth_error *err;
	int64_t total_out;
} result;

/* Decodes `in` whole, from a file or through a pipe. */
static result
decode(const bytes *in, berth_layer_compression c, int64_t max_out,
       bool pipe_it)
{
	result res = {0};
	berth_layer_decoder *d = NULL;
	pthread_t th;
	writer_arg w = {0};
	int fd;

	if (pipe_it) {
		int p[2];

		/* A decoder that fails early leaves the writer an EPIPE. */
		signal(SIGPIPE, SIG_IGN);
		if (pipe(p) < 0)
			abort();
		w.fd = p[1];
		w.in = in;
		pthread_create(&th, NULL, writer, &w);
		fd = p[0];
	} else {
		char tmpl[] = "/tmp/berth-decode-test-XXXXXX";

		fd = mkstemp(tmpl);
		unlink(tmpl);
		if (fd < 0 || write(fd, in->p, in->len) != (ssize_t)in->len ||
		    lseek(fd, 0, SEEK_SET) != 0)
			abort();
	}
	res.rc = berth_layer_decoder_new(&d, fd, c, true, max_out, &res.err);
	while (res.rc == 0) {
		const void *p;
		ssize_t n = berth_layer_decoder_read(d, &p, &res.err);

		if (n <= 0) {
			res.rc = (int)n;
			break;
		}
		bytes_add(&res.out, p, (size_t)n);
	}
	if (d) {
		berth_layer_decoder_digests(d, &res.digest, &res.diff_id);
		res.total_out = berth_layer_decoder_total_out(d);
	}
	berth_layer_decoder_free(d);
	close(fd);
	if (pipe_it)
		pthread_join(th, NULL);
	return res;
}

static void
result_release(result *r)
{
	free(r->out.p);
	berth_error_free(r->err);
}

/* Decodes and checks output and both digests. */
static void
check_ok(const bytes *in, berth_layer_compression c, const bytes *want,
	 bool pipe_it)
{
	result r = decode(in, c, 0, pipe_it);
	berth_digest dg, di;

	berth_digest_of(&dg, BERTH_DIGEST_SHA256, in->p, in->len);
	berth_digest_of(&di, BERTH_DIGEST_SHA256, want->p, want->len);
	CHECK(r.rc == 0, "rc %d: %s", r.rc, r.err ? r.err->msg : "");
	CHECK(r.out.len == want->len, "%zu bytes, want %zu", r.out.len,
	      want->len);
	CHECK(r.out.len == want->len &&
		      (want->len == 0 ||
		       memcmp(r.out.p, want->p, want->len) == 0),
	      "output differs");
	CHECK(r.total_out == (int64_t)want->len, "total_out %lld",
	      (long long)r.total_out);
	CHECK_STR(r.digest.str, dg.str);
	CHECK_STR(r.diff_id.str, di.str);
	result_release(&r);
}

/* Decoding fails with `code` and a one-line message containing `part`. */
static void
check_fails(const bytes *in, berth_layer_compression c, int64_t max_out,
	    int code, const char *part)
{
	for (int pipe_it = 0; pipe_it < 2; pipe_it++) {
		result r = decode(in, c, max_out, pipe_it);
		const char *msg = r.err ? r.err->msg : "";

		CHECK(r.rc == code, "rc %d, want %d (%s)", r.rc, code, msg);
		CHECK(strstr(msg, part) != NULL, "'%s' lacks '%s'", msg, part);
		CHECK(strchr(msg, '\n') == NULL, "'%s' is one line", msg);
		CHECK(r.diff_id.str[0] == '\0', "no diff ID after a failure");
		result_release(&r);
	}
}

TEST(gzip_single_member)
{
	bytes data = sample(3 << 20, 1), gz = {0};

	gzip_member(&gz, data.p, data.len, true);
	check_ok(&gz, BERTH_LAYER_GZIP, &data, false);
	check_ok(&gz, BERTH_LAYER_GZIP, &data, true);
	free(data.p);
	free(gz.p);
}

TEST(gzip_multi_member)
{
	bytes a = sample(1500000, 2), b = sample(10, 3), c = sample(2 << 20, 4);
	bytes gz = {0}, all = {0};

	/* As pigz or `cat a.gz b.gz` write: an empty member too. */
	gzip_member(&gz, a.p, a.len, false);
	gzip_member(&gz, "", 0, true);
	gzip_member(&gz, b.p, b.len, false);
	gzip_member(&gz, c.p, c.len, true);
	bytes_add(&all, a.p, a.len);
	bytes_add(&all, b.p, b.len);
	bytes_add(&all, c.p, c.len);
	check_ok(&gz, BERTH_LAYER_GZIP, &all, false);
	check_ok(&gz, BERTH_LAYER_GZIP, &all, true);
	free(a.p);
	free(b.p);
	free(c.p);
	free(gz.p);
	free(all.p);
}

TEST(zstd_multi_frame)
{
	bytes a = sample(2 << 20, 5), b = sample(777, 6), zs = {0}, all = {0};
	/* A skippable frame (magic 0x184D2A50, 4 bytes of payload). */
	static const uint8_t skip[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0,
				       0,    0,	   1,	 2,    3, 4};

	zstd_frame(&zs, a.p, a.len);
	bytes_add(&zs, skip, sizeof(skip));
	zstd_frame(&zs, b.p, b.len);
	bytes_add(&all, a.p, a.len);
	bytes_add(&all, b.p, b.len);
	check_ok(&zs, BERTH_LAYER_ZSTD, &all, false);
	check_ok(&zs, BERTH_LAYER_ZSTD, &all, true);
	free(a.p);
	free(b.p);
	free(zs.p);
	free(all.p);
}

TEST(plain_passthrough)
{
	bytes data = sample((3 << 20) + 5, 7), empty = {xmalloc(1), 0};

	check_ok(&data, BERTH_LAYER_PLAIN, &data, false);
	check_ok(&data, BERTH_LAYER_PLAIN, &data, true);
	check_ok(&empty, BERTH_LAYER_PLAIN, &empty, true);
	free(data.p);
	free(empty.p);
}

TEST(gzip_truncated)
{
	bytes data = sample(1 << 20, 8), gz = {0};
	/* Inside the header, the deflate data and the trailer. */
	size_t cuts[3];

	gzip_member(&gz, data.p, data.len, false);
	cuts[0] = 5;
	cuts[1] = gz.len / 2;
	cuts[2] = gz.len - 3;
	for (size_t i = 0; i < 3; i++) {
		bytes t = {gz.p, cuts[i]};

		check_fails(&t, BERTH_LAYER_GZIP, 0, BERTH_EPROTO,
			    "gzip layer is truncated: it ends inside member 1");
	}
	{
		bytes none = {gz.p, 0};

		check_fails(&none, BERTH_LAYER_GZIP, 0, BERTH_EPROTO,
			    "gzip layer is empty");
	}
	free(data.p);
	free(gz.p);
}

/* A frame that ends exactly where an output block does is complete, not
 * cut short. */
TEST(zstd_frame_ends_at_block)
{
	bytes data = sample(5 << 20, 24), zs = {0};

	zstd_frame(&zs, data.p, data.len);
	check_ok(&zs, BERTH_LAYER_ZSTD, &data, false);
	check_ok(&zs, BERTH_LAYER_ZSTD, &data, true);
	free(data.p);
	free(zs.p);
}

TEST(zstd_truncated)
{
	bytes data = sample(1 << 20, 9), zs = {0};
	bytes t;

	zstd_frame(&zs, data.p, data.len);
	t = (bytes){zs.p, zs.len - 10};
	check_fails(&t, BERTH_LAYER_ZSTD, 0, BERTH_EPROTO,
		    "zstd layer is truncated: it ends inside a frame");
	t = (bytes){zs.p, 0};
	check_fails(&t, BERTH_LAYER_ZSTD, 0, BERTH_EPROTO,
		    "zstd layer is empty");
	free(data.p);
	free(zs.p);
}

TEST(trailing_garbage)
{
	bytes data = sample(100000, 10), gz = {0}, zs = {0}, one = {0};

	gzip_member(&gz, data.p, data.len, false);
	bytes_add(&gz, "garbage after the stream", 24);
	check_fails(&gz, BERTH_LAYER_GZIP, 0, BERTH_EPROTO,
		    "unexpected data after the end of the gzip stream (after "
		    "member 1)");
	/* A single stray byte, too short for a header. */
	gzip_member(&one, data.p, data.len, false);
	bytes_add(&one, "\0", 1);
	check_fails(&one, BERTH_LAYER_GZIP, 0, BERTH_EPROTO,
		    "unexpected data after the end of the gzip stream");
	zstd_frame(&zs, data.p, data.len);
	bytes_add(&zs, "garbage after the frame", 23);
	check_fails(&zs, BERTH_LAYER_ZSTD, 0, BERTH_EPROTO,
		    "zstd layer is corrupt: ");
	free(data.p);
	free(gz.p);
	free(zs.p);
	free(one.p);
}

TEST(gzip_corrupt_crc_and_length)
{
	bytes data = sample(200000, 11), gz = {0}, two = {0};

	gzip_member(&gz, data.p, data.len, false);
	gz.p[gz.len - 8] ^= 0x55; /* the CRC */
	check_fails(&gz, BERTH_LAYER_GZIP, 0, BERTH_EPROTO,
		    "gzip member 1 does not match its CRC or length: the "
		    "layer is corrupt");
	gz.p[gz.len - 8] ^= 0x55;
	gz.p[gz.len - 2] ^= 0x01; /* the length */
	check_fails(&gz, BERTH_LAYER_GZIP, 0, BERTH_EPROTO,
		    "gzip member 1 does not match its CRC or length");
	gz.p[gz.len - 2] ^= 0x01;
	/* The second member's CRC. */
	bytes_add(&two, gz.p, gz.len);
	bytes_add(&two, gz.p, gz.len);
	two.p[two.len - 6] ^= 0x80;
	check_fails(&two, BERTH_LAYER_GZIP, 0, BERTH_EPROTO,
		    "gzip member 2 does not match its CRC");
	/* Not gzip at all. */
	check_fails(&data, BERTH_LAYER_GZIP, 0, BERTH_EPROTO,
		    "layer is not gzip data: invalid header");
	free(data.p);
	free(gz.p);
	free(two.p);
}

TEST(bound_exceeded)
{
	bytes data = sample(3 << 20, 12), gz = {0}, zs = {0};

	gzip_member(&gz, data.p, data.len, false);
	zstd_frame(&zs, data.p, data.len);
	check_fails(&gz, BERTH_LAYER_GZIP, (int64_t)data.len - 1, BERTH_ETOOBIG,
		    "layer unpacks to more than 3145727 bytes, the limit of "
		    "--max-unpacked-size");
	check_fails(&zs, BERTH_LAYER_ZSTD, 1000, BERTH_ETOOBIG,
		    "layer unpacks to more than 1000 bytes");
	check_fails(&data, BERTH_LAYER_PLAIN, 1 << 20, BERTH_ETOOBIG,
		    "layer unpacks to more than 1048576 bytes");
	{
		/* Exactly at the bound is fine, and the hint names the
		 * option. */
		result r =
			decode(&gz, BERTH_LAYER_GZIP, (int64_t)data.len, false);

		CHECK(r.rc == 0, "at the bound: %d", r.rc);
		result_release(&r);
		r = decode(&gz, BERTH_LAYER_GZIP, 10, true);
		CHECK(r.err && r.err->hint &&
			      strstr(r.err->hint, "--max-unpacked-size"),
		      "hint '%s'",
		      r.err && r.err->hint ? r.err->hint : "(none)");
		result_release(&r);
	}
	free(data.p);
	free(gz.p);
	free(zs.p);
}

TEST(errors_repeat)
{
	bytes data = sample(1000, 13), gz = {0};
	berth_layer_decoder *d = NULL;
	berth_error *e = NULL;
	const void *p;
	char tmpl[] = "/tmp/berth-decode-test-XXXXXX";
	int fd = mkstemp(tmpl);

	gzip_member(&gz, data.p, data.len, false);
	unlink(tmpl);
	CHECK(write(fd, gz.p, gz.len - 1) == (ssize_t)gz.len - 1, "write");
	lseek(fd, 0, SEEK_SET);
	CHECK(berth_layer_decoder_new(&d, fd, BERTH_LAYER_GZIP, false, 0,
				      NULL) == 0,
	      "new");
	while (berth_layer_decoder_read(d, &p, NULL) > 0)
		;
	CHECK(berth_layer_decoder_read(d, &p, &e) == BERTH_EPROTO,
	      "the error again");
	CHECK(e && strstr(e->msg, "truncated"), "message again");
	berth_error_free(e);
	berth_layer_decoder_free(d);
	close(fd);
	free(data.p);
	free(gz.p);
}

/* A consumer that stops early (its apply failed) frees the decoder while
 * the pipe stays open with nothing more coming: the free returns. */
TEST(free_while_waiting_on_pipe)
{
	bytes data = sample(4 << 20, 14);
	writer_arg w = {0};
	berth_layer_decoder *d = NULL;
	pthread_t th;
	int p[2], done[2];
	const void *buf;

	signal(SIGPIPE, SIG_IGN);
	CHECK(pipe(p) == 0 && pipe(done) == 0, "pipes");
	w = (writer_arg){p[1], &data, true, done[0]};
	pthread_create(&th, NULL, writer, &w);
	CHECK(berth_layer_decoder_new(&d, p[0], BERTH_LAYER_PLAIN, false, 0,
				      NULL) == 0,
	      "new");
	CHECK(berth_layer_decoder_read(d, &buf, NULL) > 0, "one block");
	berth_layer_decoder_free(d);
	close(p[0]);
	CHECK(write(done[1], "x", 1) == 1, "release the writer");
	pthread_join(th, NULL);
	close(done[0]);
	close(done[1]);
	free(data.p);
}

/* A download's sink: small writes into a feed, then its end or abort. */
typedef struct {
	berth_feed *f;
	const bytes *in;
	bool abort_it;
	int rc;
} feed_writer_arg;

static void *
feed_writer(void *arg)
{
	feed_writer_arg *w = arg;

	for (size_t off = 0; off < w->in->len && w->rc == 0; off += 7000) {
		size_t n = w->in->len - off < 7000 ? w->in->len - off : 7000;

		w->rc = berth_feed_write(w->f, w->in->p + off, n);
	}
	if (w->rc == 0)
		w->rc = berth_feed_flush(w->f);
	if (w->abort_it)
		berth_feed_abort(w->f);
	else
		berth_feed_end(w->f);
	return NULL;
}

/* Decodes `in` read from a feed its writer thread fills. */
static result
decode_feed(const bytes *in, berth_layer_compression c, bool abort_it,
	    int *writer_rc)
{
	result res = {0};
	berth_feed *f = berth_feed_new();
	berth_layer_decoder *d = NULL;
	feed_writer_arg w = {f, in, abort_it, 0};
	pthread_t th;

	pthread_create(&th, NULL, feed_writer, &w);
	res.rc = berth_layer_decoder_new_feed(&d, f, c, 0, &res.err);
	while (res.rc == 0) {
		const void *p;
		ssize_t n = berth_layer_decoder_read(d, &p, &res.err);

		if (n <= 0) {
			res.rc = (int)n;
			break;
		}
		bytes_add(&res.out, p, (size_t)n);
	}
	if (d)
		berth_layer_decoder_digests(d, NULL, &res.diff_id);
	/* A decoder that failed leaves its writer waiting: as the applier
	 * does, shut the feed. */
	if (res.rc < 0)
		berth_feed_shut(f);
	berth_layer_decoder_free(d);
	pthread_join(th, NULL);
	*writer_rc = w.rc;
	berth_feed_free(f);
	return res;
}

TEST(feed_each_compression)
{
	bytes data = sample(5 << 20, 21), gz = {0}, zs = {0};
	const struct {
		berth_layer_compression c;
		const bytes *in;
	} cases[] = {{BERTH_LAYER_GZIP, &gz},
		     {BERTH_LAYER_ZSTD, &zs},
		     {BERTH_LAYER_PLAIN, &data}};
	berth_digest di;

	gzip_member(&gz, data.p, data.len / 2, false);
	gzip_member(&gz, data.p + data.len / 2, data.len - data.len / 2, false);
	zstd_frame(&zs, data.p, data.len);
	berth_digest_of(&di, BERTH_DIGEST_SHA256, data.p, data.len);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		int wrc = -2;
		result r = decode_feed(cases[i].in, cases[i].c, false, &wrc);

		CHECK(r.rc == 0, "%s: rc %d: %s",
		      berth_layer_compression_name(cases[i].c), r.rc,
		      r.err ? r.err->msg : "");
		CHECK(wrc == 0, "the writer succeeded");
		CHECK(r.out.len == data.len &&
			      memcmp(r.out.p, data.p, data.len) == 0,
		      "%s: output differs",
		      berth_layer_compression_name(cases[i].c));
		CHECK(strcmp(r.diff_id.str, di.str) == 0, "%s: diff ID '%s'",
		      berth_layer_compression_name(cases[i].c), r.diff_id.str);
		result_release(&r);
	}
	free(data.p);
	free(gz.p);
	free(zs.p);
}

/* A download that fails aborts the feed: the decoder stops, with no diff
 * ID, instead of taking what came for the whole layer. */
TEST(feed_abort_stops_decoder)
{
	bytes data = sample(3 << 20, 22);
	int wrc = -2;
	result r = decode_feed(&data, BERTH_LAYER_PLAIN, true, &wrc);

	CHECK(r.rc == BERTH_EINTERRUPTED, "rc %d", r.rc);
	CHECK(r.diff_id.str[0] == '\0', "no diff ID");
	result_release(&r);
	free(data.p);
}

/* A decoder that fails (corrupt gzip) and a shut feed: the writer's next
 * write fails instead of waiting for room forever. */
TEST(feed_shut_fails_writer)
{
	bytes data = sample(8 << 20, 23);
	int wrc = 0;
	result r;

	memcpy(data.p, "not gzip", 8);
	r = decode_feed(&data, BERTH_LAYER_GZIP, false, &wrc);
	CHECK(r.rc == BERTH_EPROTO, "rc %d", r.rc);
	CHECK(wrc == -1, "the writer failed: %d", wrc);
	result_release(&r);
	free(data.p);
}

TEST(media_types)
{
	static const struct {
		const char *type;
		berth_layer_compression c;
		bool foreign;
	} ok[] = {
		{"application/vnd.oci.image.layer.v1.tar", BERTH_LAYER_PLAIN,
		 false},
		{"application/vnd.oci.image.layer.v1.tar+gzip",
		 BERTH_LAYER_GZIP, false},
		{"application/vnd.oci.image.layer.v1.tar+zstd",
		 BERTH_LAYER_ZSTD, false},
		{"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		 BERTH_LAYER_GZIP, true},
		{"application/vnd.docker.image.rootfs.diff.tar.gzip",
		 BERTH_LAYER_GZIP, false},
		{"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		 BERTH_LAYER_GZIP, true},
	};
	berth_layer_compression c;
	berth_error *e = NULL;
	bool foreign;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK(berth_layer_media_type(&c, &foreign, ok[i].type, NULL) ==
				      0 &&
			      c == ok[i].c && foreign == ok[i].foreign,
		      "%s", ok[i].type);
	}
	CHECK(berth_layer_media_type(&c, NULL,
				     "application/vnd.oci.image.config.v1+json",
				     &e) == BERTH_EUNSUPPORTED,
	      "a config is no layer");
	CHECK_STR(e ? e->msg : NULL,
		  "layer media type 'application/vnd.oci.image.config.v1+json' "
		  "is not supported");
	berth_error_free(e);
}

TEST_MAIN("test_decode")

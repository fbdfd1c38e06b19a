/* Foreign layers of berth pull: see pull_foreign.h. */
#include "pull_foreign.h"

#include <string.h>
#include <strings.h>

#include "http/http.h"
#include "unpack/decode.h"
#include "util/cleanup.h"
#include "util/error.h"

bool
pull_foreign_has_urls(const berth_descriptor *d)
{
	berth_layer_compression c;
	bool foreign = false;

	return d->urls && d->urls[0] &&
	       berth_layer_media_type(&c, &foreign, d->media_type, NULL) == 0 &&
	       foreign;
}

int
pull_foreign_refuse(const berth_descriptor *d, const char *host,
		    berth_error **err)
{
	berth_error_set(err, BERTH_EUNSUPPORTED, 0,
			"layer '%s' is non-distributable (foreign, '%s'): "
			"berth fetches it from its URLs (%s) only when "
			"allowed",
			d->digest.str, d->media_type, d->urls[0]);
	berth_error_hint(err,
			 "if you trust where it comes from, add '%s' to "
			 "allow-nondistributable-artifacts in berth's config "
			 "file, then pull again",
			 host);
	return BERTH_EUNSUPPORTED;
}

static int
sink(void *ud, const void *p, size_t len, berth_error **err)
{
	return berth_blob_writer_write(ud, p, len, err);
}

static int
fetch_url(berth_blob_writer *w, const char *url, berth_error **err)
{
	berth_http_opts ho = {.user_agent = "berth/0.1"};
	berth_http *h = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	int r;

	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				       "URL '%s' is not http or https", url);
	h = berth_http_new(&ho);
	req.url = url;
	req.peer = "foreign layer server";
	req.follow = true;
	req.sink = sink;
	req.sink_ud = w;
	berth_http_resp_init(&resp);
	r = berth_http_do(h, &req, &resp, err);
	if (r == 0 && (resp.status < 200 || resp.status > 299))
		r = berth_error_set(err, BERTH_ENOTFOUND, 0,
				    "'%s' answered HTTP %ld", url, resp.status);
	if (r == 0)
		r = berth_blob_writer_commit(NULL, w, err);
	berth_http_resp_release(&resp);
	berth_http_free(h);
	return r;
}

int
pull_foreign_fetch(berth_blob_writer *w, const berth_descriptor *d,
		   berth_error **err)
{
	int r = BERTH_ENOTFOUND;

	for (char **u = d->urls; *u; u++) {
		if (u != d->urls) {
			if (err)
				berth_error_freep(err);
			if ((r = berth_blob_writer_reset(w, err)) < 0)
				return r;
		}
		if ((r = fetch_url(w, *u, err)) == 0)
			return 0;
	}
	return berth_error_wrap(err, r, "foreign layer '%s' from '%s'",
				d->digest.str, d->urls[0]);
}

/* `berth pull --json`: one JSON object per line, for scripts and CI logs. */
#include "berth/pull.h"

#include <jansson.h>
#include <stdlib.h>

static char *
dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}

static json_t *
blob(const berth_pull_event *ev, const char *kind, const char *status)
{
	json_t *o =
		json_pack("{s:s, s:s, s:s, s:I, s:s}", "event", "blob", "kind",
			  kind, "digest", ev->desc->digest.str, "size",
			  (json_int_t)ev->desc->size, "status", status);

	if (ev->host)
		json_object_set_new(o, "host", json_string(ev->host));
	return o;
}

char *
berth_pull_event_json(const berth_pull_event *ev)
{
	switch (ev->kind) {
	case BERTH_PULL_RESOLVED:
		return dump(json_pack("{s:s, s:s, s:s, s:s}", "event",
				      "manifest", "digest", ev->digest, "image",
				      ev->desc->digest.str, "host",
				      ev->host ? ev->host : ""));
	case BERTH_PULL_LAYER_EXISTS:
		return dump(blob(ev, "layer", "exists"));
	case BERTH_PULL_LAYER_DONE:
		return dump(blob(ev, "layer", "downloaded"));
	case BERTH_PULL_CONFIG_DONE:
		return dump(blob(ev, "config", "downloaded"));
	case BERTH_PULL_LAYER_WAITING:
	case BERTH_PULL_LAYER_PROGRESS:
		break;
	}
	return NULL;
}

char *
berth_pull_result_json(const berth_pull_result *r)
{
	return berth_pull_unpack_result_json(r, NULL, NULL);
}

char *
berth_pull_unpack_result_json(const berth_pull_result *r,
			      const berth_unpack_result *u, const char *dir)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "event", "pulled",
			      "name", r->name, "digest", r->digest.str, "image",
			      r->image.digest.str, "downloaded",
			      (int)r->downloaded);

	if (u && dir) {
		char *line = berth_unpack_result_json(u, dir);

		json_object_set_new(o, "unpacked", json_loads(line, 0, NULL));
		free(line);
	}
	return dump(o);
}

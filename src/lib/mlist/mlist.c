/* Local manifest lists: their files, their entries, the index they make. */
#include "mlist/mlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/manifest.h"
#include "berth/ref.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/xalloc.h"

#define MLIST_DIR "manifests"
#define MLIST_MAX ((size_t)4 << 20) /* a list is an index: same bound */

char *
mlist_path(const char *root, const char *name)
{
	size_t n = strlen(name);
	_cleanup_free_ char *esc = xmalloc(3 * n + 1);
	char *p = esc;

	for (const char *s = name; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-')
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	*p = '\0';
	return xasprintf("%s/" MLIST_DIR "/%s.json", root, esc);
}

json_t *
mlist_new(const char *name, const char *media_type)
{
	return json_pack("{s:s, s:s, s:[]}", "name", name, "mediaType",
			 media_type, "entries");
}

/* The shape mlist_save writes; anything else is a damaged file. */
static bool
list_valid(const json_t *l)
{
	const json_t *e;
	size_t i;

	if (!json_is_string(json_object_get(l, "name")) ||
	    !json_is_string(json_object_get(l, "mediaType")) ||
	    !json_is_array(json_object_get(l, "entries")))
		return false;
	json_array_foreach(json_object_get(l, "entries"), i, e)
	{
		const json_t *d = json_object_get(e, "descriptor");

		if (!json_is_string(json_object_get(e, "ref")) ||
		    !json_is_string(json_object_get(d, "digest")) ||
		    !json_is_string(json_object_get(d, "mediaType")) ||
		    !json_is_integer(json_object_get(d, "size")))
			return false;
	}
	return true;
}

int
mlist_load(json_t **out, const char *root, const char *name, berth_error **err)
{
	_cleanup_free_ char *path = mlist_path(root, name), *text = NULL;
	json_error_t jerr;
	size_t len = 0;
	json_t *l;
	int r;

	r = berth_file_read(&text, &len, path, MLIST_MAX, err);
	if (r == BERTH_ENOTFOUND) {
		r = berth_error_set(err, BERTH_ENOTFOUND, ENOENT,
				    "no local manifest list '%s'", name);
		berth_error_hint(err,
				 "create it with 'berth manifest create %s "
				 "IMAGE...'; 'berth manifest inspect %s' "
				 "shows one in its registry",
				 name, name);
		return r;
	}
	if (r < 0)
		return r;
	l = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (l == NULL || !list_valid(l)) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		r = berth_error_set(err, BERTH_ECORRUPT, 0,
				    "manifest list file '%s' is damaged%s%s",
				    path, l ? "" : ": ", l ? "" : why);
		json_decref(l);
		berth_error_hint(err,
				 "remove it with 'berth manifest rm %s' and "
				 "create the list again",
				 name);
		return r;
	}
	*out = l;
	return 0;
}

/* ROOT/manifests/, made when missing. */
static int
make_dir(const char *root, berth_error **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/" MLIST_DIR, root);

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create '%s': %s", dir,
				       strerror(errno));
	return 0;
}

int
mlist_lock(const char *root, berth_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/" MLIST_DIR "/.lock", root);
	int fd, r;

	if ((r = make_dir(root, err)) < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot lock '%s': %s", path,
				    strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

int
mlist_save(const char *root, const json_t *list, berth_error **err)
{
	const char *name = json_string_value(json_object_get(list, "name"));
	_cleanup_free_ char *path = mlist_path(root, name);
	_cleanup_free_ char *text = NULL;
	berth_file_replace_opts fo = {.mode = 0644, .sync = true};
	int r;

	if ((r = make_dir(root, err)) < 0)
		return r;
	text = json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	return berth_file_replace(path, text, strlen(text), &fo, err);
}

void
mlist_put(json_t *list, const char *ref, json_t *descriptor)
{
	json_t *entries = json_object_get(list, "entries"), *e;
	const char *digest =
		json_string_value(json_object_get(descriptor, "digest"));
	size_t i;

	json_array_foreach(entries, i, e)
	{
		const json_t *d = json_object_get(e, "descriptor");

		if (strcmp(json_string_value(json_object_get(d, "digest")),
			   digest) == 0) {
			json_array_remove(entries, i);
			break;
		}
	}
	json_array_append_new(entries, json_pack("{s:s, s:o}", "ref", ref,
						 "descriptor", descriptor));
}

int
mlist_find(json_t **out, json_t *list, const char *ref, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *want = NULL;
	_cleanup_free_ char *norm = NULL, *names = NULL;
	json_t *entries = json_object_get(list, "entries"), *e;
	const char *lname = json_string_value(json_object_get(list, "name"));
	size_t i, len = 0;
	FILE *f;
	int r;

	if (berth_ref_parse(&want, ref, NULL) == 0)
		norm = berth_ref_string(want);
	json_array_foreach(entries, i, e)
	{
		const char *er = json_string_value(json_object_get(e, "ref"));
		const char *d = json_string_value(json_object_get(
			json_object_get(e, "descriptor"), "digest"));

		if (strcmp(er, ref) == 0 || (norm && strcmp(er, norm) == 0) ||
		    strcmp(d, ref) == 0 ||
		    (want && want->digest && strcmp(d, want->digest) == 0)) {
			*out = e;
			return 0;
		}
	}
	f = open_memstream(&names, &len);
	json_array_foreach(entries, i, e)
		fprintf(f, "%s'%s'", i ? ", " : "",
			json_string_value(json_object_get(e, "ref")));
	fclose(f);
	r = berth_error_set(err, BERTH_ENOTFOUND, 0,
			    "manifest list '%s' has no entry '%s'", lname, ref);
	berth_error_hint(err,
			 "its entries are %s; add one with 'berth manifest "
			 "create --amend %s %s'",
			 *names ? names : "none", lname, ref);
	return r;
}

json_t *
mlist_platform_of_config(const json_t *c)
{
	const json_t *os = json_object_get(c, "os");
	const json_t *arch = json_object_get(c, "architecture");
	const json_t *v;
	json_t *p;

	if (!json_is_string(os) || !json_is_string(arch) ||
	    !*json_string_value(os) || !*json_string_value(arch))
		return NULL;
	p = json_pack("{s:O, s:O}", "architecture", arch, "os", os);
	if (json_is_string(v = json_object_get(c, "os.version")) &&
	    *json_string_value(v))
		json_object_set(p, "os.version", (json_t *)v);
	if (json_is_array(v = json_object_get(c, "os.features")) &&
	    json_array_size(v))
		json_object_set_new(p, "os.features",
				    json_deep_copy((json_t *)v));
	if (json_is_string(v = json_object_get(c, "variant")) &&
	    *json_string_value(v))
		json_object_set(p, "variant", (json_t *)v);
	return p;
}

/* Sets key to s, or removes it when s is "". */
static void
set_or_clear(json_t *p, const char *key, const char *s)
{
	if (s == NULL)
		return;
	if (*s)
		json_object_set_new(p, key, json_string(s));
	else
		json_object_del(p, key);
}

void
mlist_annotate(json_t *d, const berth_mlist_platform *a)
{
	json_t *p = json_object_get(d, "platform");

	if (!json_is_object(p)) {
		p = json_object();
		json_object_set_new(d, "platform", p);
	}
	set_or_clear(p, "architecture", a->arch);
	set_or_clear(p, "os", a->os);
	set_or_clear(p, "os.version", a->os_version);
	set_or_clear(p, "variant", a->variant);
	if (a->os_features) {
		json_t *f = json_array();

		for (const char *const *s = a->os_features; *s; s++)
			json_array_append_new(f, json_string(*s));
		if (json_array_size(f))
			json_object_set_new(p, "os.features", f);
		else {
			json_decref(f);
			json_object_del(p, "os.features");
		}
	}
}

/* "os/arch[/variant][ os.version V]" of a descriptor, or "no platform". */
static char *
platform_key(const json_t *d)
{
	const json_t *p = json_object_get(d, "platform");
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch =
		json_string_value(json_object_get(p, "architecture"));
	const char *v = json_string_value(json_object_get(p, "variant"));
	const char *ver = json_string_value(json_object_get(p, "os.version"));

	if (os == NULL && arch == NULL)
		return xstrdup("no platform");
	return xasprintf("%s/%s%s%s%s%s", os ? os : "", arch ? arch : "",
			 v ? "/" : "", v ? v : "", ver ? " os.version " : "",
			 ver ? ver : "");
}

int
mlist_index(char **out, size_t *len, const json_t *list, bool check,
	    berth_error **err)
{
	const json_t *entries = json_object_get(list, "entries"), *e;
	const char *name = json_string_value(json_object_get(list, "name"));
	json_auto_t *idx = NULL;
	json_t *ms = json_array();
	size_t i;

	if (check && json_array_size(entries) == 0) {
		json_decref(ms);
		berth_error_set(err, BERTH_EUSAGE, 0,
				"manifest list '%s' has no entries", name);
		berth_error_hint(err,
				 "add images with 'berth manifest create "
				 "--amend %s IMAGE...'",
				 name);
		return BERTH_EUSAGE;
	}
	json_array_foreach(entries, i, e)
	{
		const json_t *d = json_object_get(e, "descriptor");
		_cleanup_free_ char *key = platform_key(d);

		for (size_t j = 0; check && j < i; j++) {
			const json_t *o = json_array_get(entries, j);
			_cleanup_free_ char *ok =
				platform_key(json_object_get(o, "descriptor"));

			if (strcmp(ok, key) != 0)
				continue;
			json_decref(ms);
			berth_error_set(
				err, BERTH_EUSAGE, 0,
				"manifest list '%s' has two entries "
				"for platform '%s': '%s' and '%s'",
				name, key,
				json_string_value(json_object_get(o, "ref")),
				json_string_value(json_object_get(e, "ref")));
			berth_error_hint(err,
					 "give one its own platform with "
					 "'berth manifest annotate %s REF "
					 "--arch/--variant/...', or create the "
					 "list again without it",
					 name);
			return BERTH_EUSAGE;
		}
		json_array_append(ms, (json_t *)d);
	}
	idx = json_pack("{s:i, s:O, s:o}", "schemaVersion", 2, "mediaType",
			json_object_get(list, "mediaType"), "manifests", ms);
	*out = json_dumps(idx, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
	*len = strlen(*out);
	return 0;
}

/*
 * What a retention policy deletes of one repository (retention.h): pure
 * computation over a snapshot of its tags, manifests and references, so
 * that a dry run and a real run decide alike.
 *
 * Tags first: a tag stays when the delay protects it, when the policy has
 * no keepTags rules, or when any rule keeps it. Tags of cosign's scheme
 * ("sha256-<hex>.sig", ".att", ".sbom") are not ranked: they are
 * referrers of the manifest they name, and go with it.
 *
 * Then manifests, as a reachability question: the roots are what a
 * surviving tag points at, what the delay protects, untagged manifests
 * (without deleteUntagged) and referrers whose subject is missing
 * (without deleteReferrers); from a surviving manifest, its children (an
 * index's manifests) and its referrers survive. Everything else goes.
 */
#include "server/ops/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/access/policy.h"
#include "util/xalloc.h"

typedef struct tag_info {
	const berth_meta_tag_row *row;
	int mf;		/* index of its manifest in the view, or -1 */
	int64_t pulled; /* the tag's, or its manifest's by digest: later */
	int attached;	/* cosign-style: index of the subject, -1: none;
			   -2: not such a tag */
	bool keep;
} tag_info;

typedef struct plan {
	const srv_retention_policy *p;
	const berth_meta_repo_view *v;
	int64_t now, delay;
	tag_info *tags;
	bool *tagged; /* manifests a tag pointed at before the run */
	bool *child;  /* manifests an index lists */
	bool *alive;
	int *subject; /* of each manifest: index, -1 none, -2 missing */
	int *parent_at, *child_at; /* of each reference: indexes or -1 */
} plan;

static int
manifest_index(const berth_meta_repo_view *v, const char *digest)
{
	size_t lo = 0, hi = v->n_manifests;

	/* manifests_each lists them in digest order. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v->manifests[mid].digest, digest);

		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* "sha256-<64 hex>.sig|.att|.sbom" -> "sha256:<hex>" in buf, else NULL. */
static const char *
cosign_subject(const char *tag, char *buf, size_t size)
{
	const char *dot;
	size_t i;

	if (strncmp(tag, "sha256-", 7) != 0)
		return NULL;
	for (i = 7; i < 7 + 64; i++)
		if (!((tag[i] >= '0' && tag[i] <= '9') ||
		      (tag[i] >= 'a' && tag[i] <= 'f')))
			return NULL;
	dot = tag + 7 + 64;
	if (strcmp(dot, ".sig") != 0 && strcmp(dot, ".att") != 0 &&
	    strcmp(dot, ".sbom") != 0)
		return NULL;
	snprintf(buf, size, "sha256:%.64s", tag + 7);
	return buf;
}

static bool
rule_takes(const srv_keep_rule *k, const char *tag)
{
	if (k->patterns == NULL)
		return true;
	for (char **p = k->patterns; *p; p++)
		if (berth_pattern_match(*p, tag))
			return true;
	return false;
}

/* Sorting the tags a rule takes: newest first, then by name. */
static int64_t
tag_time(const tag_info *t, bool pulled)
{
	return pulled ? t->pulled : t->row->updated;
}

static int
newest_first(const void *a, const void *b, void *ud)
{
	const tag_info *x = *(tag_info *const *)a, *y = *(tag_info *const *)b;
	bool pulled = *(const bool *)ud;
	int64_t tx = tag_time(x, pulled), ty = tag_time(y, pulled);

	if (tx != ty)
		return tx > ty ? -1 : 1;
	return strcmp(y->row->tag, x->row->tag);
}

/* Keeps the n newest (by push or pull) of the tags `take` holds. */
static void
rank(tag_info **take, size_t n_take, long n, bool pulled)
{
	size_t i, kept = 0;

	qsort_r(take, n_take, sizeof(*take), newest_first, &pulled);
	for (i = 0; i < n_take && (long)kept < n; i++) {
		/* A tag never pulled is not among the recently pulled. */
		if (pulled && take[i]->pulled == 0)
			break;
		take[i]->keep = true;
		kept++;
	}
}

static void
apply_rule(plan *pl, const srv_keep_rule *k, tag_info **take)
{
	const berth_meta_repo_view *v = pl->v;
	bool criteria = k->pushed_count >= 0 || k->pulled_count >= 0 ||
			k->pushed_within >= 0 || k->pulled_within >= 0;
	size_t i, n = 0;

	for (i = 0; i < v->n_tags; i++) {
		tag_info *t = &pl->tags[i];

		if (t->attached != -2 || !rule_takes(k, t->row->tag))
			continue;
		if (!criteria ||
		    (k->pushed_within >= 0 &&
		     t->row->updated >= pl->now - k->pushed_within) ||
		    (k->pulled_within >= 0 && t->pulled > 0 &&
		     t->pulled >= pl->now - k->pulled_within))
			t->keep = true;
		take[n++] = t;
	}
	if (k->pushed_count > 0)
		rank(take, n, k->pushed_count, false);
	if (k->pulled_count > 0)
		rank(take, n, k->pulled_count, true);
}

static void
decide_tags(plan *pl)
{
	const berth_meta_repo_view *v = pl->v;
	tag_info **take = xcalloc(v->n_tags + 1, sizeof(*take));
	char buf[80];
	size_t i;

	for (i = 0; i < v->n_tags; i++) {
		tag_info *t = &pl->tags[i];
		const char *subj =
			cosign_subject(v->tags[i].tag, buf, sizeof(buf));

		t->row = &v->tags[i];
		t->mf = manifest_index(v, t->row->digest);
		t->pulled = t->row->pulled;
		if (t->mf >= 0 && v->manifests[t->mf].pulled > t->pulled)
			t->pulled = v->manifests[t->mf].pulled;
		t->attached = subj ? manifest_index(v, subj) : -2;
		if (t->mf >= 0)
			pl->tagged[t->mf] = true;
		/* The delay protects tags moved lately; without rules,
		 * every tag stays. */
		t->keep = t->row->updated > pl->now - pl->delay ||
			  (pl->p->n_keep == 0 && t->attached == -2);
	}
	for (i = 0; i < pl->p->n_keep; i++)
		apply_rule(pl, &pl->p->keep[i], take);
	free(take);
}

/* Marks m alive; false when it was already. */
static bool
revive(plan *pl, int m)
{
	if (m < 0 || pl->alive[m])
		return false;
	pl->alive[m] = true;
	return true;
}

static void
decide_manifests(plan *pl)
{
	const berth_meta_repo_view *v = pl->v;
	size_t i, n = v->n_manifests;
	bool changed = true;

	for (i = 0; i < v->n_refs; i++) {
		pl->parent_at[i] = manifest_index(v, v->ref_parent[i]);
		pl->child_at[i] = manifest_index(v, v->ref_child[i]);
		if (pl->child_at[i] >= 0)
			pl->child[pl->child_at[i]] = true;
	}
	for (i = 0; i < n; i++) {
		const berth_meta_manifest *mf = &v->manifests[i];
		int s = mf->subject ? manifest_index(v, mf->subject) : -1;

		pl->subject[i] = mf->subject && s < 0 ? -2 : s;
		if (mf->pushed > pl->now - pl->delay)
			pl->alive[i] = true;
		else if (pl->subject[i] == -2)
			pl->alive[i] = !pl->p->delete_referrers;
		else if (!pl->tagged[i] && !pl->child[i] &&
			 pl->subject[i] == -1)
			pl->alive[i] = !pl->p->delete_untagged;
	}
	for (i = 0; i < v->n_tags; i++) {
		const tag_info *t = &pl->tags[i];

		if (t->attached == -2 && t->keep)
			revive(pl, t->mf);
		/* A cosign tag whose subject is missing: an orphaned
		 * referrer. */
		if (t->attached == -1 && !pl->p->delete_referrers)
			revive(pl, t->mf);
	}
	/* The children, referrers and cosign-tagged signatures of the
	 * living live: to a fixed point. */
	while (changed) {
		changed = false;
		for (i = 0; i < v->n_refs; i++)
			if (pl->parent_at[i] >= 0 &&
			    pl->alive[pl->parent_at[i]])
				changed |= revive(pl, pl->child_at[i]);
		for (i = 0; i < n; i++)
			if (pl->subject[i] >= 0 && pl->alive[pl->subject[i]])
				changed |= revive(pl, (int)i);
		for (i = 0; i < v->n_tags; i++) {
			const tag_info *t = &pl->tags[i];

			if (t->attached >= 0 && pl->alive[t->attached])
				changed |= revive(pl, t->mf);
		}
	}
	/* A cosign tag stays exactly when its signature does. */
	for (i = 0; i < v->n_tags; i++) {
		tag_info *t = &pl->tags[i];

		if (t->attached != -2)
			t->keep = t->row->updated > pl->now - pl->delay ||
				  (t->mf >= 0 && pl->alive[t->mf]);
	}
}

/*
 * How many referrer or parent steps lead down to each manifest: referrers
 * and parents are deleted before what they name (fewer steps first), so
 * that every delete finds its manifest unused. Relaxed a bounded number of
 * times (a cycle, which no valid store has, just stops it).
 */
static void
depths(const plan *pl, int *d)
{
	const berth_meta_repo_view *v = pl->v;
	bool changed = true;
	size_t i;
	int round;

	for (round = 0; changed && round < 16; round++) {
		changed = false;
		for (i = 0; i < v->n_refs; i++) {
			int p = pl->parent_at[i], c = pl->child_at[i];

			if (p >= 0 && c >= 0 && d[c] < d[p] + 1) {
				d[c] = d[p] + 1;
				changed = true;
			}
		}
		for (i = 0; i < v->n_manifests; i++) {
			int s = pl->subject[i];

			if (s >= 0 && d[s] < d[i] + 1) {
				d[s] = d[i] + 1;
				changed = true;
			}
		}
	}
}

typedef struct ordered {
	int m, depth;
} ordered;

static int
top_down(const void *a, const void *b)
{
	const ordered *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth - y->depth;
	return x->m - y->m;
}

void
srv_retention_plan(const srv_retention_policy *p, int64_t delay,
		   const berth_meta_repo_view *v, int64_t now,
		   srv_retention_item **out, size_t *n)
{
	size_t nm = v->n_manifests, i, k = 0, no = 0;
	srv_retention_item *items;
	ordered *order;
	int *depth;
	plan pl = {
		.p = p,
		.v = v,
		.now = now,
		.delay = delay,
		.tags = xcalloc(v->n_tags + 1, sizeof(tag_info)),
		.tagged = xcalloc(nm + 1, sizeof(bool)),
		.child = xcalloc(nm + 1, sizeof(bool)),
		.alive = xcalloc(nm + 1, sizeof(bool)),
		.subject = xcalloc(nm + 1, sizeof(int)),
		.parent_at = xcalloc(v->n_refs + 1, sizeof(int)),
		.child_at = xcalloc(v->n_refs + 1, sizeof(int)),
	};

	decide_tags(&pl);
	decide_manifests(&pl);
	items = xcalloc(v->n_tags + nm + 1, sizeof(*items));
	for (i = 0; i < v->n_tags; i++) {
		const tag_info *t = &pl.tags[i];

		if (t->keep)
			continue;
		items[k++] = (srv_retention_item){
			.kind = SRV_RETAIN_TAG,
			.tag = t->row->tag,
			.digest = t->row->digest,
			.media_type = t->mf >= 0
					      ? v->manifests[t->mf].media_type
					      : NULL,
			.size = t->mf >= 0 ? v->manifests[t->mf].size : 0,
			.stamp = t->row->updated,
			.reason = t->attached != -2 ? "its subject is deleted"
						    : "kept by no rule",
		};
	}
	order = xcalloc(nm + 1, sizeof(*order));
	depth = xcalloc(nm + 1, sizeof(*depth));
	depths(&pl, depth);
	for (i = 0; i < nm; i++)
		if (!pl.alive[i])
			order[no++] = (ordered){(int)i, depth[i]};
	free(depth);
	qsort(order, no, sizeof(*order), top_down);
	for (i = 0; i < no; i++) {
		const berth_meta_manifest *mf = &v->manifests[order[i].m];
		int s = pl.subject[order[i].m];

		items[k++] = (srv_retention_item){
			.kind = SRV_RETAIN_MANIFEST,
			.digest = mf->digest,
			.media_type = mf->media_type,
			.size = mf->size,
			.stamp = mf->pushed,
			.reason = s == -2  ? "its subject is missing"
				  : s >= 0 ? "its subject is deleted"
				  : pl.tagged[order[i].m] ? "no tag kept"
				  : pl.child[order[i].m]
					  ? "its index is deleted"
					  : "untagged",
		};
	}
	free(order);
	free(pl.tags);
	free(pl.tagged);
	free(pl.child);
	free(pl.alive);
	free(pl.subject);
	free(pl.parent_at);
	free(pl.child_at);
	*out = items;
	*n = k;
}

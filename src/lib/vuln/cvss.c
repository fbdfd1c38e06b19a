/*
 * Severity: the CVSS v3.x base score by the specification's formula
 * (https://www.first.org/cvss/v3.1/specification-document, section 7),
 * the qualitative ratings, and the words advisories use instead.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "vuln/vuln_int.h"

/* The base metrics, each with its letters and weights. */
enum { AV, AC, PR, UI, S, C, I, A, N_BASE };

static const struct metric {
	const char *name;
	const char *letters;
	double w[4];
} metrics[N_BASE] = {
	[AV] = {"AV", "NALP", {0.85, 0.62, 0.55, 0.2}},
	[AC] = {"AC", "LH", {0.77, 0.44}},
	[PR] = {"PR", "NLH", {0.85, 0.62, 0.27}},
	[UI] = {"UI", "NR", {0.85, 0.62}},
	[S] = {"S", "UC", {0}},
	[C] = {"C", "HLN", {0.56, 0.22, 0}},
	[I] = {"I", "HLN", {0.56, 0.22, 0}},
	[A] = {"A", "HLN", {0.56, 0.22, 0}},
};

/* Temporal and environmental metrics may follow; they do not change the
 * base score. */
static const char *const other_metrics[] = {
	"E",   "RL",  "RC",  "CR", "IR", "AR", "MAV",
	"MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
};

/* CVSS v3.1's Roundup: the smallest number with one decimal >= x,
 * computed in integers so 4.0000001 does not become 4.1 by float error. */
static double
roundup(double x)
{
	int64_t i = (int64_t)llround(x * 100000.0);

	if (i % 10000 == 0)
		return (double)i / 100000.0;
	return (double)(i / 10000 + 1) / 10.0;
}

static int
bad(berth_error **err, const char *vector, const char *why)
{
	return berth_error_set(err, BERTH_EUSAGE, 0,
			       "invalid CVSS v3 vector '%.200s': %s", vector,
			       why);
}

int
berth_cvss3_score(double *out, const char *vector, berth_error **err)
{
	int val[N_BASE];
	const char *p;
	double iss, impact, expl, pr;

	if (strncmp(vector, "CVSS:3.0/", 9) != 0 &&
	    strncmp(vector, "CVSS:3.1/", 9) != 0)
		return bad(err, vector,
			   "it does not start with CVSS:3.0/ or "
			   "CVSS:3.1/");
	for (int m = 0; m < N_BASE; m++)
		val[m] = -1;
	p = vector + 9;
	while (*p) {
		const char *colon = strchr(p, ':'), *slash;
		size_t klen;
		int m, known = 0;

		if (colon == NULL)
			return bad(err, vector, "a metric without a value");
		slash = strchr(colon, '/');
		if (slash == NULL)
			slash = colon + strlen(colon);
		klen = (size_t)(colon - p);
		if (slash - colon != 2)
			return bad(err, vector, "a value is not one letter");
		for (m = 0; m < N_BASE; m++)
			if (strlen(metrics[m].name) == klen &&
			    strncmp(metrics[m].name, p, klen) == 0)
				break;
		if (m < N_BASE) {
			const char *l =
				colon[1] ? strchr(metrics[m].letters, colon[1])
					 : NULL;

			if (l == NULL)
				return bad(err, vector, "an unknown value");
			if (val[m] >= 0)
				return bad(err, vector, "a metric twice");
			val[m] = (int)(l - metrics[m].letters);
		} else {
			for (size_t k = 0; k < sizeof(other_metrics) /
						       sizeof(other_metrics[0]);
			     k++)
				if (strlen(other_metrics[k]) == klen &&
				    strncmp(other_metrics[k], p, klen) == 0)
					known = 1;
			if (!known)
				return bad(err, vector, "an unknown metric");
		}
		p = *slash ? slash + 1 : slash;
	}
	for (int m = 0; m < N_BASE; m++)
		if (val[m] < 0)
			return bad(err, vector,
				   "a base metric (AV, AC, PR, UI, S, C, I, A) "
				   "is missing");

	bool changed = val[S] == 1;

	iss = 1 - (1 - metrics[C].w[val[C]]) * (1 - metrics[I].w[val[I]]) *
			  (1 - metrics[A].w[val[A]]);
	if (changed)
		impact = 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15);
	else
		impact = 6.42 * iss;
	/* privileges required weigh more when the scope changes */
	pr = metrics[PR].w[val[PR]];
	if (changed && val[PR] == 1)
		pr = 0.68;
	else if (changed && val[PR] == 2)
		pr = 0.5;
	expl = 8.22 * metrics[AV].w[val[AV]] * metrics[AC].w[val[AC]] * pr *
	       metrics[UI].w[val[UI]];
	if (impact <= 0)
		*out = 0;
	else if (changed)
		*out = roundup(fmin(1.08 * (impact + expl), 10));
	else
		*out = roundup(fmin(impact + expl, 10));
	return 0;
}

berth_vuln_severity
berth_vuln_severity_of_score(double score)
{
	if (score < 0)
		return BERTH_VULN_SEV_UNKNOWN;
	if (score == 0)
		return BERTH_VULN_SEV_NONE;
	if (score < 4.0)
		return BERTH_VULN_SEV_LOW;
	if (score < 7.0)
		return BERTH_VULN_SEV_MEDIUM;
	if (score < 9.0)
		return BERTH_VULN_SEV_HIGH;
	return BERTH_VULN_SEV_CRITICAL;
}

static const char *const sev_names[] = {"UNKNOWN", "NONE", "LOW",
					"MEDIUM",  "HIGH", "CRITICAL"};

const char *
berth_vuln_severity_name(berth_vuln_severity s)
{
	if ((unsigned)s >= sizeof(sev_names) / sizeof(sev_names[0]))
		return "UNKNOWN";
	return sev_names[s];
}

int
berth_vuln_severity_parse(berth_vuln_severity *out, const char *word,
			  berth_error **err)
{
	for (size_t i = 0; i < sizeof(sev_names) / sizeof(sev_names[0]); i++)
		if (strcasecmp(word, sev_names[i]) == 0) {
			*out = (berth_vuln_severity)i;
			return 0;
		}
	if (strcasecmp(word, "MODERATE") == 0) {
		*out = BERTH_VULN_SEV_MEDIUM;
		return 0;
	}
	if (strcasecmp(word, "IMPORTANT") == 0) {
		*out = BERTH_VULN_SEV_HIGH;
		return 0;
	}
	berth_error_set(err, BERTH_EUSAGE, 0,
			"unknown severity '%.64s': expected NONE, LOW, MEDIUM, "
			"HIGH or CRITICAL",
			word);
	return BERTH_EUSAGE;
}

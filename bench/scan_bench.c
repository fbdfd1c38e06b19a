/*
 * bench/scan.sh's measuring program: loads an advisory database, reads an
 * SBOM and matches it, and prints the time of each step and the peak RSS.
 *
 *	build/bench/scan_bench DB SBOM
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "berth/vuln.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	berth_vuln_packages pk = BERTH_VULN_PACKAGES_INIT;
	berth_vuln_finding *f = NULL;
	berth_vuln_db *db = NULL;
	berth_error *err = NULL;
	struct rusage ru;
	double t0, t1, t2, t3;
	size_t n = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: scan_bench DB SBOM\n");
		return 2;
	}
	t0 = now();
	if (berth_vuln_db_open(&db, argv[1], &err) < 0)
		goto fail;
	t1 = now();
	if (berth_vuln_sbom_read(&pk, argv[2], &err) < 0)
		goto fail;
	t2 = now();
	if (berth_vuln_match(&f, &n, db, pk.items, pk.n, &err) < 0)
		goto fail;
	t3 = now();
	getrusage(RUSAGE_SELF, &ru);
	printf("database load: %.3f s (%zu advisories, %zu skipped)\n", t1 - t0,
	       berth_vuln_db_count(db), berth_vuln_db_skipped(db));
	printf("sbom read:     %.3f s (%zu packages)\n", t2 - t1, pk.n);
	printf("match:         %.3f s (%zu findings)\n", t3 - t2, n);
	printf("peak RSS:      %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
	/* on a busy machine the CPU time says more than the wall clock */
	printf("CPU time:      %.3f s user, %.3f s system (all steps)\n",
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	free(f);
	berth_vuln_packages_release(&pk);
	berth_vuln_db_free(db);
	return 0;
fail:
	fprintf(stderr, "scan_bench: %s\n",
		err && err->msg ? err->msg : "failed");
	berth_error_free(err);
	return 1;
}

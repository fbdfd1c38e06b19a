/*
 * The process facts every Prometheus exporter gives (the names and
 * meanings of client_golang's process collector), read from /proc when
 * scraped. A fact that cannot be read is left out of that scrape.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "server/ops/metrics.h"

/* The fields of /proc/self/stat we use (proc(5) numbers them from 1). */
typedef struct proc_stat {
	double utime, stime; /* 14, 15: clock ticks */
	double start;	     /* 22: clock ticks after boot */
	double vsize;	     /* 23: bytes */
	double rss;	     /* 24: pages */
} proc_stat;

static int
read_stat(proc_stat *ps)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;
	int field;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces: start after it. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	p++;
	for (field = 3; *p; field++) {
		char *end;
		double v;

		while (*p == ' ')
			p++;
		v = strtod(p, &end);
		if (end == p && field > 3)
			return -1;
		if (field == 14)
			ps->utime = v;
		else if (field == 15)
			ps->stime = v;
		else if (field == 22)
			ps->start = v;
		else if (field == 23)
			ps->vsize = v;
		else if (field == 24) {
			ps->rss = v;
			return 0;
		}
		p = strchr(p, ' ');
		if (p == NULL)
			return -1;
	}
	return -1;
}

/* The boot time, in seconds since the epoch (/proc/stat's btime). */
static int
boot_time(double *out)
{
	char line[256];
	FILE *f = fopen("/proc/stat", "re");
	int rc = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "btime ", 6) == 0) {
			*out = strtod(line + 6, NULL);
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

static int
start_time(void *ud, double *v)
{
	proc_stat ps;
	double boot;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0 || read_stat(&ps) < 0 || boot_time(&boot) < 0)
		return -1;
	*v = boot + ps.start / (double)hz;
	return 0;
}

static int
cpu_seconds(void *ud, double *v)
{
	proc_stat ps;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0 || read_stat(&ps) < 0)
		return -1;
	*v = (ps.utime + ps.stime) / (double)hz;
	return 0;
}

static int
resident(void *ud, double *v)
{
	proc_stat ps;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || read_stat(&ps) < 0)
		return -1;
	*v = ps.rss * (double)page;
	return 0;
}

static int
virtual_size(void *ud, double *v)
{
	proc_stat ps;

	if (read_stat(&ps) < 0)
		return -1;
	*v = ps.vsize;
	return 0;
}

static int
open_fds(void *ud, double *v)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	*v = (double)(n - 1); /* not the directory's own descriptor */
	return 0;
}

static int
max_fds(void *ud, double *v)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	*v = rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur;
	return 0;
}

void
srv_metrics_proc_samplers(void)
{
	srv_metrics_sampler(SRV_M_PROC_START, start_time, NULL);
	srv_metrics_sampler(SRV_M_PROC_CPU, cpu_seconds, NULL);
	srv_metrics_sampler(SRV_M_PROC_RSS, resident, NULL);
	srv_metrics_sampler(SRV_M_PROC_VSIZE, virtual_size, NULL);
	srv_metrics_sampler(SRV_M_PROC_FDS, open_fds, NULL);
	srv_metrics_sampler(SRV_M_PROC_MAX_FDS, max_fds, NULL);
}

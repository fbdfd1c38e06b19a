/*
 * The collector's share of the machine (gc_int.h): between its writes a
 * run is SCHED_IDLE, with the idle I/O class, so that it takes only what
 * requests leave over; around a write transaction it is back at the
 * thread's own priority, since pushes wait for the writer lock it holds
 * and a starved holder would stall them all. A thread that could not come
 * back (no CAP_SYS_NICE and an RLIMIT_NICE below its nice value) stays
 * where it is throughout: idle only when it can be busy again.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/log.h"
#include "server/ops/gc_int.h"

/* linux/ioprio.h */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_IDLE 3

#define CAP_SYS_NICE_BIT 23

static bool
has_cap_sys_nice(void)
{
	FILE *f = fopen("/proc/thread-self/status", "re");
	char line[256];
	unsigned long long caps = 0;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return (caps >> CAP_SYS_NICE_BIT) & 1;
}

/* Whether SCHED_IDLE -> SCHED_OTHER at nice is allowed (sched(7)). */
static bool
can_come_back(int nice)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NICE, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY ||
	     rl.rlim_cur >= (rlim_t)(20 - nice)))
		return true;
	return has_cap_sys_nice();
}

static void
set_sched(int policy)
{
	struct sched_param sp = {0};

	if (sched_setscheduler(0, policy, &sp) < 0)
		berth_log(BERTH_LOG_DEBUG, "gc: sched_setscheduler: %s",
			  strerror(errno));
}

static void
set_ioprio(int prio)
{
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, prio) < 0)
		berth_log(BERTH_LOG_DEBUG, "gc: ioprio_set: %s",
			  strerror(errno));
}

void
gc_prio_begin(gc_prio *p)
{
	errno = 0;
	p->nice = getpriority(PRIO_PROCESS, 0); /* this thread's, on Linux */
	p->policy = sched_getscheduler(0);
	p->ioprio = (int)syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
	p->idle_ok = p->policy == SCHED_OTHER && p->ioprio >= 0 &&
		     can_come_back(p->nice);
	p->idle = false;
	gc_prio_idle(p);
}

void
gc_prio_idle(gc_prio *p)
{
	if (!p->idle_ok || p->idle)
		return;
	set_sched(SCHED_IDLE);
	set_ioprio(IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
	p->idle = true;
}

void
gc_prio_busy(gc_prio *p)
{
	if (!p->idle)
		return;
	set_sched(p->policy);
	/* Leaving SCHED_IDLE keeps the nice value; set it again anyway. */
	setpriority(PRIO_PROCESS, 0, p->nice);
	set_ioprio(p->ioprio);
	p->idle = false;
}

void
gc_prio_end(gc_prio *p)
{
	gc_prio_busy(p);
}

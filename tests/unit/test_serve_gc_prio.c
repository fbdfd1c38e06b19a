/*
 * The collector's priority (gc_prio.c): idle between writes, the thread's
 * own policy, nice value and I/O priority around them and after the run.
 */
#include "test.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/ops/gc_int.h"

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_IDLE 3

static int
ioprio(void)
{
	return (int)syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
}

static void
check_own(int nice, int io, const char *when)
{
	CHECK(sched_getscheduler(0) == SCHED_OTHER, "%s: SCHED_OTHER", when);
	CHECK(getpriority(PRIO_PROCESS, 0) == nice, "%s: nice %d", when, nice);
	CHECK(ioprio() == io, "%s: I/O priority %d", when, io);
}

static void
check_idle(const char *when)
{
	CHECK(sched_getscheduler(0) == SCHED_IDLE, "%s: SCHED_IDLE", when);
	CHECK(ioprio() >> 13 == IOPRIO_CLASS_IDLE, "%s: idle I/O class", when);
}

TEST(idle_between_writes_and_back_after)
{
	gc_prio p;
	int io;

	CHECK(setpriority(PRIO_PROCESS, 0, 5) == 0, "nice 5");
	io = ioprio();
	gc_prio_begin(&p);
	if (!p.idle_ok) {
		/* No way back from SCHED_IDLE here: it never goes idle. */
		check_own(5, io, "begin");
		gc_prio_end(&p);
		check_own(5, io, "end");
		return;
	}
	check_idle("begin");
	gc_prio_busy(&p);
	check_own(5, io, "busy");
	gc_prio_busy(&p);
	check_own(5, io, "busy twice");
	gc_prio_idle(&p);
	check_idle("idle again");
	gc_prio_end(&p);
	check_own(5, io, "end");
}

TEST(back_at_a_lowered_nice_value)
{
	gc_prio p;

	/* Leaving SCHED_IDLE for nice 10 needs RLIMIT_NICE >= 10 or
	 * CAP_SYS_NICE; gc_prio_begin goes idle only when it has either. */
	CHECK(setpriority(PRIO_PROCESS, 0, 10) == 0, "nice 10");
	gc_prio_begin(&p);
	CHECK(sched_getscheduler(0) == (p.idle_ok ? SCHED_IDLE : SCHED_OTHER),
	      "idle only when it can come back");
	gc_prio_end(&p);
	CHECK(sched_getscheduler(0) == SCHED_OTHER &&
		      getpriority(PRIO_PROCESS, 0) == 10,
	      "back at nice 10");
}

TEST_MAIN("test_serve_gc_prio")

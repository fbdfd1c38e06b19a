/*
 * A minimal unit-test harness: each failed check prints one TAP-like line,
 * and the program exits non-zero if any failed. tests/run-unit.sh sums the
 * "N passed, N failed" lines.
 *
 * Cases are small independent functions, registered where they are
 * written:
 *
 *	TEST(gc_keeps_leased)
 *	{
 *		CHECK(...);
 *	}
 *
 *	TEST_MAIN("test_store_gc")
 *
 * TEST_MAIN runs every case, each in a child process of its own, so that
 * a crash, an exit or a leak (LeakSanitizer) fails that case alone and the
 * rest still run. It runs only the case named by the environment variable
 * BERTH_TEST_CASE, or by the first argument, when given (`make unit
 * T=test_store_gc:gc_keeps_leased`); `--list` prints the case names. A case
 * makes its own fixture (temporary directory, store, keys) and removes it,
 * or TEST_MAIN_FIXTURE names a setup and a teardown run around each case.
 *
 * Older programs with their own main() that ends in test_done() still work.
 */
#ifndef BERTH_TEST_H
#define BERTH_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int test_passed, test_failed;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond) {                                                    \
			test_passed++;                                         \
		} else {                                                       \
			test_failed++;                                         \
			printf("not ok %s:%d: %s: ", __FILE__, __LINE__,       \
			       #cond);                                         \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		CHECK((g_ == NULL && w_ == NULL) ||                            \
			      (g_ && w_ && strcmp(g_, w_) == 0),               \
		      "got '%s', want '%s'", g_ ? g_ : "(null)",               \
		      w_ ? w_ : "(null)");                                     \
	} while (0)

/* Prints the summary line tests/run-unit.sh reads; use as main's return. */
static inline int
test_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
	return test_failed ? 1 : 0;
}

/* ---- the case registry ---- */

#define TEST_MAX_CASES 256

typedef struct test_case {
	const char *name;
	void (*fn)(void);
} test_case;

static test_case test_cases[TEST_MAX_CASES];
static size_t test_n_cases;
/* Run around each case, in its child (TEST_MAIN_FIXTURE). */
static void (*test_setup)(void), (*test_teardown)(void);

static inline void
test_register(const char *name, void (*fn)(void))
{
	if (test_n_cases == TEST_MAX_CASES) {
		fprintf(stderr, "test.h: more than %d cases\n", TEST_MAX_CASES);
		abort();
	}
	test_cases[test_n_cases].name = name;
	test_cases[test_n_cases].fn = fn;
	test_n_cases++;
}

/* Defines a case; constructors register them in the order written. */
#define TEST(name)                                                             \
	static void test_case_##name(void);                                    \
	__attribute__((constructor)) static void test_reg_##name(void)         \
	{                                                                      \
		test_register(#name, test_case_##name);                        \
	}                                                                      \
	static void test_case_##name(void)

/*
 * Runs one case in a child; its check counts come back through a pipe.
 * A child that dies, or exits non-zero without a failed check, counts as
 * one more failure.
 */
static inline void
test_run_case(const test_case *c)
{
	int fds[2], status = 0;
	int counts[2] = {0, 0};
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) < 0) {
		perror("pipe");
		exit(2);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		close(fds[0]);
		test_passed = test_failed = 0;
		if (test_setup)
			test_setup();
		c->fn();
		if (test_teardown)
			test_teardown();
		counts[0] = test_passed;
		counts[1] = test_failed;
		if (write(fds[1], counts, sizeof(counts)) != sizeof(counts))
			_exit(2);
		close(fds[1]);
		fflush(stdout);
		/* exit, not _exit: LeakSanitizer checks the case on the way. */
		exit(test_failed ? 1 : 0);
	}
	close(fds[1]);
	if (read(fds[0], counts, sizeof(counts)) != sizeof(counts))
		counts[0] = counts[1] = 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		;
	test_passed += counts[0];
	test_failed += counts[1];
	if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && !counts[1])) {
		test_failed++;
		if (WIFSIGNALED(status))
			printf("not ok %s: killed by signal %d\n", c->name,
			       WTERMSIG(status));
		else
			printf("not ok %s: exit %d\n", c->name,
			       WEXITSTATUS(status));
	} else if (counts[1]) {
		printf("not ok %s\n", c->name);
	} else {
		printf("ok %s\n", c->name);
	}
}

static inline int
test_main(const char *prog, int argc, char **argv)
{
	const char *only = getenv("BERTH_TEST_CASE");
	size_t i, ran = 0;

	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < test_n_cases; i++)
			printf("%s\n", test_cases[i].name);
		return 0;
	}
	if (argc > 1)
		only = argv[1];
	if (only && only[0] == '\0')
		only = NULL;
	for (i = 0; i < test_n_cases; i++) {
		if (only && strcmp(only, test_cases[i].name) != 0)
			continue;
		test_run_case(&test_cases[i]);
		ran++;
	}
	if (only && ran == 0) {
		printf("not ok %s: no case named '%s'\n", prog, only);
		test_failed++;
	}
	return test_done(prog);
}

#define TEST_MAIN(prog)                                                        \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		return test_main(prog, argc, argv);                            \
	}

/*
 * As TEST_MAIN, with setup() and teardown() run around every case in its
 * child: a fixture each case gets fresh (a mkdtemp'd directory in a
 * global is made anew from its template, which only the child changes).
 */
#define TEST_MAIN_FIXTURE(prog, setup, teardown)                               \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		test_setup = (setup);                                          \
		test_teardown = (teardown);                                    \
		return test_main(prog, argc, argv);                            \
	}

#endif

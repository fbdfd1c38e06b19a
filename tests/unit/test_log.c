/*
 * Log-level names (util/log.c): the one list the CLI's --log-level, berth
 * serve's log-level and both programs' log lines use; messages escaped.
 */
#include "test.h"

#include <stdio.h>

#include "berth/log.h"
#include "util/error.h"

static void
test_names_round_trip(void)
{
	static const char *const want[] = {"error", "warn", "info", "debug"};

	for (int i = BERTH_LOG_ERROR; i <= BERTH_LOG_DEBUG; i++) {
		berth_log_level l = BERTH_LOG_ERROR;
		berth_error *err = NULL;

		CHECK_STR(berth_log_level_name((berth_log_level)i), want[i]);
		CHECK(berth_log_level_parse(&l, want[i], &err) == 0 &&
			      l == (berth_log_level)i && err == NULL,
		      "parse '%s'", want[i]);
	}
	CHECK_STR(berth_log_level_name((berth_log_level)4), "unknown");
	CHECK_STR(berth_log_level_name((berth_log_level)-1), "unknown");
}

static void
test_bad_names(void)
{
	static const char *const bad[] = {"", "loud", "DEBUG", "warning",
					  "info "};
	berth_log_level l = BERTH_LOG_INFO;
	berth_error *err = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(berth_log_level_parse(&l, bad[i], &err) == BERTH_EUSAGE,
		      "'%s' accepted", bad[i]);
		berth_error_freep(&err);
	}
	CHECK(l == BERTH_LOG_INFO, "a bad name changed the level");
	CHECK(berth_log_level_parse(&l, "loud", &err) == BERTH_EUSAGE && err &&
		      strcmp(err->msg, "invalid log level 'loud'") == 0 &&
		      err->hint &&
		      strcmp(err->hint, "use error, warn, info or debug") == 0,
	      "message '%s'", err ? err->msg : "");
	berth_error_freep(&err);
	CHECK(berth_log_level_parse(&l, NULL, NULL) == BERTH_EUSAGE,
	      "NULL name, no error wanted");
}

static char got_msg[256];

static void
capture(berth_log_level level, const char *msg, void *ud)
{
	snprintf(got_msg, sizeof(got_msg), "%s", msg);
}

/* A name from the network cannot end the line or forge the next one. */
static void
test_messages_escaped(void)
{
	berth_log_set_handler(capture, NULL);
	berth_log_set_level(BERTH_LOG_INFO);
	berth_log(BERTH_LOG_INFO, "authentication failed for user '%s'",
		  "eve\nberth serve: error: forged\x1b[2J");
	CHECK_STR(got_msg, "authentication failed for user "
			   "'eve\\x0aberth serve: error: forged\\x1b[2J'");
	berth_log_set_handler(NULL, NULL);
}

int
main(void)
{
	test_names_round_trip();
	test_bad_names();
	test_messages_escaped();
	return test_done("test_log");
}

/* Unit tests of the configuration module: host and CIDR matching, mirror
 * URLs, loading files with precedence and origins, config.json
 * credentials, certs.d. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/config.h"
#include "berth/log.h"
#include "config/config_int.h"
#include "test.h"
#include "util/cidr.h"

static char tmp[] = "/tmp/berth-test-config.XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

TEST(hosts)
{
	char *name = NULL;
	unsigned port = 0;

	CHECK(config_split_host("reg.local:5000", &name, &port) &&
		      strcmp(name, "reg.local") == 0 && port == 5000,
	      "host:port");
	free(name);
	CHECK(config_split_host("[::1]:443", &name, &port) &&
		      strcmp(name, "::1") == 0 && port == 443,
	      "[v6]:port");
	free(name);
	CHECK(!config_split_host("a:b:c", &name, &port), "bare v6 refused");
	CHECK(!config_split_host("host:99999", &name, &port), "bad port");
	CHECK(berth_cidr_contains("10.0.0.0/8", "10.1.2.3"), "in /8");
	CHECK(!berth_cidr_contains("10.0.0.0/8", "11.0.0.1"), "out of /8");
	CHECK(berth_cidr_contains("10.203.0.0/30", "10.203.0.2"), "in /30");
	CHECK(!berth_cidr_contains("10.203.0.0/30", "10.203.0.4"), "out /30");
	CHECK(berth_cidr_contains("fd00::/8", "fd12::1"), "v6 CIDR");
	CHECK(!berth_cidr_contains("127.0.0.0/8", "::1"), "family mismatch");
	CHECK(config_entry_valid("192.168.1.0/24"), "CIDR entry");
	CHECK(!config_entry_valid("192.168.1.0/33"), "bad prefix");
	CHECK(config_mirror_url_valid("https://mirror.example.com"), "url");
	CHECK(config_mirror_url_valid("http://127.0.0.1:5000/"), "url /");
	CHECK(!config_mirror_url_valid("https://m.example/path"), "path");
	CHECK(!config_mirror_url_valid("ftp://m.example"), "scheme");
}

static const char *
setting(const berth_config *c, const char *key, const char **origin)
{
	for (size_t i = 0; i < c->n_settings; i++)
		if (strcmp(c->settings[i].key, key) == 0) {
			if (origin)
				*origin = c->settings[i].origin;
			return c->settings[i].value;
		}
	return NULL;
}

TEST(load)
{
	char daemon[512], berth[512], dc[512], certs[512];
	berth_config_paths p = BERTH_CONFIG_PATHS_INIT;
	berth_config c = BERTH_CONFIG_INIT;
	berth_error *err = NULL;
	const char *origin = NULL;
	char **m;
	size_t n;

	snprintf(daemon, sizeof(daemon), "%s/daemon.json", tmp);
	snprintf(berth, sizeof(berth), "%s/berth.json", tmp);
	snprintf(dc, sizeof(dc), "%s/docker", tmp);
	snprintf(certs, sizeof(certs), "%s/certs.d", tmp);
	write_file("daemon.json",
		   "{\"registry-mirrors\": [\"https://m1.example/\"],"
		   " \"insecure-registries\": [\"10.0.0.0/8\", \"reg:5000\"],"
		   " \"max-concurrent-downloads\": 5, \"debug\": true}");
	write_file("berth.json",
		   "{\"max-concurrent-downloads\": 7, \"retries\": 1,"
		   " \"mirrors\": {\"ghcr.io\": [\"http://127.0.0.1:9\"]},"
		   " \"registries\": {\"x.example\": {\"insecure\": true}}}");
	p.daemon_json = daemon;
	p.config = berth;
	p.docker_config = dc;
	p.certs_d = certs;
	CHECK(berth_config_load_paths(&c, &p, &err) == 0, "load: %s",
	      err ? err->msg : "");
	CHECK(c.max_concurrent_downloads == 7, "berth's file wins");
	CHECK_STR(setting(&c, "max-concurrent-downloads", &origin), "7");
	CHECK_STR(origin, berth);
	CHECK(c.retries == 1, "retries");
	CHECK(berth_config_insecure(NULL, &c, "reg:5000"), "host:port");
	CHECK(!berth_config_insecure(NULL, &c, "reg:5001"), "other port");
	CHECK(berth_config_insecure(NULL, &c, "10.9.8.7:443"), "CIDR");
	CHECK(berth_config_insecure(NULL, &c, "x.example"), "registries");
	CHECK(!berth_config_insecure(NULL, &c, "127.0.0.1:5000"), "loopback");
	m = berth_config_mirrors(&n, &c, "registry-1.docker.io");
	CHECK(n == 1 && strcmp(m[0], "https://m1.example") == 0,
	      "hub mirror, slash trimmed");
	berth_strv_free(m);
	m = berth_config_mirrors(&n, &c, "ghcr.io");
	CHECK(n == 1, "ghcr mirror");
	berth_strv_free(m);
	berth_config_release(&c);

	write_file("berth.json", "{\"registry-mirrors\": [\"https://a/b\"]}");
	CHECK(berth_config_load_paths(&c, &p, &err) == BERTH_EUSAGE &&
		      strstr(err->msg, "berth.json"),
	      "bad mirror refused naming the file");
	berth_error_free(err);
	err = NULL;
	write_file("berth.json", "{\"retries\": \"x\"}");
	CHECK(berth_config_load_paths(&c, &p, &err) == BERTH_EUSAGE &&
		      strstr(err->msg, "'retries'"),
	      "bad type refused naming the key");
	berth_error_free(err);
	err = NULL;

	/* min-speed: 0 turns the check off (-1), absent is the default. */
	write_file("berth.json", "{\"min-speed\": 100}");
	CHECK(berth_config_load_paths(&c, &p, &err) == 0 && c.min_speed == 100,
	      "min-speed 100: %ld", c.min_speed);
	berth_config_release(&c);
	write_file("berth.json", "{\"min-speed\": 0}");
	CHECK(berth_config_load_paths(&c, &p, &err) == 0 && c.min_speed == -1,
	      "min-speed 0 is none: %ld", c.min_speed);
	berth_config_release(&c);
	write_file("berth.json", "{\"retries\": 1}");
	CHECK(berth_config_load_paths(&c, &p, &err) == 0 && c.min_speed == 0,
	      "min-speed absent is the default: %ld", c.min_speed);
	berth_config_release(&c);
	write_file("berth.json", "{\"min-speed\": -5}");
	CHECK(berth_config_load_paths(&c, &p, &err) == BERTH_EUSAGE &&
		      strstr(err->msg, "'min-speed'"),
	      "negative min-speed refused naming the key");
	berth_error_free(err);
	err = NULL;
	unlink(berth);
}

/* The key table: what docs/config.md is generated from agrees with the
 * defaults the loader applies, and ends with NULL. */
TEST(keys)
{
	const berth_config_key *k;
	char num[32];
	size_t n = 0;

	for (size_t i = 0; (k = berth_config_key_at(i)); i++) {
		n++;
		CHECK(k->key && *k->key && k->help && *k->help, "row %zu", i);
		if (k->type == BERTH_CONFIG_KEY_COUNT ||
		    k->type == BERTH_CONFIG_KEY_SECONDS)
			CHECK(k->min <= k->max && k->deflt, "'%s' limits",
			      k->key);
		if (strcmp(k->key, "retries") == 0) {
			snprintf(num, sizeof(num), "%d",
				 BERTH_CONFIG_RETRIES_DEFAULT);
			CHECK_STR(k->deflt, num);
		}
		if (strcmp(k->key, "retry-after-max") == 0) {
			snprintf(num, sizeof(num), "%d",
				 BERTH_CONFIG_RETRY_AFTER_MAX_DEFAULT);
			CHECK_STR(k->deflt, num);
		}
		if (strcmp(k->key, "min-speed") == 0) {
			snprintf(num, sizeof(num), "%ld",
				 BERTH_CONFIG_MIN_SPEED_DEFAULT);
			CHECK_STR(k->deflt, num);
		}
		if (strcmp(k->key, "partial-max-age") == 0) {
			snprintf(num, sizeof(num), "%ld",
				 BERTH_CONFIG_PARTIAL_MAX_AGE_DEFAULT);
			CHECK_STR(k->deflt, num);
		}
	}
	CHECK(n == 14, "14 keys, got %zu", n);
	CHECK(berth_config_key_at(n) == NULL &&
		      berth_config_key_at(1000) == NULL,
	      "NULL past the end");
	CHECK(berth_config_key_at(1)->docker && !berth_config_key_at(0)->docker,
	      "daemon.json keys marked");
}

static int n_warnings;
static bool bad_warning;

static void
keep_warning(berth_log_level level, const char *msg, void *ud)
{
	(void)ud;
	n_warnings += level == BERTH_LOG_WARN;
	bad_warning |=
		strchr(msg, '\n') || strchr(msg, '\r') || strchr(msg, '\x1b');
}

/* A value, key or parser's quote of the file with a newline or an
 * escape sequence in it still makes a one-line message. */
TEST(messages_one_line)
{
	static const char *const files[] = {
		"{\"insecure-registries\": [\"a\\nb\\u001b[2J\"]}",
		"{\"registry-mirrors\": [\"https://a/\\n/b\"]}",
		"{\"registries\": {\"h\\nx\": 5}}",
		"{\"retries\": \"\n\x1b[2J", /* raw, unterminated */
	};
	char berth[512];
	berth_config_paths p = BERTH_CONFIG_PATHS_INIT;
	berth_config c = BERTH_CONFIG_INIT;
	berth_error *err = NULL;

	snprintf(berth, sizeof(berth), "%s/berth.json", tmp);
	p.config = berth;
	p.daemon_json = "/nonexistent/daemon.json";
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		write_file("berth.json", files[i]);
		CHECK(berth_config_load_paths(&c, &p, &err) == BERTH_EUSAGE &&
			      err && strchr(err->msg, '\n') == NULL &&
			      strchr(err->msg, '\x1b') == NULL &&
			      strstr(err->msg, "berth.json"),
		      "file %zu refused in one line: %s", i,
		      err ? err->msg : "(accepted)");
		if (err == NULL)
			berth_config_release(&c);
		berth_error_free(err);
		err = NULL;
	}

	/* Unknown keys are only warned about, in one line too. */
	berth_log_set_handler(keep_warning, NULL);
	write_file("berth.json", "{\"retries\\n\\u001b[2J\": 1, "
				 "\"registries\": {\"h\\nx\": {\"k\\r\": 1}}}");
	CHECK(berth_config_load_paths(&c, &p, &err) == 0, "loaded: %s",
	      err ? err->msg : "");
	berth_config_release(&c);
	berth_log_set_handler(NULL, NULL);
	CHECK(n_warnings == 2 && !bad_warning, "%d warnings, one line each",
	      n_warnings);
	unlink(berth);
}

TEST(credentials)
{
	char dc[512], path[600];
	berth_config c = BERTH_CONFIG_INIT;
	berth_credentials in = BERTH_CREDENTIALS_INIT,
			  out = BERTH_CREDENTIALS_INIT;
	berth_error *err = NULL;
	char *where = NULL, *from = NULL;
	bool plain = false, found = false;
	struct stat st;

	snprintf(dc, sizeof(dc), "%s/docker", tmp);
	snprintf(path, sizeof(path), "%s/config.json", dc);
	c.docker_config = dc;
	in.username = "alice";
	in.password = "pa:ss";
	CHECK(berth_config_store_credentials(&plain, &where, &c, "docker.io",
					     &in, &err) == 0,
	      "store: %s", err ? err->msg : "");
	CHECK(plain && where && strcmp(where, path) == 0, "plaintext file");
	free(where);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "0600");
	CHECK(berth_config_get_credentials(&out, &from, &c,
					   "registry-1.docker.io", &err) == 0 &&
		      out.username && strcmp(out.username, "alice") == 0 &&
		      strcmp(out.password, "pa:ss") == 0,
	      "hub credentials back under any Hub name");
	free(from);
	berth_credentials_release(&out);
	{
		FILE *f = fopen(path, "r");
		char buf[1024] = "";

		fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		CHECK(strstr(buf, "\"https://index.docker.io/v1/\"") &&
			      strstr(buf, "YWxpY2U6cGE6c3M="),
		      "docker's key and base64(user:pass): %s", buf);
	}
	CHECK(berth_config_erase_credentials(&found, &c, "docker.io", &err) ==
			      0 &&
		      found,
	      "erase");
	CHECK(berth_config_get_credentials(&out, NULL, &c, "docker.io", &err) ==
			      0 &&
		      out.username == NULL,
	      "gone");
	/* A helper name from config.json reaches a message one clean line. */
	write_file("docker/config.json",
		   "{\"credsStore\": \"des/\\ne\\u001b[31m\"}");
	CHECK(berth_config_get_credentials(&out, NULL, &c, "docker.io", &err) ==
			      BERTH_EUSAGE &&
		      strstr(err->msg, "invalid credential helper name") &&
		      !strchr(err->msg, '\n') && !strchr(err->msg, 0x1b),
	      "bad helper name: %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	c.docker_config = NULL;
}

TEST(certs)
{
	char certs[512], dir[600];
	berth_certs bc = BERTH_CERTS_INIT;
	berth_error *err = NULL;

	snprintf(certs, sizeof(certs), "%s/certs.d", tmp);
	snprintf(dir, sizeof(dir), "%s/reg:5000", certs);
	mkdir(certs, 0755);
	mkdir(dir, 0755);
	write_file("certs.d/reg:5000/b.crt", "x");
	write_file("certs.d/reg:5000/a.crt", "x");
	write_file("certs.d/reg:5000/client.cert", "x");
	CHECK(berth_certs_lookup(&bc, certs, "reg:5000", &err) == BERTH_ETLS &&
		      strstr(err->msg, "client.key"),
	      "cert without key refused");
	berth_error_free(err);
	err = NULL;
	write_file("certs.d/reg:5000/client.key", "x");
	CHECK(berth_certs_lookup(&bc, certs, "reg:5000", &err) == 0 &&
		      bc.n_ca_files == 2 && strstr(bc.ca_files[0], "a.crt") &&
		      bc.client_key && strstr(bc.client_key, "client.key"),
	      "CAs sorted, client pair found");
	berth_certs_release(&bc);
	CHECK(berth_certs_lookup(&bc, certs, "none:1", &err) == 0 &&
		      bc.n_ca_files == 0,
	      "missing directory: nothing");
	berth_certs_release(&bc);
}

static void
fixture_setup(void)
{
	if (mkdtemp(tmp) == NULL)
		exit(1);
}

static void
fixture_teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		exit(1);
}

TEST_MAIN_FIXTURE("test_config", fixture_setup, fixture_teardown)

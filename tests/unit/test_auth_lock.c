/*
 * The auth state's lock is not held across a token request: a token server
 * that answers the first request only once a second one (for another scope)
 * has arrived must see both. With the lock held across the request the
 * second never comes, the server gives up after a generous wait and answers
 * 500, and the first fetch fails.
 */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "registry/auth.h"
#include "util/error.h"
#include "util/xalloc.h"

#define WAIT_MS 20000 /* far beyond any honest fetch */

static int listen_fd = -1;
static int port;

/* Reads one request head; false on EOF or error. */
static bool
read_request(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got + 1 < size) {
		ssize_t n = read(fd, buf + got, size - 1 - got);

		if (n <= 0)
			return false;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return true;
	}
	return false;
}

static void
answer(int fd, int status, const char *token)
{
	char body[128], out[512];
	int n;

	snprintf(body, sizeof(body), "{\"token\": \"%s\", \"expires_in\": 300}",
		 token);
	n = snprintf(out, sizeof(out),
		     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     status, strlen(body), status == 200 ? body : "");
	if (write(fd, out, (size_t)n) < 0)
		(void)0;
	close(fd);
}

/* Accepts a connection within `ms`; -1 when none came. */
static int
accept_within(int ms)
{
	struct pollfd p = {.fd = listen_fd, .events = POLLIN};

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept(listen_fd, NULL, NULL);
}

static int server_saw_both;

static void *
token_server(void *ud)
{
	char req[4096];
	int first, second;

	first = accept_within(WAIT_MS);
	if (first < 0 || !read_request(first, req, sizeof(req))) {
		if (first >= 0)
			close(first);
		return NULL;
	}
	second = accept_within(WAIT_MS);
	if (second < 0 || !read_request(second, req, sizeof(req))) {
		/* The second request never came while the first waited. */
		answer(first, 500, "");
		if (second >= 0)
			close(second);
		second = accept_within(WAIT_MS);
		if (second >= 0 && read_request(second, req, sizeof(req)))
			answer(second, 500, "");
		else if (second >= 0)
			close(second);
		return NULL;
	}
	server_saw_both = 1;
	answer(second, 200, "second");
	answer(first, 200, "first");
	return NULL;
}

struct client {
	berth_auth *a;
	const char *scope;
	int r;
	char *header;
};

static void *
client(void *ud)
{
	struct client *c = ud;
	berth_http_opts o = {.user_agent = "berth-test"};
	berth_http *h = berth_http_new(&o);
	berth_http_resp resp;
	char challenge[256];

	berth_http_resp_init(&resp);
	snprintf(challenge, sizeof(challenge),
		 "Bearer realm=\"http://127.0.0.1:%d/token\",service=\"t\"",
		 port);
	resp.status = 401;
	resp.hdr[BERTH_H_WWW_AUTHENTICATE] = xstrdup(challenge);
	c->r = berth_auth_challenged(c->a, h, &resp, c->scope, NULL, NULL);
	if (c->r == 0)
		berth_auth_header(c->a, h, c->scope, &c->header, NULL);
	berth_http_resp_release(&resp);
	berth_http_free(h);
	return NULL;
}

static void
test_token_fetches_run_in_parallel(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	berth_auth *a =
		berth_auth_new("127.0.0.1:1", "test", false, NULL, NULL);
	struct client c1 = {a, "repository:one:pull", 1, NULL};
	struct client c2 = {a, "repository:two:pull", 1, NULL};
	pthread_t srv, t1, t2;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(listen_fd >= 0 && bind(listen_fd, (void *)&sa, sizeof(sa)) == 0 &&
		      listen(listen_fd, 8) == 0 &&
		      getsockname(listen_fd, (void *)&sa, &len) == 0,
	      "listen");
	port = ntohs(sa.sin_port);
	pthread_create(&srv, NULL, token_server, NULL);
	pthread_create(&t1, NULL, client, &c1);
	pthread_create(&t2, NULL, client, &c2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(srv, NULL);
	CHECK(server_saw_both, "the token server saw both requests at once");
	CHECK(c1.r == 0 && c2.r == 0, "both fetches succeeded: %d %d", c1.r,
	      c2.r);
	CHECK(c1.header && c2.header && strcmp(c1.header, c2.header) != 0,
	      "each scope has its own token: %s %s",
	      c1.header ? c1.header : "-", c2.header ? c2.header : "-");
	free(c1.header);
	free(c2.header);
	close(listen_fd);
	berth_auth_free(a);
}

int
main(void)
{
	berth_http_global_init();
	test_token_fetches_run_in_parallel();
	return test_done("auth_lock");
}

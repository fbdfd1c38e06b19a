/*
 * What a real handshake records (http_tls.c), and the error it becomes:
 * a plain HTTP server on the port of an https:// URL is recognised from
 * its first bytes, not from the words of curl's message.
 */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "util/error.h"

static int listen_fd = -1;

/* Answers one connection in plain HTTP, whatever it sent. */
static void *
plain_server(void *ud)
{
	static const char answer[] = "HTTP/1.1 400 Bad Request\r\n"
				     "Content-Length: 0\r\n"
				     "Connection: close\r\n\r\n";
	struct pollfd p = {.fd = listen_fd, .events = POLLIN};
	char buf[2048];
	int fd;

	if (poll(&p, 1, 20000) != 1 || (fd = accept(listen_fd, NULL, NULL)) < 0)
		return NULL;
	if (read(fd, buf, sizeof(buf)) > 0 &&
	    write(fd, answer, sizeof(answer) - 1) < 0)
		(void)0;
	close(fd);
	return NULL;
}

static void
test_plain_http_on_tls(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	berth_http_opts o = {.user_agent = "berth-test"};
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	berth_error *err = NULL;
	char url[64];
	berth_http *h;
	pthread_t t;
	int r;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(listen_fd >= 0 && bind(listen_fd, (void *)&sa, sizeof(sa)) == 0 &&
		      listen(listen_fd, 4) == 0 &&
		      getsockname(listen_fd, (void *)&sa, &len) == 0,
	      "listen");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v2/",
		 ntohs(sa.sin_port));
	pthread_create(&t, NULL, plain_server, NULL);
	h = berth_http_new(&o);
	req.url = url;
	req.peer = "registry";
	berth_http_resp_init(&resp);
	r = berth_http_do(h, &req, &resp, &err);
	pthread_join(t, NULL);
	CHECK(r == BERTH_ETLS, "code %d", r);
	CHECK(resp.tls.not_tls, "the answer was seen to be no TLS record");
	CHECK(err && strstr(err->msg, "answered in plain HTTP on a TLS "
				      "connection"),
	      "message: %s", err ? err->msg : "(none)");
	berth_error_free(err);
	berth_http_resp_release(&resp);
	berth_http_free(h);
	close(listen_fd);
}

int
main(void)
{
	berth_http_global_init();
	test_plain_http_on_tls();
	return test_done("http_tls");
}

/*
 * lws-c-echo: the libwebsockets (C) echo server of the lws for Go
 * benchmarks, built against Debian's libwebsockets-dev.
 *
 *   lws-c-echo -p PORT [-i 127.0.0.1] [-b]
 *
 * Every data message is echoed with its type, written from
 * LWS_CALLBACK_SERVER_WRITEABLE one message per callback, as
 * libwebsockets' own examples do. With -b a message whose first byte is
 * 'B' goes instead to every other connection through
 * lws_callback_on_writable_all_protocol. Prints "ready PORT" once
 * listening; SIGTERM or SIGINT stops it.
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct msg {
	struct msg *next;
	size_t len;
	int binary;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then the payload */
};

struct pss {
	struct msg *head, *tail;
	unsigned char *rx; /* a message arriving in several pieces */
	size_t rxlen, rxcap;
	int inmsg, rxbin;
	unsigned seen; /* broadcast generation already sent */
};

static volatile sig_atomic_t interrupted;
static int broadcast;
static struct msg *bc; /* the last broadcast message */
static unsigned bc_gen;

static struct msg *newmsg(const void *p, size_t len, int binary)
{
	struct msg *m = malloc(sizeof(*m) + LWS_PRE + len);
	if (!m)
		return NULL;
	m->next = NULL;
	m->len = len;
	m->binary = binary;
	memcpy(m->buf + LWS_PRE, p, len);
	return m;
}

static int message(struct lws *wsi, struct pss *s, const unsigned char *p, size_t len, int binary)
{
	if (broadcast && len > 0 && p[0] == 'B') {
		struct msg *m = newmsg(p, len, binary);
		if (!m)
			return -1;
		free(bc);
		bc = m;
		s->seen = ++bc_gen;
		lws_callback_on_writable_all_protocol(lws_get_context(wsi), lws_get_protocol(wsi));
		return 0;
	}
	struct msg *m = newmsg(p, len, binary);
	if (!m)
		return -1;
	if (s->tail)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	lws_callback_on_writable(wsi);
	return 0;
}

static int callback_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct pss *s = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		s->seen = bc_gen;
		break;
	case LWS_CALLBACK_RECEIVE: {
		int final = lws_is_final_fragment(wsi);
		if (!s->inmsg) {
			s->rxbin = lws_frame_is_binary(wsi);
			s->rxlen = 0;
			if (final)
				return message(wsi, s, in, len, s->rxbin);
			s->inmsg = 1;
		}
		if (s->rxlen + len > s->rxcap) {
			size_t cap = (s->rxlen + len) * 2;
			unsigned char *r = realloc(s->rx, cap);
			if (!r)
				return -1;
			s->rx = r;
			s->rxcap = cap;
		}
		memcpy(s->rx + s->rxlen, in, len);
		s->rxlen += len;
		if (final) {
			s->inmsg = 0;
			return message(wsi, s, s->rx, s->rxlen, s->rxbin);
		}
		break;
	}
	case LWS_CALLBACK_SERVER_WRITEABLE: {
		if (bc && s->seen != bc_gen) {
			s->seen = bc_gen;
			if (lws_write(wsi, bc->buf + LWS_PRE, bc->len, bc->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < (int)bc->len)
				return -1;
			if (s->head)
				lws_callback_on_writable(wsi);
			break;
		}
		struct msg *m = s->head;
		if (!m)
			break;
		s->head = m->next;
		if (!s->head)
			s->tail = NULL;
		int n = lws_write(wsi, m->buf + LWS_PRE, m->len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
		size_t want = m->len;
		free(m);
		if (n < (int)want)
			return -1;
		if (s->head)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLOSED:
		while (s->head) {
			struct msg *m = s->head;
			s->head = m->next;
			free(m);
		}
		s->tail = NULL;
		free(s->rx);
		s->rx = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static struct lws_protocols protocols[] = {
	{"echo", callback_echo, sizeof(struct pss), 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}, /* terminator */
};

static void stop(int sig)
{
	(void)sig;
	interrupted = 1;
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	const char *iface = "127.0.0.1";
	int port = 7681, opt;

	while ((opt = getopt(argc, argv, "p:i:b")) != -1) {
		switch (opt) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'i':
			iface = optarg;
			break;
		case 'b':
			broadcast = 1;
			break;
		default:
			fprintf(stderr, "usage: %s -p PORT [-i IFACE] [-b]\n", argv[0]);
			return 2;
		}
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGINT, stop);
	signal(SIGTERM, stop);
	lws_set_log_level(LLL_ERR, NULL);

	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = iface;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	ctx = lws_create_context(&info);
	if (!ctx) {
		fprintf(stderr, "lws-c-echo: lws_create_context failed\n");
		return 1;
	}
	printf("ready %d\n", port);
	fflush(stdout);
	while (!interrupted)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_context_destroy(ctx);
	free(bc);
	return 0;
}

/* connect_loop.c -- the machine's floor for a TCP connect sweep: nonblocking connect + close to
 * every address of a loopback /16 (default 127.1.0.0/16) on one port, at most N connects in
 * flight (epoll), counting which connected. No payload is sent; a connected socket is closed at
 * once (FIN, never left half open). Loopback only: it refuses any base outside 127.0.0.0/8.
 *
 * usage: connect_loop [-n INFLIGHT] [-j THREADS] [-p PORT] [-b BASE] [-t TIMEOUT_MS] [-v]
 *   -n  connects in flight at once, over all threads (default 256)
 *   -j  threads, each with its own epoll, a contiguous share of the addresses and of -n (default 1)
 *   -p  port (default 502)
 *   -b  base address of the /16, e.g. 127.1.0.0 (default); must be in 127.0.0.0/8
 *   -t  time limit of one connect in ms (default 5000)
 *   -v  print each connected address on stdout (one per line, in address order per thread)
 * Prints on stdout "connected N refused N timeout N error N seconds S" last, and a summary on stderr.
 * Build: gcc -O2 -Wall -pthread -o connect_loop connect_loop.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOTAL 65536u
#define MAX_THREADS 64

struct slot {
    int fd;          /* -1 when free */
    uint32_t index;  /* host part 0..65535 */
    uint64_t started_ms;
};

struct worker {
    pthread_t thread;
    uint32_t first, end;      /* host parts [first, end) */
    unsigned inflight;
    unsigned long connected, refused, timed_out, errors;
    uint32_t *hits;           /* connected host parts */
    unsigned long nhits, cap;
    int failed;
};

static uint32_t base;
static unsigned port = 502, timeout_ms = 5000;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Records how one connect ended and frees its socket. */
static void finish(struct worker *w, int ep, struct slot *s, int err, int in_epoll) {
    if (err == 0) {
        w->connected++;
        if (w->nhits == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 64;
            uint32_t *h = realloc(w->hits, w->cap * sizeof *h);
            if (h) w->hits = h; else w->cap = w->nhits;
        }
        if (w->nhits < w->cap) w->hits[w->nhits++] = s->index;
    } else if (err == ECONNREFUSED) {
        w->refused++;
    } else if (err == ETIMEDOUT) {
        w->timed_out++;
    } else {
        w->errors++;
    }
    if (in_epoll) epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
}

static void *sweep(void *arg) {
    struct worker *w = arg;
    unsigned n = w->inflight;
    struct slot *slots = calloc(n, sizeof *slots);
    struct epoll_event *events = calloc(n, sizeof *events);
    unsigned *free_list = calloc(n, sizeof *free_list);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!slots || !events || !free_list || ep < 0) { perror("setup"); w->failed = 1; return NULL; }
    unsigned nfree = 0, busy = 0;
    for (unsigned i = 0; i < n; i++) { slots[i].fd = -1; free_list[nfree++] = n - 1 - i; }
    uint32_t next = w->first;
    uint64_t last_check = now_ms();
    while (next < w->end || busy > 0) {
        while (nfree > 0 && next < w->end) {
            unsigned i = free_list[--nfree];
            struct slot *s = &slots[i];
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
            if (fd < 0) { perror("socket"); w->failed = 1; return NULL; }
            struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                     .sin_addr = {htonl(base | next)}};
            s->fd = fd;
            s->index = next++;
            s->started_ms = now_ms();
            int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
            if (r == 0 || errno != EINPROGRESS) {
                finish(w, ep, s, r == 0 ? 0 : errno, 0);
                free_list[nfree++] = i;
                continue;
            }
            struct epoll_event ev = {.events = EPOLLOUT, .data = {.u32 = i}};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) { perror("epoll_ctl"); w->failed = 1; return NULL; }
            busy++;
        }
        if (busy == 0) continue;
        int got = epoll_wait(ep, events, (int)n, 100);
        if (got < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait"); w->failed = 1; return NULL;
        }
        for (int k = 0; k < got; k++) {
            unsigned i = events[k].data.u32;
            struct slot *s = &slots[i];
            if (s->fd < 0) continue;
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
            finish(w, ep, s, err, 1);
            free_list[nfree++] = i;
            busy--;
        }
        uint64_t now = now_ms();
        if (now - last_check >= 100) {   /* time limits, checked every 100 ms */
            last_check = now;
            for (unsigned i = 0; i < n; i++) {
                struct slot *s = &slots[i];
                if (s->fd >= 0 && now - s->started_ms >= timeout_ms) {
                    finish(w, ep, s, ETIMEDOUT, 1);
                    free_list[nfree++] = i;
                    busy--;
                }
            }
        }
    }
    close(ep);
    free(slots); free(events); free(free_list);
    return NULL;
}

int main(int argc, char **argv) {
    unsigned inflight = 256, threads = 1;
    int verbose = 0, opt;
    const char *base_text = "127.1.0.0";
    while ((opt = getopt(argc, argv, "n:j:p:b:t:v")) != -1) {
        switch (opt) {
        case 'n': inflight = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'j': threads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'b': base_text = optarg; break;
        case 't': timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'v': verbose = 1; break;
        default:
            fprintf(stderr, "usage: %s [-n INFLIGHT] [-j THREADS] [-p PORT] [-b BASE] [-t TIMEOUT_MS] [-v]\n",
                    argv[0]);
            return 2;
        }
    }
    struct in_addr b;
    if (inet_pton(AF_INET, base_text, &b) != 1) { fprintf(stderr, "bad base %s\n", base_text); return 2; }
    base = ntohl(b.s_addr) & 0xffff0000u;
    if ((base >> 24) != 127) { fprintf(stderr, "refusing %s: loopback (127.0.0.0/8) only\n", base_text); return 2; }
    if (inflight < 1 || inflight > 65536 || port < 1 || port > 65535 || threads < 1 || threads > MAX_THREADS ||
        threads > inflight || timeout_ms < 1) {
        fprintf(stderr, "bad -n, -j, -p or -t\n");
        return 2;
    }

    struct worker w[MAX_THREADS];
    memset(w, 0, sizeof w);
    uint64_t t0 = now_ms();
    for (unsigned t = 0; t < threads; t++) {
        w[t].first = (uint32_t)((uint64_t)TOTAL * t / threads);
        w[t].end = (uint32_t)((uint64_t)TOTAL * (t + 1) / threads);
        w[t].inflight = inflight / threads + (t < inflight % threads ? 1 : 0);
        if (pthread_create(&w[t].thread, NULL, sweep, &w[t]) != 0) { perror("pthread_create"); return 1; }
    }
    unsigned long connected = 0, refused = 0, timed_out = 0, errors = 0;
    int failed = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(w[t].thread, NULL);
        connected += w[t].connected; refused += w[t].refused;
        timed_out += w[t].timed_out; errors += w[t].errors;
        failed |= w[t].failed;
    }
    double took = (now_ms() - t0) / 1000.0;
    if (verbose)
        for (unsigned t = 0; t < threads; t++)
            for (unsigned long k = 0; k < w[t].nhits; k++) {
                struct in_addr a = {htonl(base | w[t].hits[k])};
                printf("%s\n", inet_ntoa(a));
            }
    printf("connected %lu refused %lu timeout %lu error %lu seconds %.3f\n", connected, refused, timed_out,
           errors, took);
    fprintf(stderr, "connect_loop: %u addresses of %s/16 port %u, %u in flight on %u thread(s): %lu connected, "
            "%lu refused, %lu timed out, %lu other errors in %.3f s\n", TOTAL, base_text, port, inflight, threads,
            connected, refused, timed_out, errors, took);
    return failed ? 1 : 0;
}

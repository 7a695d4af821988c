/*
 * AT round-trip client for `npm run bench` (benchmarks/at-roundtrip.ts compiles it with
 * `cc -O2` into a temp dir at run time). Plays the firmware: opens the serial device, puts it in
 * raw mode, and times `AT\r` -> `...OK\r\n` round trips, one at a time.
 *
 *   rt-client DEVICE WARMUP COUNT [INIT_CMD...]
 *
 * INIT_CMD lines (e.g. ATE0) are sent once, each waiting for its final result, before the
 * warm-up. Prints one JSON object on stdout (latencies in ns); diagnostics on stderr. With
 * RT_RAW=FILE in the environment, also writes every measured latency there, in order, as
 * little-endian uint32 nanoseconds (saturated), so runs can be merged.
 * Same protocol and output as rt_client.py (the fallback when cc is missing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_DS 50 /* read timeout, deciseconds (VMIN=0, VTIME) */

static const char REQ[] = "AT\r";
static const char EXPECTED[] = "\r\nOK\r\n";

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time (user + system) this process has used so far, µs. */
static uint64_t cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
         (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      perror("rt-client: write");
      exit(2);
    }
    p += w;
    n -= (size_t)w;
  }
}

/*
 * Read until the accumulated reply contains a final result code. Returns 1 for OK, 0 for
 * ERROR / +CME ERROR; exits on timeout. *len gets the reply length.
 */
static int read_reply(int fd, char *buf, size_t cap, size_t *len) {
  size_t n = 0;
  for (;;) {
    if (n + 1 >= cap) {
      fprintf(stderr, "rt-client: reply too long: %.*s\n", (int)n, buf);
      exit(2);
    }
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      perror("rt-client: read");
      exit(2);
    }
    if (r == 0) {
      fprintf(stderr, "rt-client: timed out waiting for OK (got %zu bytes: %.*s)\n", n, (int)n, buf);
      exit(3);
    }
    n += (size_t)r;
    buf[n] = 0;
    if (n >= 4 && memcmp(buf + n - 4, "OK\r\n", 4) == 0) {
      *len = n;
      return 1;
    }
    if (memmem(buf, n, "ERROR", 5) != NULL && n >= 2 && memcmp(buf + n - 2, "\r\n", 2) == 0) {
      *len = n;
      return 0;
    }
  }
}

/* Discard whatever the modem says on its own (boot URCs such as RDY) until quiet for 200 ms. */
static size_t drain(int fd) {
  struct termios t;
  tcgetattr(fd, &t);
  struct termios q = t;
  q.c_cc[VMIN] = 0;
  q.c_cc[VTIME] = 2;
  tcsetattr(fd, TCSANOW, &q);
  char tmp[4096];
  size_t total = 0;
  ssize_t r;
  while ((r = read(fd, tmp, sizeof tmp)) > 0) total += (size_t)r;
  tcsetattr(fd, TCSANOW, &t);
  return total;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s DEVICE WARMUP COUNT [INIT_CMD...]\n", argv[0]);
    return 64;
  }
  const char *dev = argv[1];
  long warmup = strtol(argv[2], NULL, 10);
  long count = strtol(argv[3], NULL, 10);
  if (warmup < 0 || count < 1) {
    fprintf(stderr, "rt-client: bad WARMUP/COUNT\n");
    return 64;
  }

  int fd = open(dev, O_RDWR | O_NOCTTY);
  if (fd < 0) {
    perror("rt-client: open");
    return 2;
  }
  struct termios t;
  if (tcgetattr(fd, &t) != 0) {
    perror("rt-client: tcgetattr");
    return 2;
  }
  cfmakeraw(&t);
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = TIMEOUT_DS;
  if (tcsetattr(fd, TCSANOW, &t) != 0) {
    perror("rt-client: tcsetattr");
    return 2;
  }

  size_t drained = drain(fd);
  char buf[4096];
  size_t len;

  /* Init commands: reply text is reported, so the caller can show e.g. that ATE0 was echoed. */
  printf("{\"client\":\"c\",\"drained\":%zu,\"init\":[", drained);
  for (int i = 4; i < argc; i++) {
    char cmd[256];
    int m = snprintf(cmd, sizeof cmd, "%s\r", argv[i]);
    write_all(fd, cmd, (size_t)m);
    int ok = read_reply(fd, buf, sizeof buf, &len);
    printf("%s{\"cmd\":\"%s\",\"ok\":%s,\"bytes\":%zu}", i > 4 ? "," : "", argv[i], ok ? "true" : "false", len);
  }
  printf("],");

  for (long i = 0; i < warmup; i++) {
    write_all(fd, REQ, sizeof REQ - 1);
    if (!read_reply(fd, buf, sizeof buf, &len)) {
      fprintf(stderr, "rt-client: AT answered ERROR during warm-up\n");
      return 4;
    }
  }

  uint64_t *lat = malloc((size_t)count * sizeof *lat);
  if (!lat) return 2;
  long unexpected = 0;
  size_t first_len = 0;
  char first[64] = {0};
  uint64_t cpu0 = cpu_us();
  uint64_t start = now_ns();
  for (long i = 0; i < count; i++) {
    uint64_t t0 = now_ns();
    write_all(fd, REQ, sizeof REQ - 1);
    int ok = read_reply(fd, buf, sizeof buf, &len);
    lat[i] = now_ns() - t0;
    if (!ok) {
      fprintf(stderr, "rt-client: AT answered ERROR\n");
      return 4;
    }
    if (i == 0) {
      first_len = len < sizeof first - 1 ? len : sizeof first - 1;
      memcpy(first, buf, first_len);
    }
    if (len != sizeof EXPECTED - 1 || memcmp(buf, EXPECTED, len) != 0) unexpected++;
  }
  uint64_t elapsed = now_ns() - start;
  close(fd);
  uint64_t cpu = cpu_us() - cpu0;

  const char *raw = getenv("RT_RAW");
  if (raw && *raw) {
    FILE *f = fopen(raw, "wb");
    if (!f) {
      perror("rt-client: RT_RAW");
      return 2;
    }
    for (long i = 0; i < count; i++) {
      uint32_t v = lat[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)lat[i];
      unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
      fwrite(b, 1, 4, f);
    }
    if (fclose(f) != 0) {
      perror("rt-client: RT_RAW");
      return 2;
    }
  }

  uint64_t sum = 0;
  for (long i = 0; i < count; i++) sum += lat[i];
  qsort(lat, (size_t)count, sizeof *lat, cmp_u64);
#define PCT(p) lat[(size_t)((double)(count - 1) * (p) + 0.5)]
  printf("\"n\":%ld,\"elapsed_ns\":%llu,\"min_ns\":%llu,\"mean_ns\":%llu,\"p50_ns\":%llu,"
         "\"p90_ns\":%llu,\"p99_ns\":%llu,\"p999_ns\":%llu,\"max_ns\":%llu,\"unexpected\":%ld,"
         "\"cpu_us\":%llu,\"cpu_total_us\":%llu,\"reply_bytes\":%zu,\"reply_hex\":\"",
         count, (unsigned long long)elapsed, (unsigned long long)lat[0],
         (unsigned long long)(sum / (uint64_t)count), (unsigned long long)PCT(0.50),
         (unsigned long long)PCT(0.90), (unsigned long long)PCT(0.99), (unsigned long long)PCT(0.999),
         (unsigned long long)lat[count - 1], unexpected, (unsigned long long)cpu, (unsigned long long)cpu_us(), first_len);
  for (size_t i = 0; i < first_len; i++) printf("%02x", (unsigned char)first[i]);
  printf("\"}\n");
  free(lat);
  return 0;
}

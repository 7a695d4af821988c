/*
 * A minimal firmware for vmodem's quectel-ec200 profile, in C with POSIX termios.
 *
 * Opens the serial device raw (8N1, 115200 — a PTY ignores the rate), connects to the broker,
 * subscribes to dev/<id>/down, publishes "hello from c" to dev/<id>/up, waits for one message on
 * dev/<id>/down and prints it. Commands and results as in Quectel's "LTE Standard(A) Series MQTT
 * Application Note" §3.3.
 *
 *   cc -O2 -Wall -o firmware examples/c/firmware.c
 *   ./firmware /tmp/vmodem0 c1
 *
 * Exit status 0 once a message was received, 1 on an error or after 30 s.
 */
#define _GNU_SOURCE /* memmem, cfmakeraw (both also on macOS) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int fd;
static char buf[4096];
static size_t len;
static time_t deadline;

static void fail(const char *what) {
  fprintf(stderr, "error: %s\n", what);
  exit(1);
}

static void send_str(const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    s += w;
    n -= (size_t)w;
  }
}

/* Read lines until one matches `pattern` (POSIX extended regex); the match's first group goes to
 * `group` when given. The "> " prompt has no line end: it is matched as a line of its own. */
static void read_until(const char *pattern, char *group, size_t group_size) {
  regex_t re;
  regmatch_t m[2];
  if (regcomp(&re, pattern, REG_EXTENDED) != 0) fail("bad pattern");
  for (;;) {
    char *nl;
    while ((nl = memmem(buf, len, "\r\n", 2)) != NULL) {
      *nl = '\0';
      char line[4096];
      strcpy(line, buf);
      len -= (size_t)(nl + 2 - buf);
      memmove(buf, nl + 2, len);
      if (line[0] == '\0') continue;
      printf("< %s\n", line);
      if (regexec(&re, line, 2, m, 0) == 0) {
        if (group && m[1].rm_so >= 0) snprintf(group, group_size, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
        regfree(&re);
        return;
      }
      if (strcmp(line, "ERROR") == 0 || strncmp(line, "+CME ERROR", 10) == 0) fail(line);
    }
    buf[len] = '\0';
    if (len > 0 && regexec(&re, buf, 2, m, 0) == 0 && buf[0] == '>') {
      len = 0;
      regfree(&re);
      return;
    }
    if (time(NULL) > deadline) fail("timed out");
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
    if (n < 0 && errno != EAGAIN && errno != EINTR) fail("read");
    if (n > 0) len += (size_t)n;
  }
}

static void at(const char *cmd, const char *until) {
  printf("> %s\n", cmd);
  send_str(cmd, strlen(cmd));
  send_str("\r", 1);
  read_until(until, NULL, 0);
}

int main(int argc, char **argv) {
  const char *device = argc > 1 ? argv[1] : "/tmp/vmodem0";
  const char *id = argc > 2 ? argv[2] : "c1";
  char cmd[256], pattern[256], payload[1024];
  setvbuf(stdout, NULL, _IOLBF, 0);
  deadline = time(NULL) + 30;

  fd = open(device, O_RDWR | O_NOCTTY);
  if (fd < 0) fail("open");
  struct termios t;
  if (tcgetattr(fd, &t) != 0) fail("tcgetattr");
  cfmakeraw(&t); /* 8N1, no echo, no line editing: bytes as they are */
  cfsetispeed(&t, B115200);
  cfsetospeed(&t, B115200);
  if (tcsetattr(fd, TCSANOW, &t) != 0) fail("tcsetattr");

  at("ATE0", "^OK$");
  at("AT+QMTOPEN=0,\"broker.example.com\",1883", "^OK$"); /* any host: vmodem uses its broker */
  read_until("^\\+QMTOPEN: 0,0$", NULL, 0);
  snprintf(cmd, sizeof cmd, "AT+QMTCONN=0,\"%s\"", id);
  at(cmd, "^OK$");
  read_until("^\\+QMTCONN: 0,0,0$", NULL, 0);
  snprintf(cmd, sizeof cmd, "AT+QMTSUB=0,1,\"dev/%s/down\",1", id);
  at(cmd, "^OK$");
  read_until("^\\+QMTSUB: 0,1,0,", NULL, 0);
  const char *hello = "hello from c";
  snprintf(cmd, sizeof cmd, "AT+QMTPUBEX=0,1,1,0,\"dev/%s/up\",%zu", id, strlen(hello));
  at(cmd, "^> ?$");
  send_str(hello, strlen(hello)); /* exactly <length> bytes, no CR */
  read_until("^OK$", NULL, 0);
  read_until("^\\+QMTPUBEX: 0,1,0$", NULL, 0);
  snprintf(pattern, sizeof pattern, "^\\+QMTRECV: 0,[0-9]+,\"dev/%s/down\",\"(.*)\"$", id);
  read_until(pattern, payload, sizeof payload);
  printf("received: %s\n", payload);
  close(fd);
  return 0;
}

/* Test hooks for the crash-safety tests: SLUICE_TEST_CRASH=<point>:<n> makes the
 * process SIGKILL itself the n-th time it passes the named point (a stage
 * boundary or a record), so a test can stop a run at an exact instant;
 * SLUICE_TEST_PAUSE=<point>:<n> makes it SIGSTOP itself there instead, so a
 * test can act while the run waits (take a lock, break a server) and then
 * SIGCONT it. Unset, they cost one branch per call. */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/source_int.h"

typedef struct hook {
  int init; /* 0 not read yet, 1 armed, -1 off */
  char point[64];
  long left;
} hook;

static hook crash_hook, pause_hook;

static void arm(hook *h, const char *e) {
  const char *colon = e ? strrchr(e, ':') : NULL;
  if (!e || !colon || (size_t)(colon - e) >= sizeof h->point) {
    h->init = -1;
    return;
  }
  memcpy(h->point, e, (size_t)(colon - e));
  h->point[colon - e] = '\0';
  h->left = strtol(colon + 1, NULL, 10);
  if (h->left < 1) h->left = 1;
  h->init = 1;
}

void sl__crash_arm(const char *spec) { arm(&crash_hook, spec); }

static bool hit(hook *h, const char *env, const char *point) {
  if (h->init < 0) return false;
  if (!h->init) {
    arm(h, getenv(env));
    if (h->init < 0) return false;
  }
  return !strcmp(point, h->point) && --h->left == 0;
}

void sl__crash_point(const char *point) {
  if (hit(&pause_hook, "SLUICE_TEST_PAUSE", point)) raise(SIGSTOP);
  if (hit(&crash_hook, "SLUICE_TEST_CRASH", point)) kill(getpid(), SIGKILL);
}

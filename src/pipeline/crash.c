/* Test hook for the crash-safety tests: SLUICE_TEST_CRASH=<point>:<n> makes the
 * process SIGKILL itself the n-th time it passes the named point (a stage
 * boundary or a record), so a test can stop a run at an exact instant. Unset,
 * it costs one branch per call. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/source_int.h"

static int crash_init;
static char crash_point[64];
static long crash_left;

static void arm(const char *e) {
  const char *colon = e ? strrchr(e, ':') : NULL;
  if (!e || !colon || (size_t)(colon - e) >= sizeof crash_point) {
    crash_init = -1;
    return;
  }
  memcpy(crash_point, e, (size_t)(colon - e));
  crash_point[colon - e] = '\0';
  crash_left = strtol(colon + 1, NULL, 10);
  if (crash_left < 1) crash_left = 1;
  crash_init = 1;
}

void sl__crash_arm(const char *spec) { arm(spec); }

void sl__crash_point(const char *point) {
  if (crash_init < 0) return;
  if (!crash_init) {
    arm(getenv("SLUICE_TEST_CRASH"));
    if (crash_init < 0) return;
  }
  if (strcmp(point, crash_point) != 0) return;
  if (--crash_left == 0) kill(getpid(), SIGKILL);
}

/* tests/test.h — the tiny harness every unit test file uses.
 *
 * A file defines cases with TEST(name) { ... } and ends with TEST_MAIN().
 * Each case runs in order; a failed CHECK prints file:line and the values,
 * marks the case failed and returns from it. The program prints one line per
 * failed case and closes with "N passed, N failed"; exit status 1 on failure.
 * Run one case alone: ./test_json name_of_case
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*sl_test_fn)(int *failed_);
typedef struct sl_test_case {
  const char *name;
  sl_test_fn fn;
} sl_test_case;

#define SL_TEST_MAX 4096
extern sl_test_case sl_test_cases_[SL_TEST_MAX];
extern int sl_test_count_;

#define TEST(name)                                                          \
  static void test_##name(int *failed_);                                    \
  __attribute__((constructor)) static void test_register_##name(void) {     \
    if (sl_test_count_ < SL_TEST_MAX)                                       \
      sl_test_cases_[sl_test_count_++] = (sl_test_case){#name, test_##name}; \
  }                                                                         \
  static void test_##name(int *failed_)

#define FAIL_(...)                                        \
  do {                                                    \
    fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);     \
    fprintf(stderr, __VA_ARGS__);                         \
    fprintf(stderr, "\n");                                \
    *failed_ = 1;                                         \
    return;                                               \
  } while (0)

#define CHECK(cond)                                 \
  do {                                              \
    if (!(cond)) FAIL_("CHECK(%s) failed", #cond);  \
  } while (0)

#define CHECK_MSG(cond, ...)                   \
  do {                                         \
    if (!(cond)) FAIL_(__VA_ARGS__);           \
  } while (0)

#define CHECK_INT(a, b)                                                                  \
  do {                                                                                   \
    long long a_ = (long long)(a), b_ = (long long)(b);                                  \
    if (a_ != b_) FAIL_("CHECK_INT(%s, %s): %lld != %lld", #a, #b, a_, b_);              \
  } while (0)

#define CHECK_STR(a, b)                                                                      \
  do {                                                                                       \
    const char *a_ = (a), *b_ = (b);                                                         \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                   \
      FAIL_("CHECK_STR(%s, %s):\n    got:      \"%s\"\n    expected: \"%s\"", #a, #b,        \
            a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                         \
  } while (0)

#define CHECK_CONTAINS(hay, needle)                                                       \
  do {                                                                                    \
    const char *h_ = (hay), *n_ = (needle);                                               \
    if (!h_ || !strstr(h_, n_))                                                           \
      FAIL_("CHECK_CONTAINS(%s, %s): \"%s\" does not contain \"%s\"", #hay, #needle,      \
            h_ ? h_ : "(null)", n_);                                                      \
  } while (0)

#define CHECK_OK(expr)                                                                  \
  do {                                                                                  \
    int st_ = (int)(expr);                                                              \
    if (st_ != 0) FAIL_("CHECK_OK(%s): status %d", #expr, st_);                         \
  } while (0)

#define TEST_MAIN()                                                            \
  sl_test_case sl_test_cases_[SL_TEST_MAX];                                    \
  int sl_test_count_;                                                          \
  int main(int argc, char **argv) {                                            \
    int passed = 0, failed = 0;                                                \
    for (int i = 0; i < sl_test_count_; i++) {                                 \
      if (argc > 1 && strcmp(argv[1], sl_test_cases_[i].name) != 0) continue;  \
      int f = 0;                                                               \
      sl_test_cases_[i].fn(&f);                                                \
      if (f) {                                                                 \
        fprintf(stderr, "FAIL %s\n", sl_test_cases_[i].name);                  \
        failed++;                                                              \
      } else {                                                                 \
        passed++;                                                              \
      }                                                                        \
    }                                                                          \
    printf("%s: %d passed, %d failed\n", argv[0], passed, failed);            \
    return failed ? 1 : (passed ? 0 : 1);                                      \
  }

#endif

/* sluice/buf.h — growable byte buffers with a hard cap, and an arena allocator.
 *
 * Memory rule: an sl_buf owns its bytes until sl_buf_free (or sl_buf_steal);
 * an sl_arena owns every block it handed out until sl_arena_reset/sl_arena_free,
 * and nothing allocated from an arena is freed one by one.
 */
#ifndef SLUICE_BUF_H
#define SLUICE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- growable buffer ------------------------------------------------------ */

/* data is always NUL-terminated when non-NULL (the NUL is not counted in len). */
typedef struct sl_buf {
  char *data;
  size_t len;
  size_t cap;
  size_t max; /* hard cap on len; 0 means SL_BUF_DEFAULT_MAX */
} sl_buf;

#define SL_BUF_DEFAULT_MAX ((size_t)1 << 30) /* 1 GiB */

/* Zero-initialising (sl_buf b = {0};) is a valid empty buffer with the default cap. */
void sl_buf_init(sl_buf *b, size_t max);
void sl_buf_free(sl_buf *b);
/* Forget the contents, keep the memory. */
static inline void sl_buf_reset(sl_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}
/* Make room for n more bytes. SL_TOO_LARGE past the cap, SL_NOMEM if malloc fails. */
sl_status sl_buf_reserve(sl_buf *b, size_t n);
sl_status sl_buf_append(sl_buf *b, const void *p, size_t n);
sl_status sl_buf_puts(sl_buf *b, const char *s);
sl_status sl_buf_putc(sl_buf *b, char c);
sl_status sl_buf_printf(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
sl_status sl_buf_vprintf(sl_buf *b, const char *fmt, va_list ap);
/* Hand the bytes to the caller (free() them); the buffer becomes empty. */
char *sl_buf_steal(sl_buf *b, size_t *len);

/* ---- arena ---------------------------------------------------------------- */

typedef struct sl_arena_block sl_arena_block;
typedef struct sl_arena {
  sl_arena_block *head;
  size_t block_size; /* size of ordinary blocks; 0 means 64 KiB */
  size_t used;       /* bytes handed out since the last reset */
  size_t max;        /* hard cap on used; 0 means unlimited */
} sl_arena;

void sl_arena_init(sl_arena *a, size_t block_size, size_t max);
/* 16-byte aligned; NULL when out of memory or past the cap. */
void *sl_arena_alloc(sl_arena *a, size_t n);
void *sl_arena_calloc(sl_arena *a, size_t n);
/* Copy n bytes and add a NUL. */
char *sl_arena_strndup(sl_arena *a, const char *s, size_t n);
char *sl_arena_strdup(sl_arena *a, const char *s);
char *sl_arena_printf(sl_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free everything but the first block, for reuse per page or batch. */
void sl_arena_reset(sl_arena *a);
void sl_arena_free(sl_arena *a);

/* ---- string view ---------------------------------------------------------- */

typedef struct sl_str {
  const char *ptr;
  size_t len;
} sl_str;

#define SL_STR(lit) ((sl_str){(lit), sizeof(lit) - 1})
static inline sl_str sl_str_of(const char *s);
int sl_str_eq(sl_str a, const char *s);

#ifdef __cplusplus
}
#endif

#include <string.h>
static inline sl_str sl_str_of(const char *s) {
  sl_str r = {s, s ? strlen(s) : 0};
  return r;
}

#endif

/* Capped growable buffers and the arena allocator (see sluice/buf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/buf.h"

void sl_buf_init(sl_buf *b, size_t max) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->max = max;
}

void sl_buf_free(sl_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

sl_status sl_buf_reserve(sl_buf *b, size_t n) {
  size_t max = b->max ? b->max : SL_BUF_DEFAULT_MAX;
  if (n > max || b->len > max - n) return SL_TOO_LARGE;
  size_t need = b->len + n + 1; /* room for the NUL */
  if (need <= b->cap) return SL_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > (SIZE_MAX / 2) ? need : cap * 2;
  if (cap > max + 1) cap = max + 1;
  if (cap < need) cap = need;
  char *p = realloc(b->data, cap);
  if (!p) return SL_NOMEM;
  if (!b->data) p[0] = '\0';
  b->data = p;
  b->cap = cap;
  return SL_OK;
}

sl_status sl_buf_append(sl_buf *b, const void *p, size_t n) {
  sl_status st = sl_buf_reserve(b, n);
  if (st != SL_OK) return st;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return SL_OK;
}

sl_status sl_buf_puts(sl_buf *b, const char *s) { return sl_buf_append(b, s, strlen(s)); }

sl_status sl_buf_putc(sl_buf *b, char c) {
  if (b->len + 1 < b->cap) {
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return SL_OK;
  }
  return sl_buf_append(b, &c, 1);
}

sl_status sl_buf_vprintf(sl_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n < 0) return SL_INVALID_ARG;
  if ((size_t)n < sizeof small) return sl_buf_append(b, small, (size_t)n);
  sl_status st = sl_buf_reserve(b, (size_t)n);
  if (st != SL_OK) return st;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return SL_OK;
}

sl_status sl_buf_printf(sl_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sl_status st = sl_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return st;
}

char *sl_buf_steal(sl_buf *b, size_t *len) {
  char *p = b->data;
  if (!p) {
    p = malloc(1);
    if (p) p[0] = '\0';
  }
  if (len) *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

int sl_str_eq(sl_str a, const char *s) {
  size_t n = strlen(s);
  return a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}

/* ---- arena ---------------------------------------------------------------- */

struct sl_arena_block {
  sl_arena_block *next;
  size_t size, used;
  _Alignas(16) unsigned char mem[];
};

#define ARENA_ALIGN 16

void sl_arena_init(sl_arena *a, size_t block_size, size_t max) {
  a->head = NULL;
  a->block_size = block_size ? block_size : 64 * 1024;
  a->used = 0;
  a->max = max;
}

static sl_arena_block *arena_new_block(size_t size) {
  sl_arena_block *b = malloc(sizeof *b + size);
  if (!b) return NULL;
  b->next = NULL;
  b->size = size;
  b->used = 0;
  return b;
}

void *sl_arena_alloc(sl_arena *a, size_t n) {
  if (!a->block_size) a->block_size = 64 * 1024;
  size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (need < n) return NULL; /* overflow */
  if (a->max && a->used + need > a->max) return NULL;
  sl_arena_block *b = a->head;
  if (!b || b->size - b->used < need) {
    if (need > a->block_size / 4) {
      /* Big allocation: its own block, linked behind the current head so the
       * head keeps serving small allocations. */
      sl_arena_block *big = arena_new_block(need);
      if (!big) return NULL;
      big->used = need;
      if (a->head) {
        big->next = a->head->next;
        a->head->next = big;
      } else {
        a->head = big;
      }
      a->used += need;
      return big->mem;
    }
    b = arena_new_block(a->block_size);
    if (!b) return NULL;
    b->next = a->head;
    a->head = b;
  }
  void *p = b->mem + b->used;
  b->used += need;
  a->used += need;
  return p;
}

void *sl_arena_calloc(sl_arena *a, size_t n) {
  void *p = sl_arena_alloc(a, n);
  if (p) memset(p, 0, n);
  return p;
}

char *sl_arena_strndup(sl_arena *a, const char *s, size_t n) {
  char *p = sl_arena_alloc(a, n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *sl_arena_strdup(sl_arena *a, const char *s) { return sl_arena_strndup(a, s, strlen(s)); }

char *sl_arena_printf(sl_arena *a, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = n >= 0 ? sl_arena_alloc(a, (size_t)n + 1) : NULL;
  if (p) vsnprintf(p, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return p;
}

void sl_arena_reset(sl_arena *a) {
  sl_arena_block *b = a->head;
  if (!b) return;
  /* Keep the last (oldest) ordinary block; free the rest. */
  sl_arena_block *keep = NULL;
  while (b) {
    sl_arena_block *next = b->next;
    if (!keep && next == NULL && b->size == a->block_size) {
      keep = b;
    } else {
      free(b);
    }
    b = next;
  }
  a->head = keep;
  if (keep) {
    keep->used = 0;
    keep->next = NULL;
  }
  a->used = 0;
}

void sl_arena_free(sl_arena *a) {
  sl_arena_block *b = a->head;
  while (b) {
    sl_arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
  a->used = 0;
}

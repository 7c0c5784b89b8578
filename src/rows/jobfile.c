/* Job files (see sluice/rows.h): the rows of one table between normalize and
 * load, in a compact binary form written append-only and closed by a footer.
 *
 * Layout (little-endian; varint = unsigned LEB128, zigzag for signed):
 *   header   "SLJOB\x01\r\n"                          8 bytes
 *   records  'C' type:u8 name_len:varint name         a column, on its first use
 *            'R' len:varint payload[len]              a row; payload =
 *                 nvals:varint { col:varint value }*   col indexes the 'C' records
 *                 value by type: bigint/timestamp/time/date zigzag varint,
 *                 double 8 bytes, bool 1 byte (0/1), text/json/decimal/wei/binary
 *                 len:varint bytes
 *   footer   'F' table_len:varint table ncols:varint { type:u8 name_len:varint name }*
 *                rows:varint
 *   trailer  footer_offset:u64 rows:u64 body_crc:u32 footer_crc:u32 "SLJOBEND"  32 bytes
 * body_crc is the CRC-32 of bytes [0, footer_offset), footer_crc of the footer.
 * A file without a valid trailer and footer was not completed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/rows.h"

#define JOB_MAGIC "SLJOB\x01\r\n"
#define JOB_END "SLJOBEND"
#define MAGIC_LEN 8
#define TRAILER_LEN 32
#define WBUF_SIZE (256u * 1024u)
#define RBUF_SIZE (256u * 1024u)
#define MAX_FOOTER (64u << 20)  /* columns and names: far beyond any real table */
#define MAX_NAME (1u << 20)
#define MAX_COLUMNS (1u << 20)

enum { REC_COLUMN = 'C', REC_ROW = 'R', REC_FOOTER = 'F' };

static bool dtype_valid(unsigned t) { return t < SL_T_COUNT_; }

typedef enum enc { ENC_VARINT, ENC_DOUBLE, ENC_BOOL, ENC_BYTES } enc;

static enc enc_of(sl_dtype t) {
  switch (t) {
    case SL_T_BIGINT:
    case SL_T_TIMESTAMP:
    case SL_T_TIME:
    case SL_T_DATE:
      return ENC_VARINT;
    case SL_T_DOUBLE:
      return ENC_DOUBLE;
    case SL_T_BOOL:
      return ENC_BOOL;
    default:
      return ENC_BYTES;
  }
}

static inline uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static inline size_t put_varint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, n++;
  return n;
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* CRC-32 over any length (zlib takes uInt lengths). */
static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n) {
  while (n) {
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    crc = (uint32_t)crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return crc;
}

/* ==== writer ======================================================================== */

struct sl_job_writer {
  int fd;
  char *path;
  char *table;
  uint8_t *buf;
  size_t len;       /* bytes buffered */
  uint64_t flushed; /* bytes written to the file */
  uint64_t rows;
  uint32_t crc;     /* of everything flushed */
  /* schema column index -> file column index + 1 (0: not used yet) */
  uint32_t *map;
  size_t map_cap;
  sl_job_column *cols; /* file columns in first-use order (names owned) */
  size_t ncols, cols_cap;
  sl_status failed; /* a failed write poisons the writer */
};

static sl_status w_flush(sl_job_writer *w, sl_error *err) {
  const uint8_t *p = w->buf;
  size_t n = w->len;
  w->crc = crc_update(w->crc, p, n);
  while (n) {
    ssize_t r = write(w->fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      w->failed = SL_IO;
      sl_error_set(err, SL_IO, "cannot write the job file %s: %s", w->path, strerror(errno));
      sl_error_at(err, w->path, 0, 0, (int64_t)w->flushed);
      return SL_IO;
    }
    p += r;
    n -= (size_t)r;
    w->flushed += (uint64_t)r;
  }
  w->len = 0;
  return SL_OK;
}

/* Start a record of n bytes on a fresh buffer when it would not fit, so most
 * records are written whole; one larger than the buffer streams through w_put. */
static sl_status w_reserve(sl_job_writer *w, size_t n, sl_error *err) {
  return w->len + n <= WBUF_SIZE ? SL_OK : w_flush(w, err);
}

static sl_status w_put(sl_job_writer *w, const void *data, size_t n, sl_error *err) {
  const uint8_t *p = data;
  while (n) {
    if (w->len == WBUF_SIZE) {
      sl_status st = w_flush(w, err);
      if (st) return st;
    }
    size_t k = WBUF_SIZE - w->len;
    if (k > n) k = n;
    memcpy(w->buf + w->len, p, k);
    w->len += k;
    p += k;
    n -= k;
  }
  return SL_OK;
}

sl_job_writer *sl_job_writer_open(const char *path, const char *table, sl_error *err) {
  if (!path || !table || !*table) {
    sl_error_set(err, SL_INVALID_ARG, "job writer needs a path and a table name");
    return NULL;
  }
  if (strlen(table) > MAX_NAME) {
    sl_error_set(err, SL_INVALID_ARG, "table name too long for a job file");
    return NULL;
  }
  sl_job_writer *w = calloc(1, sizeof *w);
  if (!w || !(w->path = strdup(path)) || !(w->table = strdup(table)) ||
      !(w->buf = malloc(WBUF_SIZE))) {
    if (w) free(w->path), free(w->table), free(w);
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (w->fd < 0) {
    sl_error_set(err, errno == EEXIST ? SL_EXISTS : SL_IO, "cannot create the job file %s: %s",
                 path, strerror(errno));
    sl_error_at(err, path, 0, 0, -1);
    free(w->buf), free(w->path), free(w->table), free(w);
    return NULL;
  }
  memcpy(w->buf, JOB_MAGIC, MAGIC_LEN);
  w->len = MAGIC_LEN;
  return w;
}

static void w_free(sl_job_writer *w) {
  if (w->fd >= 0) close(w->fd);
  for (size_t i = 0; i < w->ncols; i++) free((char *)w->cols[i].name);
  free(w->cols);
  free(w->map);
  free(w->buf);
  free(w->path);
  free(w->table);
  free(w);
}

/* File column for schema column c, defining it on first use. */
static sl_status w_column(sl_job_writer *w, const sl_table *t, uint32_t c, uint32_t *out,
                          sl_error *err) {
  if (c >= t->ncolumns) {
    sl_error_set(err, SL_INVALID_ARG, "row value for column %u, but table %s has %zu columns", c,
                 t->name, t->ncolumns);
    sl_error_where(err, t->name, NULL);
    return SL_INVALID_ARG;
  }
  if (c >= w->map_cap) {
    size_t cap = w->map_cap ? w->map_cap : 32;
    while (cap <= c) cap *= 2;
    uint32_t *m = realloc(w->map, cap * sizeof *m);
    if (!m) return sl_error_set(err, SL_NOMEM, "out of memory");
    memset(m + w->map_cap, 0, (cap - w->map_cap) * sizeof *m);
    w->map = m;
    w->map_cap = cap;
  }
  if (w->map[c]) {
    *out = w->map[c] - 1;
    return SL_OK;
  }
  const sl_column *col = &t->columns[c];
  size_t nlen = strlen(col->name);
  if (nlen > MAX_NAME || !dtype_valid(col->type))
    return sl_error_set(err, SL_INVALID_ARG, "column %s cannot be stored in a job file", col->name);
  if (w->ncols == w->cols_cap) {
    size_t cap = w->cols_cap ? w->cols_cap * 2 : 16;
    sl_job_column *v = realloc(w->cols, cap * sizeof *v);
    if (!v) return sl_error_set(err, SL_NOMEM, "out of memory");
    w->cols = v;
    w->cols_cap = cap;
  }
  char *name = strdup(col->name);
  if (!name) return sl_error_set(err, SL_NOMEM, "out of memory");
  uint8_t head[16];
  size_t hn = 0;
  head[hn++] = REC_COLUMN;
  head[hn++] = (uint8_t)col->type;
  hn += put_varint(head + hn, nlen);
  sl_status st = w_put(w, head, hn, err);
  if (!st) st = w_put(w, name, nlen, err);
  if (st) {
    free(name);
    return st;
  }
  w->cols[w->ncols] = (sl_job_column){name, col->type};
  w->map[c] = (uint32_t)++w->ncols;
  *out = (uint32_t)(w->ncols - 1);
  return SL_OK;
}

sl_status sl_job_write_row(sl_job_writer *w, const sl_table *t, const sl_row_value *vals, size_t n,
                           sl_error *err) {
  if (w->failed) return sl_error_set(err, w->failed, "the job file %s failed earlier", w->path);
  if (!t) return sl_error_set(err, SL_INVALID_ARG, "no table for the row");
  /* First pass: define new columns and size the row. */
  uint32_t stack_fc[64], *fc = n <= 64 ? stack_fc : malloc(n * sizeof *fc);
  if (!fc) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_status st = SL_OK;
  uint64_t payload = varint_len(n);
  for (size_t i = 0; i < n && !st; i++) {
    st = w_column(w, t, vals[i].col, &fc[i], err);
    if (st) break;
    payload += varint_len(fc[i]);
    switch (enc_of(w->cols[fc[i]].type)) {
      case ENC_VARINT: payload += varint_len(zigzag(vals[i].v.i)); break;
      case ENC_DOUBLE: payload += 8; break;
      case ENC_BOOL: payload += 1; break;
      case ENC_BYTES: payload += varint_len(vals[i].v.s.n) + vals[i].v.s.n; break;
    }
  }
  if (st) goto out;
  uint8_t tmp[24];
  tmp[0] = REC_ROW;
  size_t hn = 1 + put_varint(tmp + 1, payload);
  hn += put_varint(tmp + hn, n);
  if ((st = w_reserve(w, hn + (size_t)payload, err)) || (st = w_put(w, tmp, hn, err))) goto out;
  for (size_t i = 0; i < n; i++) {
    uint8_t *p;
    bool direct = w->len + 20 <= WBUF_SIZE;
    uint8_t local[24];
    p = direct ? w->buf + w->len : local;
    size_t k = put_varint(p, fc[i]);
    const sl_row_value *v = &vals[i];
    switch (enc_of(w->cols[fc[i]].type)) {
      case ENC_VARINT: k += put_varint(p + k, zigzag(v->v.i)); break;
      case ENC_DOUBLE: memcpy(p + k, &v->v.d, 8), k += 8; break; /* little-endian hosts */
      case ENC_BOOL: p[k++] = v->v.b ? 1 : 0; break;
      case ENC_BYTES: k += put_varint(p + k, v->v.s.n); break;
    }
    if (direct)
      w->len += k;
    else if ((st = w_put(w, local, k, err)))
      goto out;
    if (enc_of(w->cols[fc[i]].type) == ENC_BYTES && v->v.s.n &&
        (st = w_put(w, v->v.s.p, v->v.s.n, err)))
      goto out;
  }
  w->rows++;
out:
  if (fc != stack_fc) free(fc);
  if (st && !w->failed) w->failed = st;
  return st;
}

uint64_t sl_job_writer_rows(const sl_job_writer *w) { return w->rows; }
uint64_t sl_job_writer_bytes(const sl_job_writer *w) { return w->flushed + w->len; }

/* The footer record, built in memory (it is small) so its CRC is taken in one go. */
static sl_status build_footer(const sl_job_writer *w, sl_buf *f) {
  uint8_t tmp[16];
  size_t tl = strlen(w->table), k;
  tmp[0] = REC_FOOTER;
  k = 1 + put_varint(tmp + 1, tl);
  sl_status st = sl_buf_append(f, tmp, k);
  if (!st) st = sl_buf_append(f, w->table, tl);
  k = put_varint(tmp, w->ncols);
  if (!st) st = sl_buf_append(f, tmp, k);
  for (size_t i = 0; i < w->ncols && !st; i++) {
    size_t nl = strlen(w->cols[i].name);
    tmp[0] = (uint8_t)w->cols[i].type;
    k = 1 + put_varint(tmp + 1, nl);
    st = sl_buf_append(f, tmp, k);
    if (!st) st = sl_buf_append(f, w->cols[i].name, nl);
  }
  k = put_varint(tmp, w->rows);
  if (!st) st = sl_buf_append(f, tmp, k);
  return st;
}

static sl_status fsync_parent(const char *path, sl_error *err) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (!slash) {
    strcpy(dir, ".");
  } else {
    size_t dl = slash == path ? 1 : (size_t)(slash - path);
    if (dl >= sizeof dir) return SL_OK;
    memcpy(dir, path, dl);
    dir[dl] = '\0';
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return sl_error_set(err, SL_IO, "cannot open the folder %s: %s", dir, strerror(errno));
  sl_status st = SL_OK;
  if (fsync(dfd) != 0 && errno != EINVAL)
    st = sl_error_set(err, SL_IO, "cannot sync the folder %s: %s", dir, strerror(errno));
  close(dfd);
  return st;
}

sl_status sl_job_writer_close(sl_job_writer *w, sl_error *err) {
  if (!w) return SL_OK;
  sl_status st = w->failed;
  sl_buf f = {0};
  if (st) {
    sl_error_set(err, st, "the job file %s failed earlier and was not completed", w->path);
    goto fail;
  }
  uint64_t footer_off = sl_job_writer_bytes(w);
  /* The body CRC covers everything before the footer: flush it first. */
  if ((st = w_flush(w, err))) goto fail;
  uint32_t body_crc = w->crc;
  if ((st = build_footer(w, &f))) {
    sl_error_set(err, st, "cannot build the footer of %s", w->path);
    goto fail;
  }
  uint8_t tr[TRAILER_LEN];
  put_u64(tr, footer_off);
  put_u64(tr + 8, w->rows);
  put_u32(tr + 16, body_crc);
  put_u32(tr + 20, crc_update(0, (const uint8_t *)f.data, f.len));
  memcpy(tr + 24, JOB_END, 8);
  if ((st = w_put(w, f.data, f.len, err)) || (st = w_put(w, tr, TRAILER_LEN, err)) ||
      (st = w_flush(w, err)))
    goto fail;
  if (fsync(w->fd) != 0) {
    st = sl_error_set(err, SL_IO, "cannot sync the job file %s: %s", w->path, strerror(errno));
    goto fail;
  }
  int fd = w->fd;
  w->fd = -1;
  if (close(fd) != 0) {
    st = sl_error_set(err, SL_IO, "cannot close the job file %s: %s", w->path, strerror(errno));
    goto fail;
  }
  /* The file's entry in its folder must reach the disk too. */
  if ((st = fsync_parent(w->path, err))) goto fail;
  sl_buf_free(&f);
  w_free(w);
  return SL_OK;
fail:
  sl_buf_free(&f);
  sl_error_at(err, w->path, 0, 0, -1);
  if (w->fd >= 0) close(w->fd), w->fd = -1;
  unlink(w->path); /* an incomplete job file would be rejected anyway */
  w_free(w);
  return st;
}

void sl_job_writer_discard(sl_job_writer *w) {
  if (!w) return;
  if (w->fd >= 0) close(w->fd), w->fd = -1;
  unlink(w->path);
  w_free(w);
}

/* ==== reader ======================================================================== */

struct sl_job_reader {
  int fd;
  char *path;
  char *table;
  sl_job_column *cols; /* from the footer */
  size_t ncols;
  uint64_t rows;       /* from the footer */
  uint64_t footer_off; /* end of the body */
  uint32_t body_crc;   /* expected */
  /* streaming state */
  uint8_t *buf;
  size_t cap, start, end; /* buf[start, end) holds unread bytes */
  uint64_t buf_off;       /* file offset of buf[0] */
  uint64_t read_off;      /* file offset of the next byte to read from the fd */
  uint32_t crc;           /* of the body bytes consumed so far */
  size_t defined;         /* 'C' records seen so far */
  uint64_t rows_read;
  sl_row_value *vals;
  uint32_t *seen;         /* per column: the row number that last set it (duplicate check) */
  bool done;
  sl_status failed;
};

static sl_status corrupt(sl_job_reader *r, sl_error *err, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static sl_status corrupt(sl_job_reader *r, sl_error *err, uint64_t off, const char *fmt, ...) {
  char what[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  sl_error_set(err, SL_IO, "corrupt job file %s at byte %llu: %s", r->path,
               (unsigned long long)off, what);
  sl_error_at(err, r->path, 0, 0, (int64_t)off);
  r->failed = SL_IO;
  return SL_IO;
}

/* Bounds-checked decoding of a byte range. */
typedef struct cursor {
  const uint8_t *p, *end;
} cursor;

static bool cur_varint(cursor *c, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (c->p >= c->end) return false;
    uint8_t b = *c->p++;
    if (shift == 63 && b > 1) return false; /* overflow */
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

static bool cur_bytes(cursor *c, uint64_t n, const uint8_t **out) {
  if ((uint64_t)(c->end - c->p) < n) return false;
  *out = c->p;
  c->p += n;
  return true;
}

static void r_free(sl_job_reader *r) {
  if (r->fd >= 0) close(r->fd);
  for (size_t i = 0; i < r->ncols; i++) free((char *)r->cols[i].name);
  free(r->cols);
  free(r->table);
  free(r->path);
  free(r->buf);
  free(r->vals);
  free(r->seen);
  free(r);
}

void sl_job_reader_close(sl_job_reader *r) {
  if (r) r_free(r);
}

static sl_status pread_all(sl_job_reader *r, void *dst, size_t n, uint64_t off, sl_error *err) {
  uint8_t *p = dst;
  while (n) {
    ssize_t got = pread(r->fd, p, n, (off_t)off);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      sl_error_set(err, SL_IO, "cannot read the job file %s: %s", r->path, strerror(errno));
      sl_error_at(err, r->path, 0, 0, (int64_t)off);
      return SL_IO;
    }
    if (got == 0) return corrupt(r, err, off, "unexpected end of file");
    p += got;
    n -= (size_t)got;
    off += (uint64_t)got;
  }
  return SL_OK;
}

static sl_status parse_footer(sl_job_reader *r, const uint8_t *fb, size_t flen, sl_error *err) {
  cursor c = {fb, fb + flen};
  uint64_t off = r->footer_off;
  uint64_t tl, nc, rows;
  const uint8_t *bytes;
#define AT (off + (uint64_t)(c.p - fb))
  if (c.p >= c.end || *c.p++ != REC_FOOTER) return corrupt(r, err, off, "no footer record");
  if (!cur_varint(&c, &tl) || tl == 0 || tl > MAX_NAME || !cur_bytes(&c, tl, &bytes))
    return corrupt(r, err, AT, "bad table name in the footer");
  if (memchr(bytes, 0, tl)) return corrupt(r, err, AT, "NUL in the table name");
  if (!(r->table = strndup((const char *)bytes, tl))) return sl_error_set(err, SL_NOMEM, "out of memory");
  if (!cur_varint(&c, &nc) || nc > MAX_COLUMNS || nc > flen)
    return corrupt(r, err, AT, "bad column count in the footer");
  r->cols = calloc(nc ? nc : 1, sizeof *r->cols);
  if (!r->cols) return sl_error_set(err, SL_NOMEM, "out of memory");
  for (uint64_t i = 0; i < nc; i++) {
    uint64_t nl;
    if (c.p >= c.end) return corrupt(r, err, AT, "footer ends inside column %llu", (unsigned long long)i);
    uint8_t t = *c.p++;
    if (!dtype_valid(t)) return corrupt(r, err, AT - 1, "unknown data type %u of column %llu", t, (unsigned long long)i);
    if (!cur_varint(&c, &nl) || nl == 0 || nl > MAX_NAME || !cur_bytes(&c, nl, &bytes))
      return corrupt(r, err, AT, "bad name of column %llu in the footer", (unsigned long long)i);
    if (memchr(bytes, 0, nl)) return corrupt(r, err, AT, "NUL in a column name");
    char *name = strndup((const char *)bytes, nl);
    if (!name) return sl_error_set(err, SL_NOMEM, "out of memory");
    r->cols[r->ncols++] = (sl_job_column){name, (sl_dtype)t};
  }
  if (!cur_varint(&c, &rows)) return corrupt(r, err, AT, "bad row count in the footer");
  if (rows != r->rows) return corrupt(r, err, AT, "row counts in footer and trailer differ");
  if (c.p != c.end) return corrupt(r, err, AT, "extra bytes after the footer");
#undef AT
  return SL_OK;
}

sl_job_reader *sl_job_reader_open(const char *path, sl_error *err) {
  sl_job_reader *r = calloc(1, sizeof *r);
  if (!r || !(r->path = strdup(path ? path : ""))) {
    free(r);
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  r->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (r->fd < 0) {
    sl_error_set(err, errno == ENOENT ? SL_NOT_FOUND : SL_IO, "cannot open the job file %s: %s",
                 path, strerror(errno));
    sl_error_at(err, path, 0, 0, -1);
    r_free(r);
    return NULL;
  }
  struct stat sb;
  uint8_t tr[TRAILER_LEN], head[MAGIC_LEN];
  uint8_t *fb = NULL;
  if (fstat(r->fd, &sb) != 0) {
    sl_error_set(err, SL_IO, "cannot stat the job file %s: %s", path, strerror(errno));
    goto fail;
  }
  uint64_t size = (uint64_t)sb.st_size;
  if (!S_ISREG(sb.st_mode)) {
    corrupt(r, err, 0, "not a regular file");
    goto fail;
  }
  if (size < MAGIC_LEN + TRAILER_LEN) {
    corrupt(r, err, size, "file too short (%llu bytes): incomplete or not a job file",
            (unsigned long long)size);
    goto fail;
  }
  if (pread_all(r, head, MAGIC_LEN, 0, err)) goto fail;
  if (memcmp(head, JOB_MAGIC, MAGIC_LEN) != 0) {
    corrupt(r, err, 0, "not a sluice job file (bad magic)");
    goto fail;
  }
  if (pread_all(r, tr, TRAILER_LEN, size - TRAILER_LEN, err)) goto fail;
  if (memcmp(tr + 24, JOB_END, 8) != 0) {
    corrupt(r, err, size - TRAILER_LEN, "no trailer: the file was not completed");
    goto fail;
  }
  r->footer_off = get_u64(tr);
  r->rows = get_u64(tr + 8);
  r->body_crc = get_u32(tr + 16);
  uint32_t fcrc = get_u32(tr + 20);
  if (r->footer_off < MAGIC_LEN || r->footer_off >= size - TRAILER_LEN ||
      size - TRAILER_LEN - r->footer_off > MAX_FOOTER) {
    corrupt(r, err, size - TRAILER_LEN, "footer offset %llu out of range",
            (unsigned long long)r->footer_off);
    goto fail;
  }
  size_t flen = (size_t)(size - TRAILER_LEN - r->footer_off);
  if (!(fb = malloc(flen))) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    goto fail;
  }
  if (pread_all(r, fb, flen, r->footer_off, err)) goto fail;
  if (crc_update(0, fb, flen) != fcrc) {
    corrupt(r, err, r->footer_off, "footer checksum mismatch");
    goto fail;
  }
  if (parse_footer(r, fb, flen, err)) goto fail;
  free(fb);
  fb = NULL;
  r->cap = RBUF_SIZE;
  r->buf = malloc(r->cap);
  r->vals = malloc((r->ncols ? r->ncols : 1) * sizeof *r->vals);
  r->seen = calloc(r->ncols ? r->ncols : 1, sizeof *r->seen);
  if (!r->buf || !r->vals || !r->seen) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    goto fail;
  }
  r->read_off = 0;
  r->buf_off = 0;
  return r;
fail:
  free(fb);
  r_free(r);
  return NULL;
}

const char *sl_job_reader_table(const sl_job_reader *r) { return r->table; }
const char *sl_job_reader_path(const sl_job_reader *r) { return r->path; }
size_t sl_job_reader_columns(const sl_job_reader *r, const sl_job_column **cols) {
  if (cols) *cols = r->cols;
  return r->ncols;
}
uint64_t sl_job_reader_row_count(const sl_job_reader *r) { return r->rows; }

/* Make at least need unread bytes available in buf (need <= what the body holds). */
static sl_status r_fill(sl_job_reader *r, size_t need, sl_error *err) {
  if (r->end - r->start >= need) return SL_OK;
  /* Compact: everything before start was consumed (and CRC'ed). */
  if (r->start) {
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->buf_off += r->start;
    r->end -= r->start;
    r->start = 0;
  }
  if (need > r->cap) {
    size_t cap = r->cap;
    while (cap < need) cap *= 2;
    uint8_t *nb = realloc(r->buf, cap);
    if (!nb) return sl_error_set(err, SL_NOMEM, "out of memory reading %s", r->path);
    r->buf = nb;
    r->cap = cap;
  }
  while (r->end < need) {
    uint64_t body_left = r->footer_off - r->read_off;
    size_t want = r->cap - r->end;
    if (want > body_left) want = (size_t)body_left;
    if (want == 0) return corrupt(r, err, r->read_off, "record runs past the end of the rows");
    ssize_t got = pread(r->fd, r->buf + r->end, want, (off_t)r->read_off);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      sl_error_set(err, SL_IO, "cannot read the job file %s: %s", r->path, strerror(errno));
      sl_error_at(err, r->path, 0, 0, (int64_t)r->read_off);
      return SL_IO;
    }
    if (got == 0) return corrupt(r, err, r->read_off, "file shorter than its footer says");
    r->end += (size_t)got;
    r->read_off += (uint64_t)got;
  }
  return SL_OK;
}

/* Consume n buffered bytes (they enter the CRC). */
static inline void r_consume(sl_job_reader *r, size_t n) {
  r->crc = crc_update(r->crc, r->buf + r->start, n);
  r->start += n;
}

static inline uint64_t r_pos(const sl_job_reader *r) { return r->buf_off + r->start; }

/* A varint at the read position, filling the buffer as needed. */
static sl_status r_varint(sl_job_reader *r, uint64_t *v, size_t *len, sl_error *err) {
  uint64_t left = r->footer_off - r_pos(r);
  size_t need = left < 10 ? (size_t)left : 10;
  sl_status st = r_fill(r, need, err);
  if (st) return st;
  cursor c = {r->buf + r->start, r->buf + r->start + need};
  if (!cur_varint(&c, v)) return corrupt(r, err, r_pos(r), "bad varint");
  *len = (size_t)(c.p - (r->buf + r->start));
  return SL_OK;
}

static sl_status r_finish(sl_job_reader *r, sl_error *err) {
  if (r->crc != r->body_crc) return corrupt(r, err, r->footer_off, "checksum mismatch in the rows");
  if (r->rows_read != r->rows)
    return corrupt(r, err, r->footer_off, "%llu rows read but the footer says %llu",
                   (unsigned long long)r->rows_read, (unsigned long long)r->rows);
  if (r->defined != r->ncols)
    return corrupt(r, err, r->footer_off, "%zu columns defined but the footer lists %zu",
                   r->defined, r->ncols);
  r->done = true;
  return SL_NOT_FOUND;
}

sl_status sl_job_read_row(sl_job_reader *r, const sl_row_value **vals, size_t *n, sl_error *err) {
  *n = 0;
  if (vals) *vals = r->vals;
  if (r->failed) return sl_error_set(err, r->failed, "the job file %s is corrupt", r->path);
  if (r->done) return SL_NOT_FOUND;
  sl_status st;
  for (;;) {
    if (r->buf_off == 0 && r->start == 0) { /* the header */
      if ((st = r_fill(r, MAGIC_LEN, err))) return st;
      r_consume(r, MAGIC_LEN);
    }
    uint64_t pos = r_pos(r);
    if (pos == r->footer_off) return r_finish(r, err);
    if ((st = r_fill(r, 1, err))) return st;
    uint8_t tag = r->buf[r->start];
    if (tag == REC_COLUMN) {
      uint64_t nl;
      size_t vl;
      if ((st = r_fill(r, 2, err))) return st;
      uint8_t t = r->buf[r->start + 1];
      r_consume(r, 2);
      if ((st = r_varint(r, &nl, &vl, err))) return st;
      if (nl == 0 || nl > MAX_NAME || nl > r->footer_off - r_pos(r) - vl)
        return corrupt(r, err, r_pos(r), "bad column name length");
      r_consume(r, vl);
      if ((st = r_fill(r, (size_t)nl, err))) return st;
      size_t i = r->defined;
      if (i >= r->ncols) return corrupt(r, err, pos, "more columns than the footer lists");
      const sl_job_column *fc = &r->cols[i];
      if (fc->type != t || strlen(fc->name) != nl || memcmp(fc->name, r->buf + r->start, nl) != 0)
        return corrupt(r, err, pos, "column %zu differs from the footer's", i);
      r_consume(r, (size_t)nl);
      r->defined++;
      continue;
    }
    if (tag != REC_ROW) return corrupt(r, err, pos, "unknown record type 0x%02x", tag);
    r_consume(r, 1);
    uint64_t plen;
    size_t vl;
    if ((st = r_varint(r, &plen, &vl, err))) return st;
    if (plen > r->footer_off - r_pos(r) - vl) return corrupt(r, err, pos, "row length past the end");
    r_consume(r, vl);
    if ((st = r_fill(r, (size_t)plen, err))) return st;
    /* The whole row is in the buffer: decode with bounds checks, then consume it. */
    const uint8_t *base = r->buf + r->start;
    cursor c = {base, base + plen};
    uint64_t nv;
    if (r->rows_read >= r->rows) return corrupt(r, err, pos, "more rows than the footer says");
    uint32_t rowmark = (uint32_t)(r->rows_read + 1);
    if (rowmark == 0) memset(r->seen, 0, r->ncols * sizeof *r->seen), rowmark = 1;
    if (!cur_varint(&c, &nv) || nv > r->defined) return corrupt(r, err, pos, "bad value count");
    for (uint64_t i = 0; i < nv; i++) {
      uint64_t col, u;
      const uint8_t *b;
      if (!cur_varint(&c, &col) || col >= r->defined)
        return corrupt(r, err, r_pos(r) + (uint64_t)(c.p - base), "bad column index in a row");
      if (r->seen[col] == rowmark)
        return corrupt(r, err, r_pos(r) + (uint64_t)(c.p - base), "column %llu twice in one row",
                       (unsigned long long)col);
      r->seen[col] = rowmark;
      sl_row_value *v = &r->vals[i];
      v->col = (uint32_t)col;
      bool ok = true;
      switch (enc_of(r->cols[col].type)) {
        case ENC_VARINT:
          ok = cur_varint(&c, &u);
          if (ok) v->v.i = unzigzag(u);
          break;
        case ENC_DOUBLE:
          ok = cur_bytes(&c, 8, &b);
          if (ok) memcpy(&v->v.d, b, 8);
          break;
        case ENC_BOOL:
          ok = cur_bytes(&c, 1, &b) && *b <= 1;
          if (ok) v->v.b = *b == 1;
          break;
        case ENC_BYTES:
          ok = cur_varint(&c, &u) && cur_bytes(&c, u, &b);
          if (ok) v->v.s.p = (const char *)b, v->v.s.n = (size_t)u;
          break;
      }
      if (!ok)
        return corrupt(r, err, r_pos(r) + (uint64_t)(c.p - base), "bad value of column %s",
                       r->cols[col].name);
    }
    if (c.p != c.end) return corrupt(r, err, pos, "row length does not match its values");
    r_consume(r, (size_t)plen);
    r->rows_read++;
    *n = (size_t)nv;
    return SL_OK;
  }
}

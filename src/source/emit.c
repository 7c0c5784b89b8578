/* The extract stage's side of a resource: the emitter validates every record
 * as JSON (streaming, any chunk size), picks records out of documents with a
 * data selector, copies each record's bytes verbatim into rotated extract
 * files, and runs child resources once per parent record. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/log.h"
#include "source/source_int.h"

#define WRITE_BUF (1u << 20)

typedef enum { SEG_KEY, SEG_ANY, SEG_INDEX } seg_kind;
typedef struct seg {
  seg_kind kind;
  char *key;
  size_t klen;
  int64_t index;
} seg;

typedef struct frame {
  int m;      /* selector segments matched by this container; -1: outside the path */
  int key_m;  /* for objects: the match of the value after the current key */
  bool arr;
  bool items_records; /* the array the selector chose: each item is a record */
  int64_t idx;
} frame;

struct sl_emitter {
  sl_source *src;
  sl_resource *res;
  const sl__extract_opts *o;
  /* extract files */
  int fd;
  unsigned files;
  uint64_t file_bytes, total_bytes;
  sl_buf wbuf;
  uint64_t count;
  bool stopped;
  /* stream */
  bool streaming;
  sl_json_parser *parser;
  char name[512];
  seg *segs;
  size_t nsegs;
  bool implicit_items;
  frame *frames;
  size_t nframes, capframes;
  bool rec_active;
  int rec_depth;
  int64_t rec_start;
  sl_buf carry, scratch;
  const char *chunk;
  int64_t base;
  size_t chunk_len;
  sl_status cb_status;
  sl_error cb_err;
  /* auto data selector (REST without data_selector): the first list under a
   * usual key at the top of an object is the records; else the document is */
  bool auto_sel, auto_capture, auto_key_hit;
  int64_t auto_start;
  sl_buf auto_buf;
  /* tree */
  sl_emitter **children;
  size_t nchildren;
  sl_value *state;
  /* kinds that drive their own requests (REST) */
  sl__record_hook hook;
  void *hook_ud;
  sl_buf hook_out;
  bool defer_children; /* queue parent records; sl__emit_flush_children runs them */
  sl_emitter *owner;   /* a fork: the emitter whose file indices and counts it shares */
  unsigned cur_index;  /* a fork: the index of its (single) extract file */
  sl_buf deferred;     /* queued records, each followed by '\n' */
};

/* ---- extract files ----------------------------------------------------------- */

static sl_status wflush(sl_emitter *em, sl_error *err) {
  size_t off = 0;
  while (off < em->wbuf.len) {
    ssize_t w = write(em->fd, em->wbuf.data + off, em->wbuf.len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return sl_error_set(err, SL_IO, "cannot write an extract file of '%s': %s", em->res->name,
                          strerror(errno));
    }
    off += (size_t)w;
  }
  sl_buf_reset(&em->wbuf);
  return SL_OK;
}

static sl_status wclose(sl_emitter *em, sl_error *err) {
  if (em->fd < 0) return SL_OK;
  sl_status st = wflush(em, err);
  if (st == SL_OK && fsync(em->fd) != 0)
    st = sl_error_set(err, SL_IO, "cannot fsync an extract file: %s", strerror(errno));
  close(em->fd);
  em->fd = -1;
  return st;
}

static sl_status wopen(sl_emitter *em, sl_error *err) {
  char path[4096];
  unsigned idx = em->owner ? (em->cur_index = em->owner->files++) : em->files;
  snprintf(path, sizeof path, "%s/%s.%u.jsonl", em->o->extract_dir, em->res->name, idx);
  em->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (em->fd < 0) return sl_error_set(err, SL_IO, "cannot create %s: %s", path, strerror(errno));
  em->files++;
  em->file_bytes = 0;
  return SL_OK;
}

static sl_status wrecord(sl_emitter *em, const char *p, size_t n, sl_error *err) {
  sl_status st;
  if (em->fd < 0 && (st = wopen(em, err))) return st;
  if (em->wbuf.len + n + 1 > WRITE_BUF && em->wbuf.len && (st = wflush(em, err))) return st;
  if ((st = sl_buf_append(&em->wbuf, p, n)) || (st = sl_buf_putc(&em->wbuf, '\n')))
    return sl_error_set(err, st, "record too large for the extract buffer");
  em->file_bytes += n + 1;
  em->total_bytes += n + 1;
  /* a fork keeps one file: its index was taken from the owner when it opened */
  if (!em->owner && em->file_bytes >= em->o->file_max_bytes) return wclose(em, err);
  return SL_OK;
}

/* ---- records ------------------------------------------------------------------ */

static sl_status run_children(sl_emitter *em, const sl_value *item, sl_error *err);

/* One validated record: keep it (when selected), hand it to the children. */
static sl_status deliver(sl_emitter *em, const char *p, size_t n, const sl_value *tree,
                         sl_error *err) {
  if (em->stopped) return SL_OK;
  sl_status st;
  if (em->hook) {
    sl_buf_reset(&em->hook_out);
    bool keep = true;
    if ((st = em->hook(em->hook_ud, p, n, &em->hook_out, &keep, err))) return st;
    if (!keep) return SL_OK;
    if (em->hook_out.len) p = em->hook_out.data, n = em->hook_out.len, tree = NULL;
  }
  if (em->res->selected && (st = wrecord(em, p, n, err))) return st;
  em->count++;
  if (em->nchildren && em->defer_children) {
    if ((st = sl_buf_append(&em->deferred, p, n)) || (st = sl_buf_putc(&em->deferred, '\n')))
      return sl_error_set(err, st, "the records of one page of '%s' exceed the buffer cap",
                          em->res->name);
  } else if (em->nchildren) {
    if (tree) {
      st = run_children(em, tree, err);
    } else {
      sl_doc *d = sl_json_parse_doc(p, n, em->name, err);
      if (!d) return err && err->code ? err->code : SL_JSON_SYNTAX;
      st = run_children(em, d->root, err);
      sl_doc_free(d);
    }
    if (st) return st;
  }
  sl__crash_point("extract_record");
  if (em->o->limit > 0 && !em->res->limit_pages && em->count >= (uint64_t)em->o->limit) em->stopped = true;
  return SL_OK;
}

static sl_status run_children(sl_emitter *em, const sl_value *item, sl_error *err) {
  for (size_t i = 0; i < em->nchildren; i++) {
    sl_emitter *c = em->children[i];
    if (c->stopped) continue;
    sl_status st = c->res->fn(c, item, c->res->ud, err);
    if (st) {
      if (err && !err->msg[0]) sl_error_set(err, st, "resource '%s' failed", c->res->name);
      return st;
    }
  }
  return SL_OK;
}

/* ---- the data selector --------------------------------------------------------- */

static void free_segs(sl_emitter *em) {
  for (size_t i = 0; i < em->nsegs; i++) free(em->segs[i].key);
  free(em->segs);
  em->segs = NULL;
  em->nsegs = 0;
}

static sl_status add_seg(sl_emitter *em, seg s) {
  seg *n = realloc(em->segs, (em->nsegs + 1) * sizeof *n);
  if (!n) return SL_NOMEM;
  em->segs = n;
  em->segs[em->nsegs++] = s;
  return SL_OK;
}

/* "a.b[*].c", "$.data", "items[0]"; keys may not contain '.' or '['. */
static sl_status parse_selector(sl_emitter *em, const char *sel, sl_error *err) {
  free_segs(em);
  em->implicit_items = true;
  if (!sel) return SL_OK;
  const char *p = sel;
  if (*p == '$') {
    p++;
    if (*p == '.') p++;
  }
  while (*p) {
    const char *k = p;
    while (*p && *p != '.' && *p != '[') p++;
    if (p > k) {
      seg s = {SEG_KEY, strndup(k, (size_t)(p - k)), (size_t)(p - k), 0};
      if (!s.key || add_seg(em, s)) return sl_error_set(err, SL_NOMEM, "out of memory");
    }
    while (*p == '[') {
      p++;
      seg s = {SEG_ANY, NULL, 0, 0};
      if (*p == '*') {
        p++;
      } else if (*p >= '0' && *p <= '9') {
        s.kind = SEG_INDEX;
        while (*p >= '0' && *p <= '9') s.index = s.index * 10 + (*p++ - '0');
      } else {
        return sl_error_set(err, SL_CONFIG_INVALID, "bad data_selector '%s': expected [*] or [N]",
                            sel);
      }
      if (*p++ != ']')
        return sl_error_set(err, SL_CONFIG_INVALID, "bad data_selector '%s': missing ']'", sel);
      if (add_seg(em, s)) return sl_error_set(err, SL_NOMEM, "out of memory");
    }
    if (*p == '.') {
      p++;
      if (!*p) return sl_error_set(err, SL_CONFIG_INVALID, "bad data_selector '%s'", sel);
    } else if (*p) {
      return sl_error_set(err, SL_CONFIG_INVALID, "bad data_selector '%s'", sel);
    }
  }
  if (em->nsegs && em->segs[em->nsegs - 1].kind != SEG_KEY) em->implicit_items = false;
  return SL_OK;
}

sl_status sl__check_selector(const char *sel, sl_error *err);
sl_status sl__check_selector(const char *sel, sl_error *err) {
  sl_emitter tmp;
  memset(&tmp, 0, sizeof tmp);
  sl_status st = parse_selector(&tmp, sel, err);
  free_segs(&tmp);
  return st;
}

static int fail_cb(sl_emitter *em, sl_status st) {
  em->cb_status = st;
  return 1;
}

static int push_frame(sl_emitter *em, int m, bool arr, bool items_records) {
  if (em->nframes == em->capframes) {
    size_t cap = em->capframes ? em->capframes * 2 : 32;
    frame *f = realloc(em->frames, cap * sizeof *f);
    if (!f) return fail_cb(em, sl_error_set(&em->cb_err, SL_NOMEM, "out of memory"));
    em->frames = f;
    em->capframes = cap;
  }
  em->frames[em->nframes++] = (frame){m, -1, arr, items_records, 0};
  return 0;
}

static int record_done(sl_emitter *em, const char *p, size_t n) {
  sl_status st = deliver(em, p, n, NULL, &em->cb_err);
  if (st) return fail_cb(em, st);
  return em->stopped ? 1 : 0;
}

static int record_end(sl_emitter *em, int64_t end) {
  em->rec_active = false;
  if (end - em->base > (int64_t)em->chunk_len || end < em->rec_start)
    return fail_cb(em, sl_error_set(&em->cb_err, SL_INTERNAL,
                                    "JSON record end outside the current chunk"));
  if (em->rec_start >= em->base && em->carry.len == 0)
    return record_done(em, em->chunk + (em->rec_start - em->base), (size_t)(end - em->rec_start));
  if (sl_buf_append(&em->carry, em->chunk, (size_t)(end - em->base)))
    return fail_cb(em, sl_error_set(&em->cb_err, SL_TOO_LARGE, "record too large"));
  int r = record_done(em, em->carry.data, em->carry.len);
  sl_buf_reset(&em->carry);
  return r;
}

static int scalar_record(sl_emitter *em, const sl_json_event *ev) {
  sl_buf *b = &em->scratch;
  sl_buf_reset(b);
  switch (ev->type) {
    case SL_JSON_NULL: sl_buf_puts(b, "null"); break;
    case SL_JSON_TRUE: sl_buf_puts(b, "true"); break;
    case SL_JSON_FALSE: sl_buf_puts(b, "false"); break;
    case SL_JSON_NUMBER: sl_buf_append(b, ev->str, ev->len); break;
    default: sl_json_write_string(b, ev->str, ev->len); break;
  }
  return record_done(em, b->data, b->len);
}

static bool usual_records_key(const char *k, size_t n) {
  static const char *const keys[] = {"data", "items", "results", "records", "entries",
                                     "elements", "objects", "rows", "values", "hits",
                                     "list", "collection", "events", NULL};
  for (size_t i = 0; keys[i]; i++)
    if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0) return true;
  return false;
}

/* The auto selector, for events at the top of the document. Returns 1 when
 * it handled the event (or failed: see cb_status), 0 to let on_event go on. */
static int auto_event(sl_emitter *em, const sl_json_event *ev, int *rc) {
  *rc = 0;
  if (em->nframes == 0 && !em->auto_capture) {
    if (ev->type == SL_JSON_ARRAY_BEGIN) {
      em->auto_sel = false;
      *rc = push_frame(em, -1, true, true);
      return 1;
    }
    if (ev->type == SL_JSON_OBJECT_BEGIN) {
      em->auto_capture = true;
      em->auto_key_hit = false;
      em->auto_start = ev->offset;
      sl_buf_reset(&em->auto_buf);
      *rc = push_frame(em, -1, false, false);
      return 1;
    }
    return 0; /* a scalar document: one record */
  }
  if (!em->auto_capture || em->nframes != 1) return 0;
  if (ev->type == SL_JSON_KEY) {
    em->auto_key_hit = usual_records_key(ev->str, ev->len);
    return 1;
  }
  if (ev->type == SL_JSON_ARRAY_BEGIN && em->auto_key_hit) {
    em->auto_capture = false;
    em->auto_sel = false;
    sl_buf_reset(&em->auto_buf);
    *rc = push_frame(em, -1, true, true);
    return 1;
  }
  if (ev->type == SL_JSON_OBJECT_END) {
    /* No list of records: the document is the record. */
    em->auto_capture = false;
    em->nframes = 0;
    int64_t end = ev->offset + 1;
    if (em->auto_start >= em->base && em->auto_buf.len == 0) {
      *rc = record_done(em, em->chunk + (em->auto_start - em->base),
                        (size_t)(end - em->auto_start));
    } else {
      if (sl_buf_append(&em->auto_buf, em->chunk, (size_t)(end - em->base))) {
        *rc = fail_cb(em, sl_error_set(&em->cb_err, SL_TOO_LARGE, "document too large"));
        return 1;
      }
      *rc = record_done(em, em->auto_buf.data, em->auto_buf.len);
      sl_buf_reset(&em->auto_buf);
    }
    return 1;
  }
  return 0;
}

static int on_event(void *ud, const sl_json_event *ev) {
  sl_emitter *em = ud;
  if (em->auto_sel && !em->rec_active) {
    int rc;
    if (auto_event(em, ev, &rc)) return rc;
  }
  if (em->rec_active) {
    switch (ev->type) {
      case SL_JSON_OBJECT_BEGIN:
      case SL_JSON_ARRAY_BEGIN: em->rec_depth++; return 0;
      case SL_JSON_OBJECT_END:
      case SL_JSON_ARRAY_END: return --em->rec_depth == 0 ? record_end(em, ev->offset + 1) : 0;
      default: return 0;
    }
  }
  if (ev->type == SL_JSON_OBJECT_END || ev->type == SL_JSON_ARRAY_END) {
    if (em->nframes) em->nframes--;
    return 0;
  }
  if (ev->type == SL_JSON_KEY) {
    frame *f = &em->frames[em->nframes - 1];
    f->key_m = -1;
    if (f->m >= 0 && (size_t)f->m < em->nsegs) {
      const seg *s = &em->segs[f->m];
      if (s->kind == SEG_KEY && s->klen == ev->len && memcmp(s->key, ev->str, ev->len) == 0)
        f->key_m = f->m + 1;
    }
    return 0;
  }
  /* A value starts. */
  bool container = ev->type == SL_JSON_OBJECT_BEGIN || ev->type == SL_JSON_ARRAY_BEGIN;
  bool is_record = false;
  int m = 0;
  if (em->nframes) {
    frame *f = &em->frames[em->nframes - 1];
    if (f->arr) {
      int64_t idx = f->idx++;
      if (f->items_records) {
        is_record = true;
      } else if (f->m >= 0 && (size_t)f->m < em->nsegs &&
                 (em->segs[f->m].kind == SEG_ANY ||
                  (em->segs[f->m].kind == SEG_INDEX && em->segs[f->m].index == idx))) {
        m = f->m + 1;
      } else {
        m = -1;
      }
    } else {
      m = f->key_m;
    }
  }
  if (!is_record && m >= 0 && (size_t)m == em->nsegs) {
    if (ev->type == SL_JSON_ARRAY_BEGIN && em->implicit_items) return push_frame(em, -1, true, true);
    is_record = true;
  }
  if (is_record) {
    if (!container) return scalar_record(em, ev);
    em->rec_active = true;
    em->rec_depth = 1;
    em->rec_start = ev->offset;
    sl_buf_reset(&em->carry);
    return 0;
  }
  if (container) return push_frame(em, m, ev->type == SL_JSON_ARRAY_BEGIN, false);
  return 0;
}

/* ---- streams --------------------------------------------------------------------- */

static sl_status stream_begin(sl_emitter *em, const char *sel, bool lines, bool implicit_items,
                              const char *name, sl_error *err) {
  if (em->streaming)
    return sl_error_set(err, SL_INVALID_ARG, "resource '%s' began a stream inside a stream",
                        em->res->name);
  sl_status st = parse_selector(em, sel, err);
  if (st) return st;
  if (!sel || !*sel || !strcmp(sel, "$")) em->implicit_items = implicit_items;
  snprintf(em->name, sizeof em->name, "%s", name ? name : em->res->name);
  sl_json_options jo = {.multi = lines, .name = em->name};
  em->parser = sl_json_parser_new(&jo, on_event, em);
  if (!em->parser) return sl_error_set(err, SL_NOMEM, "out of memory");
  em->streaming = true;
  em->nframes = 0;
  em->rec_active = false;
  em->auto_sel = false;
  em->auto_capture = false;
  sl_buf_reset(&em->auto_buf);
  em->base = 0;
  em->cb_status = SL_OK;
  sl_buf_reset(&em->carry);
  return SL_OK;
}

static sl_status stream_close(sl_emitter *em) {
  sl_json_parser_free(em->parser);
  em->parser = NULL;
  em->streaming = false;
  sl_buf_reset(&em->carry);
  return SL_OK;
}

/* After the parser stopped: the callback's error, a stop (limit), or the parser's. */
static sl_status after_parse(sl_emitter *em, sl_status st, sl_error *err) {
  if (st == SL_OK) return SL_OK;
  if (em->cb_status) {
    if (err) *err = em->cb_err;
    return em->cb_status;
  }
  if (st == SL_ABORTED && em->stopped) {
    sl_error_clear(err);
    return SL_OK;
  }
  if (err && !err->file[0]) sl_error_at(err, em->name, err->line, err->col, err->offset);
  return st;
}

sl_status sl_emit_stream_begin(sl_emitter *em, const char *data_selector, bool lines,
                               const char *name, sl_error *err) {
  return stream_begin(em, data_selector, lines, !lines, name, err);
}

sl_status sl_emit_stream_feed(sl_emitter *em, const void *bytes, size_t len, sl_error *err) {
  if (!em->streaming) return sl_error_set(err, SL_INVALID_ARG, "no stream begun");
  if (em->stopped) return SL_OK;
  em->chunk = bytes;
  em->chunk_len = len;
  sl_status st = sl_json_feed(em->parser, bytes, len, err);
  if (st == SL_OK && em->rec_active) {
    size_t from = em->rec_start > em->base ? (size_t)(em->rec_start - em->base) : 0;
    if (sl_buf_append(&em->carry, (const char *)bytes + from, len - from))
      st = sl_error_set(err, SL_TOO_LARGE, "a record is larger than the buffer cap");
  }
  if (st == SL_OK && em->auto_capture) {
    size_t from = em->auto_start > em->base ? (size_t)(em->auto_start - em->base) : 0;
    if (sl_buf_append(&em->auto_buf, (const char *)bytes + from, len - from))
      st = sl_error_set(err, SL_TOO_LARGE, "a document is larger than the buffer cap");
  }
  em->base += (int64_t)len;
  em->chunk = NULL;
  em->chunk_len = 0;
  st = after_parse(em, st, err);
  if (st) stream_close(em);
  return st;
}

sl_status sl_emit_stream_end(sl_emitter *em, sl_error *err) {
  if (!em->streaming) return SL_OK;
  sl_status st = SL_OK;
  if (!em->stopped) {
    em->chunk = "";
    em->chunk_len = 0;
    st = after_parse(em, sl_json_finish(em->parser, err), err);
  }
  stream_close(em);
  return st;
}

sl_status sl_emit_page(sl_emitter *em, const char *json, size_t len, const char *data_selector,
                       sl_error *err) {
  sl_status st = stream_begin(em, data_selector, false, true, NULL, err);
  if (st == SL_OK) st = sl_emit_stream_feed(em, json, len, err);
  if (st == SL_OK) st = sl_emit_stream_end(em, err);
  return st;
}

sl_status sl_emit_json(sl_emitter *em, const char *json, size_t len, sl_error *err) {
  if (em->stopped) return SL_OK;
  sl_status st = stream_begin(em, NULL, false, false, NULL, err);
  if (st == SL_OK) st = sl_emit_stream_feed(em, json, len, err);
  if (st == SL_OK) st = sl_emit_stream_end(em, err);
  return st;
}

sl_status sl_emit_value(sl_emitter *em, const sl_value *record, sl_error *err) {
  if (em->stopped) return SL_OK;
  sl_buf_reset(&em->scratch);
  sl_status st = sl_v_to_json(record, &em->scratch, 0);
  if (st) return sl_error_set(err, st, "cannot serialize a record of '%s'", em->res->name);
  /* deliver may recurse into children that use their own scratch buffers. */
  return deliver(em, em->scratch.data, em->scratch.len, record, err);
}

bool sl_emit_stopped(const sl_emitter *em) { return em->stopped; }
uint64_t sl_emit_count(const sl_emitter *em) { return em->count; }
const char *sl_emit_resource_name(const sl_emitter *em) { return em->res->name; }
sl_doc *sl_emit_state_doc(sl_emitter *em) { return em->o->state_doc; }
sl_config *sl_emit_config(sl_emitter *em) { return em->o->config; }

sl_value *sl_emit_state(sl_emitter *em) {
  if (em->state) return em->state;
  sl_value *all = em->o->resources_state;
  if (!all) return NULL;
  sl_value *s = sl_v_get(all, em->res->name);
  if (!s || s->type != SL_V_OBJECT) {
    s = sl_v_object(em->o->state_doc);
    if (!s || sl_v_put(em->o->state_doc, all, em->res->name, s)) return NULL;
  }
  return em->state = s;
}

/* ---- for kinds that drive their own requests --------------------------------------- */

void sl__emit_set_hook(sl_emitter *em, sl__record_hook hook, void *ud) {
  em->hook = hook;
  em->hook_ud = ud;
}

void sl__emit_defer_children(sl_emitter *em, bool on) { em->defer_children = on; }

sl_status sl__emit_stream_begin_auto(sl_emitter *em, const char *name, sl_error *err) {
  sl_status st = stream_begin(em, NULL, false, true, name, err);
  if (st == SL_OK) em->auto_sel = true;
  return st;
}

bool sl__emit_has_children(const sl_emitter *em) { return em->nchildren > 0; }

const sl__extract_opts *sl__emit_opts(const sl_emitter *em) { return em->o; }

sl_status sl__emit_flush_children(sl_emitter *em, sl_error *err) {
  if (!em->deferred.len) return SL_OK;
  /* Take the queue: children may run long and the parent queue refills later. */
  sl_buf q = em->deferred;
  memset(&em->deferred, 0, sizeof em->deferred);
  sl_status st = SL_OK;
  char *p = q.data, *end = q.data + q.len;
  while (!st && p < end) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    sl_doc *d = sl_json_parse_doc(p, n, em->name, err);
    if (!d) {
      st = err && err->code ? err->code : SL_JSON_SYNTAX;
      break;
    }
    st = run_children(em, d->root, err);
    sl_doc_free(d);
    p += n + 1;
  }
  sl_buf_free(&q);
  return st;
}

static void emitter_free(sl_emitter *em);

sl_emitter *sl__emit_fork(sl_emitter *em) {
  sl_emitter *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->src = em->src;
  f->res = em->res;
  f->o = em->o;
  f->fd = -1;
  f->owner = em->owner ? em->owner : em;
  f->defer_children = em->nchildren > 0;
  f->nchildren = em->nchildren;
  if (em->nchildren) {
    f->children = malloc(em->nchildren * sizeof *f->children);
    if (!f->children) {
      free(f);
      return NULL;
    }
    memcpy(f->children, em->children, em->nchildren * sizeof *f->children);
  }
  return f;
}

sl_status sl__emit_join(sl_emitter *em, sl_emitter *fork, sl_error *err) {
  sl_status st = SL_OK;
  if (fork->streaming) stream_close(fork);
  if (fork->fd >= 0) st = wclose(fork, err);
  em->count += fork->count;
  em->total_bytes += fork->total_bytes;
  if (!st && fork->deferred.len && sl_buf_append(&em->deferred, fork->deferred.data, fork->deferred.len))
    st = sl_error_set(err, SL_TOO_LARGE, "the records handed to the children of '%s' exceed the buffer cap",
                      em->res->name);
  emitter_free(fork);
  return st;
}

void sl__emit_drop_fork(sl_emitter *fork) { emitter_free(fork); }

size_t sl__emit_nchildren(const sl_emitter *em) { return em->nchildren; }
sl_emitter *sl__emit_child(const sl_emitter *em, size_t i) {
  return i < em->nchildren ? em->children[i] : NULL;
}
const sl_resource *sl__emit_resource(const sl_emitter *em) { return em->res; }

sl_buf sl__emit_take_deferred(sl_emitter *em) {
  sl_buf q = em->deferred;
  memset(&em->deferred, 0, sizeof em->deferred);
  return q;
}

sl_status sl__emit_run_child(sl_emitter *child, const sl_value *item, sl_error *err) {
  if (child->stopped) return SL_OK;
  sl_status st = child->res->fn(child, item, child->res->ud, err);
  if (st && err && !err->msg[0]) sl_error_set(err, st, "resource '%s' failed", child->res->name);
  return st;
}

void sl__emit_mark(sl_emitter *em, sl__emit_pos *pos) {
  pos->files = em->files;
  pos->open = em->fd >= 0;
  pos->file_bytes = em->file_bytes;
  pos->total_bytes = em->total_bytes;
  pos->count = em->count;
  pos->deferred = em->deferred.len;
}

sl_status sl__emit_rewind(sl_emitter *em, const sl__emit_pos *pos, sl_error *err) {
  if (em->streaming) stream_close(em);
  em->stopped = false;
  sl_buf_reset(&em->hook_out);
  if (em->deferred.len > pos->deferred) em->deferred.len = pos->deferred;
  em->count = pos->count;
  em->total_bytes = pos->total_bytes;
  if (em->owner) {
    /* One file, opened once: cut it back (an empty file is a valid extract file). */
    if (em->fd < 0) return SL_OK;
    uint64_t keep = pos->open ? pos->file_bytes : 0;
    uint64_t on_disk = em->file_bytes - em->wbuf.len;
    if (keep >= on_disk) {
      em->wbuf.len = (size_t)(keep - on_disk);
    } else {
      sl_buf_reset(&em->wbuf);
      if (ftruncate(em->fd, (off_t)keep) != 0 || lseek(em->fd, (off_t)keep, SEEK_SET) < 0)
        return sl_error_set(err, SL_IO, "cannot truncate an extract file of '%s': %s",
                            em->res->name, strerror(errno));
    }
    em->file_bytes = keep;
    return SL_OK;
  }
  if (em->files == pos->files && em->fd >= 0 && pos->open) {
    /* Same file: drop what is still buffered, truncate what reached the disk. */
    uint64_t on_disk = em->file_bytes - em->wbuf.len;
    if (pos->file_bytes >= on_disk) {
      em->wbuf.len = (size_t)(pos->file_bytes - on_disk);
    } else {
      sl_buf_reset(&em->wbuf);
      if (ftruncate(em->fd, (off_t)pos->file_bytes) != 0 ||
          lseek(em->fd, (off_t)pos->file_bytes, SEEK_SET) < 0)
        return sl_error_set(err, SL_IO, "cannot truncate an extract file of '%s': %s",
                            em->res->name, strerror(errno));
    }
    em->file_bytes = pos->file_bytes;
    return SL_OK;
  }
  /* The attempt rotated files: remove the new ones, reopen the marked one. */
  sl_buf_reset(&em->wbuf);
  if (em->fd >= 0) close(em->fd);
  em->fd = -1;
  char path[4096];
  for (unsigned i = pos->files; i < em->files; i++) {
    snprintf(path, sizeof path, "%s/%s.%u.jsonl", em->o->extract_dir, em->res->name, i);
    unlink(path);
  }
  em->files = pos->files;
  em->file_bytes = 0;
  if (!pos->open) return SL_OK;
  snprintf(path, sizeof path, "%s/%s.%u.jsonl", em->o->extract_dir, em->res->name,
           pos->files - 1);
  em->fd = open(path, O_WRONLY | O_CLOEXEC);
  if (em->fd < 0 || ftruncate(em->fd, (off_t)pos->file_bytes) != 0 ||
      lseek(em->fd, (off_t)pos->file_bytes, SEEK_SET) < 0)
    return sl_error_set(err, SL_IO, "cannot rewind %s: %s", path, strerror(errno));
  em->file_bytes = pos->file_bytes;
  return SL_OK;
}

/* ---- the driver -------------------------------------------------------------------- */

static void emitter_free(sl_emitter *em) {
  if (!em) return;
  if (em->fd >= 0) close(em->fd);
  sl_json_parser_free(em->parser);
  free_segs(em);
  free(em->frames);
  sl_buf_free(&em->wbuf);
  sl_buf_free(&em->carry);
  sl_buf_free(&em->scratch);
  sl_buf_free(&em->hook_out);
  sl_buf_free(&em->auto_buf);
  sl_buf_free(&em->deferred);
  free(em->children);
  free(em);
}

void sl__extract_results_free(sl__extract_result *res, size_t n) {
  for (size_t i = 0; res && i < n; i++) free(res[i].resource);
  free(res);
}

sl_status sl__source_extract(sl_source *s, const sl__extract_opts *o, sl__extract_result **res,
                             size_t *nres, sl_error *err) {
  *res = NULL;
  *nres = 0;
  size_t n = s->nres;
  if (n == 0) return SL_OK;
  sl_emitter **ems = calloc(n, sizeof *ems);
  if (!ems) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_status st = SL_OK;
  for (size_t i = 0; i < n && !st; i++) {
    sl_emitter *em = ems[i] = calloc(1, sizeof *em);
    if (!em) {
      st = sl_error_set(err, SL_NOMEM, "out of memory");
      break;
    }
    em->src = s;
    em->res = s->res[i];
    em->o = o;
    em->fd = -1;
  }
  /* Link children to parents; refuse unknown parents and cycles. */
  for (size_t i = 0; i < n && !st; i++) {
    const char *parent = s->res[i]->parent;
    if (!parent) continue;
    size_t j = 0;
    while (j < n && strcmp(s->res[j]->name, parent) != 0) j++;
    if (j == n) {
      st = sl_error_set(err, SL_CONFIG_INVALID, "resource '%s' has an unknown parent '%s'",
                        s->res[i]->name, parent);
      break;
    }
    size_t hops = 0;
    for (const sl_resource *r = s->res[j]; r && r->parent && hops <= n; hops++)
      r = sl_source_find(s, r->parent);
    if (hops > n) {
      st = sl_error_set(err, SL_CONFIG_INVALID, "resource '%s' is its own ancestor", s->res[i]->name);
      break;
    }
    sl_emitter **c = realloc(ems[j]->children, (ems[j]->nchildren + 1) * sizeof *c);
    if (!c) {
      st = sl_error_set(err, SL_NOMEM, "out of memory");
      break;
    }
    ems[j]->children = c;
    c[ems[j]->nchildren++] = ems[i];
  }
  /* Kinds that run several top-level resources at once take theirs first. */
  bool *done = calloc(n, sizeof *done);
  sl_emitter **group = calloc(n, sizeof *group);
  if (!st && (!done || !group)) st = sl_error_set(err, SL_NOMEM, "out of memory");
  for (size_t k = 0; k < sl__resource_kind_count && !st; k++) {
    const sl__resource_kind *kind = &sl__resource_kinds[k];
    if (!kind->run_together) continue;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (!ems[i]->res->parent && ems[i]->res->kind == kind) group[m++] = ems[i];
    if (m < 2) continue;
    bool *gdone = calloc(m, sizeof *gdone);
    if (!gdone) {
      st = sl_error_set(err, SL_NOMEM, "out of memory");
      break;
    }
    st = kind->run_together(group, m, gdone, err);
    for (size_t i = 0, j = 0; i < n && j < m; i++)
      if (ems[i] == group[j]) done[i] = gdone[j++];
    free(gdone);
  }
  free(group);
  for (size_t i = 0; i < n && !st; i++) {
    sl_emitter *em = ems[i];
    if (em->res->parent || done[i]) continue;
    SL_DEBUG("extract: resource %s", em->res->name);
    st = em->res->fn(em, NULL, em->res->ud, err);
    if (st && err && !err->msg[0]) sl_error_set(err, st, "resource '%s' failed", em->res->name);
    if (!st && em->streaming) st = sl_emit_stream_end(em, err);
  }
  free(done);
  for (size_t i = 0; i < n && !st; i++) st = wclose(ems[i], err);
  if (!st) {
    sl__extract_result *r = calloc(n, sizeof *r);
    if (!r) st = sl_error_set(err, SL_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; r && i < n; i++) {
      if (!ems[i]->res->selected) continue;
      r[k].resource = strdup(ems[i]->res->name);
      r[k].files = ems[i]->files;
      r[k].records = ems[i]->count;
      r[k].bytes = ems[i]->total_bytes;
      k++;
    }
    *res = r;
    *nres = k;
  }
  for (size_t i = 0; i < n; i++) emitter_free(ems[i]);
  free(ems);
  return st;
}

/* The REST kind's pieces that need no network: placeholders, cursor values
 * (compare, lag), and the paginators' arithmetic, including `auto`, which
 * picks a paginator from what the first response showed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rest/rest_int.h"
#include "sluice/json.h"
#include "sluice/log.h"

sl_status rest_expand(const char *text, const char *const *vars, bool strict, sl_buf *out,
                      sl_error *err) {
  sl_buf_reset(out);
  const char *p = text;
  while (*p) {
    const char *open = strchr(p, '{');
    if (!open) break;
    const char *close = strchr(open + 1, '}');
    if (!close) break;
    sl_buf_append(out, p, (size_t)(open - p));
    size_t n = (size_t)(close - open - 1);
    const char *val = NULL;
    for (size_t i = 0; vars && vars[i]; i += 2)
      if (strlen(vars[i]) == n && memcmp(vars[i], open + 1, n) == 0) {
        val = vars[i + 1];
        break;
      }
    sl_buf day = {0};
    if (!val && rest_relative_date(open + 1, n, &day)) val = day.data;
    if (val) {
      sl_buf_puts(out, val);
    } else if (strict) {
      sl_buf_free(&day);
      return sl_error_set(err, SL_CONFIG_INVALID, "unknown placeholder {%.*s} in '%s'", (int)n,
                          open + 1, text);
    } else {
      sl_buf_append(out, open, (size_t)(close - open + 1));
    }
    sl_buf_free(&day);
    p = close + 1;
  }
  if (sl_buf_puts(out, p)) return sl_error_set(err, SL_NOMEM, "out of memory");
  if (!out->data) sl_buf_puts(out, "");
  return SL_OK;
}

const char *rest_scalar_text(const sl_value *v, sl_buf *tmp) {
  sl_buf_reset(tmp);
  if (!v) return NULL;
  switch (v->type) {
    case SL_V_STRING:
    case SL_V_DATETIME: return v->u.s.ptr;
    case SL_V_INT: sl_buf_printf(tmp, "%lld", (long long)v->u.i); return tmp->data;
    case SL_V_NUMBER: sl_buf_append(tmp, v->u.num.text, v->u.num.len); return tmp->data;
    case SL_V_BOOL: sl_buf_puts(tmp, v->u.b ? "true" : "false"); return tmp->data;
    default: return NULL;
  }
}

/* ---- cursor values -------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return false;
  return n > 0;
}

bool rest_parse_time(const char *s, double *t) {
  size_t n = strlen(s);
  if (n < 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
      !all_digits(s + 8, 2))
    return false;
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = atoi(s) - 1900;
  tm.tm_mon = atoi(s + 5) - 1;
  tm.tm_mday = atoi(s + 8);
  double frac = 0, off = 0;
  const char *p = s + 10;
  if (*p == 'T' || *p == 't' || *p == ' ') {
    p++;
    if (strlen(p) < 5 || !all_digits(p, 2) || p[2] != ':' || !all_digits(p + 3, 2)) return false;
    tm.tm_hour = atoi(p);
    tm.tm_min = atoi(p + 3);
    p += 5;
    if (*p == ':') {
      if (!all_digits(p + 1, 2)) return false;
      tm.tm_sec = atoi(p + 1);
      p += 3;
      if (*p == '.' || *p == ',') {
        char *e;
        frac = strtod(p, &e);
        (void)e;
        p++;
        while (*p >= '0' && *p <= '9') p++;
      }
    }
    if (*p == 'Z' || *p == 'z') {
      p++;
    } else if (*p == '+' || *p == '-') {
      int sign = *p == '-' ? -1 : 1;
      if (!all_digits(p + 1, 2)) return false;
      int hh = atoi(p + 1), mm = 0;
      p += 3;
      if (*p == ':') p++;
      if (all_digits(p, 2)) mm = atoi(p), p += 2;
      off = sign * (hh * 3600.0 + mm * 60.0);
    }
  }
  if (*p) return false;
  *t = (double)timegm(&tm) + frac - off;
  return true;
}

bool rest_date_add(const char *date, int64_t days, sl_buf *out) {
  double t;
  sl_buf_reset(out);
  if (strlen(date) != 10 || !rest_parse_time(date, &t)) return false;
  time_t x = (time_t)t + (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&x, &tm);
  sl_buf_printf(out, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return true;
}

bool rest_relative_date(const char *name, size_t n, sl_buf *out) {
  if (n < 5 || memcmp(name, "today", 5) != 0) return false;
  int64_t days = 0;
  if (n > 5) {
    /* today-30d / today+1d: a sign, 1 to 5 digits, 'd' */
    if ((name[5] != '-' && name[5] != '+') || n < 8 || n > 12 || name[n - 1] != 'd') return false;
    for (size_t i = 6; i < n - 1; i++) {
      if (name[i] < '0' || name[i] > '9') return false;
      days = days * 10 + (name[i] - '0');
    }
    if (name[5] == '-') days = -days;
  }
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char today[48];
  snprintf(today, sizeof today, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return rest_date_add(today, days, out);
}

static bool parse_num(const char *s, double *d) {
  if (!*s) return false;
  char *e;
  *d = strtod(s, &e);
  return *e == '\0';
}

int rest_cursor_cmp(const char *a, const char *b) {
  double x, y;
  if ((parse_num(a, &x) && parse_num(b, &y)) || (rest_parse_time(a, &x) && rest_parse_time(b, &y)))
    return x < y ? -1 : x > y ? 1 : 0;
  int c = strcmp(a, b);
  return c < 0 ? -1 : c > 0;
}

void rest_cursor_lag(const char *v, double lag, sl_buf *out) {
  sl_buf_reset(out);
  double d;
  if (lag == 0) {
    sl_buf_puts(out, v);
  } else if (parse_num(v, &d)) {
    d -= lag;
    if (d == floor(d) && fabs(d) < 9e15 && !strpbrk(v, ".eE"))
      sl_buf_printf(out, "%lld", (long long)d);
    else
      sl_buf_printf(out, "%.17g", d);
  } else if (rest_parse_time(v, &d)) {
    time_t t = (time_t)floor(d - lag);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strlen(v) == 10)
      sl_buf_printf(out, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    else
      sl_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  } else {
    sl_buf_puts(out, v);
  }
}

/* ---- paginators ------------------------------------------------------------------ */

const char *rest_pg_name(rest_pg_type t) {
  static const char *const names[] = {"auto",   "single_page", "json_link",  "header_link",
                                      "cursor", "offset",      "page_number"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

void rest_pg_init(rest_pg_state *ps, const rest_paginator *pg) {
  memset(ps, 0, sizeof *ps);
  ps->pg = *pg;
  ps->first = true;
  if (pg->type == PG_OFFSET) ps->value = pg->offset;
  if (pg->type == PG_PAGE_NUMBER) ps->value = pg->page >= 0 ? pg->page : pg->base_page;
}

void rest_pg_free(rest_pg_state *ps) {
  free(ps->cursor);
  free(ps->next_url);
  ps->cursor = ps->next_url = NULL;
}

static void set_str(char **dst, const char *v) {
  free(*dst);
  *dst = v ? strdup(v) : NULL;
}

sl_status rest_pg_advance(rest_pg_state *ps, const rest_page_facts *f, const char *link_next,
                          sl_error *err) {
  rest_paginator *pg = &ps->pg;
  bool was_first = ps->first;
  ps->first = false;
  set_str(&ps->next_url, NULL);
  switch (pg->type) {
    case PG_AUTO:
      /* Detected from the first response; the caller filled the facts from
       * the usual places (see rest_run.c). Page 1 is never fetched twice:
       * the next request continues from what the first one showed. */
      if (link_next) {
        pg->type = PG_HEADER_LINK;
        pg->links_next_key = "next";
      } else if (f->next_present && f->next_url) {
        pg->type = PG_JSON_LINK;
      } else if (f->cursor_present) {
        pg->type = PG_CURSOR;
      } else if (f->has_total) {
        pg->type = PG_PAGE_NUMBER;
        pg->base_page = 1;
        ps->value = 1;
        if (!pg->page_param) pg->page_param = "page";
      } else if (f->next_present) {
        pg->type = PG_JSON_LINK; /* "next": null — the only page */
      } else {
        pg->type = PG_SINGLE;
        SL_WARN("no paginator recognised in the first response; taking it as the only page "
                "(set `paginator:` to say otherwise)");
      }
      SL_DEBUG("auto paginator: %s", rest_pg_name(pg->type));
      return rest_pg_advance(ps, f, link_next, err);
    case PG_SINGLE: ps->done = true; return SL_OK;
    case PG_JSON_LINK:
    case PG_HEADER_LINK: {
      const char *nx = pg->type == PG_JSON_LINK ? f->next_url : link_next;
      if (nx && *nx) set_str(&ps->next_url, nx);
      else ps->done = true;
      return SL_OK;
    }
    case PG_CURSOR:
      if (!f->cursor || !*f->cursor) {
        ps->done = true;
        return SL_OK;
      }
      if (ps->cursor && strcmp(ps->cursor, f->cursor) == 0)
        return sl_error_set(err, SL_SOURCE,
                            "the cursor at '%s' did not change from one page to the next ('%s'): "
                            "stopping rather than looping",
                            pg->cursor_path ? pg->cursor_path : "?", f->cursor);
      set_str(&ps->cursor, f->cursor);
      return SL_OK;
    case PG_OFFSET:
    case PG_PAGE_NUMBER: {
      (void)was_first;
      if (f->records == 0 && pg->stop_after_empty_page) {
        ps->done = true;
        return SL_OK;
      }
      bool off = pg->type == PG_OFFSET;
      ps->value += off ? pg->limit : 1;
      if (f->has_total) {
        int64_t end = off ? f->total : f->total + pg->base_page;
        if (ps->value >= end) ps->done = true;
      } else if (pg->total_path && !pg->stop_after_empty_page &&
                 !(off ? pg->maximum_offset : pg->maximum_page)) {
        return sl_error_set(err, SL_SOURCE,
                            "the response has no total at '%s' and stop_after_empty_page is off: "
                            "cannot tell where the pages end",
                            pg->total_path);
      }
      int64_t max = off ? pg->maximum_offset : pg->maximum_page;
      if (max > 0 && ps->value >= max) ps->done = true;
      return SL_OK;
    }
  }
  ps->done = true;
  return SL_OK;
}

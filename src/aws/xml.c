/* A small XML reader for S3's responses: elements, attributes (skipped),
 * text with the five named entities and numeric character references,
 * comments, the XML declaration and CDATA. No DTDs. Each element holding
 * text is reported with its slash path. */
#include <stdlib.h>
#include <string.h>

#include "sluice/aws.h"

#define XML_MAX_DEPTH 16
#define XML_MAX_PATH 512

typedef struct xr {
  const char *p, *end, *start;
  sl_error *err;
  char path[XML_MAX_PATH];
  size_t plen;
  size_t stack[XML_MAX_DEPTH + 1]; /* path length before each open element */
  int depth;
  sl_buf text;
} xr;

static sl_status bad(xr *x, const char *what) {
  return sl_error_set(x->err, SL_INVALID_ARG, "malformed XML at byte %lld: %s",
                      (long long)(x->p - x->start), what);
}

static bool starts(const xr *x, const char *s) {
  size_t n = strlen(s);
  return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

static bool skip_past(xr *x, const char *s) {
  size_t n = strlen(s);
  while ((size_t)(x->end - x->p) >= n) {
    if (memcmp(x->p, s, n) == 0) {
      x->p += n;
      return true;
    }
    x->p++;
  }
  return false;
}

static bool name_char(char c) {
  return c && !strchr(" \t\r\n/>=<\"'", c);
}

static void put_utf8(sl_buf *b, unsigned long cp) {
  char o[4];
  size_t n;
  if (cp < 0x80) { o[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); n = 2; }
  else if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 63));
    o[2] = (char)(0x80 | (cp & 63)); n = 3;
  } else {
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63)); o[3] = (char)(0x80 | (cp & 63)); n = 4;
  }
  sl_buf_append(b, o, n);
}

/* Text up to the next '<', entities decoded, appended to x->text. */
static sl_status read_text(xr *x) {
  while (x->p < x->end && *x->p != '<') {
    if (*x->p != '&') {
      const char *q = x->p;
      while (q < x->end && *q != '<' && *q != '&') q++;
      if (sl_buf_append(&x->text, x->p, (size_t)(q - x->p))) return SL_NOMEM;
      x->p = q;
      continue;
    }
    const char *semi = memchr(x->p, ';', (size_t)(x->end - x->p) < 12 ? (size_t)(x->end - x->p) : 12);
    if (!semi) return bad(x, "unterminated entity");
    const char *e = x->p + 1;
    size_t n = (size_t)(semi - e);
    static const struct { const char *name; char c; } named[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    bool ok = false;
    for (size_t i = 0; i < 5 && !ok; i++)
      if (strlen(named[i].name) == n && !memcmp(e, named[i].name, n)) {
        sl_buf_putc(&x->text, named[i].c);
        ok = true;
      }
    if (!ok && n >= 2 && e[0] == '#') {
      unsigned long cp = 0;
      bool hex = e[1] == 'x' || e[1] == 'X';
      size_t i = hex ? 2 : 1;
      if (i >= n) return bad(x, "empty character reference");
      for (; i < n; i++) {
        char c = e[i];
        int d = c >= '0' && c <= '9' ? c - '0'
                : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return bad(x, "bad character reference");
        cp = cp * (hex ? 16 : 10) + (unsigned long)d;
        if (cp > 0x10FFFF) return bad(x, "character reference out of range");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return bad(x, "character reference not allowed");
      put_utf8(&x->text, cp);
      ok = true;
    }
    if (!ok) return bad(x, "unknown entity");
    x->p = semi + 1;
  }
  return SL_OK;
}

sl_status sl_xml_parse(const char *xml, size_t len, sl_xml_cb cb, void *ud, sl_error *err) {
  xr x = {.p = xml, .end = xml + len, .start = xml, .err = err};
  sl_status st = SL_OK;
  bool seen_root = false;
  while (!st && x.p < x.end) {
    if (*x.p != '<') {
      if (x.depth == 0) {
        if (!strchr(" \t\r\n", *x.p)) { st = bad(&x, "text outside the root element"); break; }
        x.p++;
        continue;
      }
      st = read_text(&x);
      continue;
    }
    if (starts(&x, "<?")) {
      if (!skip_past(&x, "?>")) st = bad(&x, "unterminated declaration");
      continue;
    }
    if (starts(&x, "<!--")) {
      if (!skip_past(&x, "-->")) st = bad(&x, "unterminated comment");
      continue;
    }
    if (starts(&x, "<![CDATA[")) {
      if (x.depth == 0) { st = bad(&x, "CDATA outside the root element"); break; }
      x.p += 9;
      const char *s = x.p;
      if (!skip_past(&x, "]]>")) { st = bad(&x, "unterminated CDATA"); break; }
      if (sl_buf_append(&x.text, s, (size_t)(x.p - 3 - s))) st = SL_NOMEM;
      continue;
    }
    if (starts(&x, "<!")) { st = bad(&x, "DTDs are not accepted"); break; }
    bool closing = starts(&x, "</");
    x.p += closing ? 2 : 1;
    const char *name = x.p;
    while (x.p < x.end && name_char(*x.p)) x.p++;
    size_t nlen = (size_t)(x.p - name);
    if (nlen == 0) { st = bad(&x, "element without a name"); break; }
    if (closing) {
      while (x.p < x.end && strchr(" \t\r\n", *x.p)) x.p++;
      if (x.p >= x.end || *x.p != '>') { st = bad(&x, "bad closing tag"); break; }
      x.p++;
      if (x.depth == 0) { st = bad(&x, "closing tag without an open element"); break; }
      size_t before = x.stack[x.depth - 1];
      const char *open = x.path + before + (before ? 1 : 0);
      if (strlen(open) != nlen || memcmp(open, name, nlen) != 0) {
        st = bad(&x, "closing tag does not match");
        break;
      }
      if (x.text.len || x.text.data) {
        sl_buf_putc(&x.text, '\0');
        x.text.len--;
        if (cb) st = cb(ud, x.path, x.text.data ? x.text.data : "", x.text.len);
      }
      sl_buf_free(&x.text);
      x.depth--;
      x.plen = before;
      x.path[x.plen] = '\0';
      continue;
    }
    /* Opening tag: skip attributes. */
    bool self_close = false;
    while (x.p < x.end && *x.p != '>') {
      if (*x.p == '"' || *x.p == '\'') {
        char q = *x.p++;
        const char *e = memchr(x.p, q, (size_t)(x.end - x.p));
        if (!e) break;
        x.p = e + 1;
        continue;
      }
      if (*x.p == '<') break;
      self_close = *x.p == '/';
      x.p++;
    }
    if (x.p >= x.end || *x.p != '>') { st = bad(&x, "unterminated tag"); break; }
    x.p++;
    if (x.depth == 0 && seen_root) { st = bad(&x, "more than one root element"); break; }
    seen_root = true;
    if (self_close) continue;
    if (x.depth >= XML_MAX_DEPTH) { st = bad(&x, "elements nested too deeply"); break; }
    if (x.plen + nlen + 2 > XML_MAX_PATH) { st = bad(&x, "element path too long"); break; }
    sl_buf_free(&x.text); /* text before a child element is not kept */
    x.stack[x.depth++] = x.plen;
    if (x.plen) x.path[x.plen++] = '/';
    memcpy(x.path + x.plen, name, nlen);
    x.plen += nlen;
    x.path[x.plen] = '\0';
  }
  if (!st && x.depth) st = bad(&x, "unclosed element");
  if (!st && !seen_root) st = bad(&x, "no element");
  sl_buf_free(&x.text);
  return st;
}

typedef struct find_ctx {
  const char *path;
  char *out;
} find_ctx;

static sl_status find_cb(void *ud, const char *path, const char *text, size_t n) {
  find_ctx *f = ud;
  if (!f->out && strcmp(path, f->path) == 0) {
    f->out = malloc(n + 1);
    if (!f->out) return SL_NOMEM;
    memcpy(f->out, text, n);
    f->out[n] = '\0';
  }
  return SL_OK;
}

char *sl_xml_find(const char *xml, size_t len, const char *path) {
  find_ctx f = {path, NULL};
  if (sl_xml_parse(xml, len, find_cb, &f, NULL) != SL_OK) {
    /* A partial answer from a broken document is not trusted. */
    free(f.out);
    return NULL;
  }
  return f.out;
}

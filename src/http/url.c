/* url.c — URL helpers on curl's URL API (resolve, set a query parameter,
 * percent-encoding), RFC 8288 Link header parsing and Retry-After parsing.
 * Everything here is pure (no engine state) so the fuzzers can drive it. */
#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http_int.h"
#include "sluice/http.h"
#include "sluice/log.h"

/* Longest URL or header we look at; curl refuses longer URLs anyway. */
#define SL_URL_MAX ((size_t)1 << 20)

static int unreserved(unsigned char c) {
  return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

sl_status sl_url_encode(sl_buf *out, const char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  sl_status st = sl_buf_reserve(out, len);
  for (size_t i = 0; i < len && st == SL_OK; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c)) {
      st = sl_buf_putc(out, (char)c);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      st = sl_buf_append(out, e, 3);
    }
  }
  return st;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

sl_status sl__url_decode(sl_buf *out, const char *s, size_t len, bool plus_is_space) {
  sl_status st = sl_buf_reserve(out, len);
  for (size_t i = 0; i < len && st == SL_OK; i++) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < len &&
        (hi = hexval((unsigned char)s[i + 1])) >= 0 && (lo = hexval((unsigned char)s[i + 2])) >= 0) {
      st = sl_buf_putc(out, (char)(hi * 16 + lo));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      st = sl_buf_putc(out, ' ');
    } else {
      st = sl_buf_putc(out, s[i]);
    }
  }
  return st;
}

static const char *uc_err(CURLUcode uc) { return curl_url_strerror(uc); }

static sl_status copy_out(char *curl_str, char **out, sl_error *err) {
  *out = strdup(curl_str);
  curl_free(curl_str);
  if (!*out) return sl_error_set(err, SL_NOMEM, "out of memory");
  return SL_OK;
}

/* Only http and https: a next link must not send us to file:// or gopher://. */
static sl_status check_scheme(CURLU *u, const char *what, sl_error *err) {
  char *scheme = NULL;
  if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
    return sl_error_set(err, SL_INVALID_ARG, "%s has no scheme", what);
  bool ok = strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0;
  curl_free(scheme);
  if (!ok) return sl_error_set(err, SL_INVALID_ARG, "%s is not an http:// or https:// URL", what);
  return SL_OK;
}

sl_status sl_url_resolve(const char *base, const char *ref, char **out, sl_error *err) {
  *out = NULL;
  if (!base || !ref) return sl_error_set(err, SL_INVALID_ARG, "sl_url_resolve: NULL argument");
  if (strlen(base) > SL_URL_MAX || strlen(ref) > SL_URL_MAX)
    return sl_error_set(err, SL_TOO_LARGE, "URL longer than %zu bytes", (size_t)SL_URL_MAX);
  CURLU *u = curl_url();
  if (!u) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_status st = SL_OK;
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, base, 0);
  if (uc != CURLUE_OK) {
    st = sl_error_set(err, SL_INVALID_ARG, "invalid base URL '%.200s': %s", base, uc_err(uc));
    goto done;
  }
  /* Spaces and other bytes a server forgot to encode are encoded rather
   * than rejected (CURLU_URLENCODE leaves existing %XX alone). */
  uc = curl_url_set(u, CURLUPART_URL, ref, CURLU_URLENCODE);
  if (uc != CURLUE_OK) {
    st = sl_error_set(err, SL_INVALID_ARG, "cannot resolve '%.200s' against '%.200s': %s", ref,
                      base, uc_err(uc));
    goto done;
  }
  if ((st = check_scheme(u, "the resolved URL", err)) != SL_OK) goto done;
  char *s = NULL;
  uc = curl_url_get(u, CURLUPART_URL, &s, 0);
  if (uc != CURLUE_OK) {
    st = sl_error_set(err, SL_INVALID_ARG, "cannot resolve '%.200s': %s", ref, uc_err(uc));
    goto done;
  }
  st = copy_out(s, out, err);
done:
  curl_url_cleanup(u);
  return st;
}

/* Does the query pair [p, p+n) have the (decoded) name `name`? */
static bool pair_has_name(const char *p, size_t n, const char *name) {
  const char *eq = memchr(p, '=', n);
  size_t nl = eq ? (size_t)(eq - p) : n;
  sl_buf d = {0};
  bool same = false;
  if (sl__url_decode(&d, p, nl, true) == SL_OK)
    same = d.len == strlen(name) && (d.len == 0 || memcmp(d.data, name, d.len) == 0);
  sl_buf_free(&d);
  return same;
}

sl_status sl_url_set_param(const char *url, const char *name, const char *value, char **out,
                           sl_error *err) {
  *out = NULL;
  if (!url || !name || !*name)
    return sl_error_set(err, SL_INVALID_ARG, "sl_url_set_param: missing URL or name");
  if (strlen(url) > SL_URL_MAX) return sl_error_set(err, SL_TOO_LARGE, "URL too long");
  CURLU *u = curl_url();
  if (!u) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_buf q = {0};
  char *old = NULL;
  sl_status st = SL_OK;
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_URLENCODE);
  if (uc != CURLUE_OK) {
    st = sl_error_set(err, SL_INVALID_ARG, "invalid URL '%.200s': %s", url, uc_err(uc));
    goto done;
  }
  uc = curl_url_get(u, CURLUPART_QUERY, &old, 0);
  if (uc != CURLUE_OK && uc != CURLUE_NO_QUERY) {
    st = sl_error_set(err, SL_INVALID_ARG, "invalid query in '%.200s': %s", url, uc_err(uc));
    goto done;
  }
  /* Keep every other pair as it was, in order; drop every pair of this name. */
  if (old) {
    const char *p = old;
    while (*p && st == SL_OK) {
      const char *amp = strchr(p, '&');
      size_t n = amp ? (size_t)(amp - p) : strlen(p);
      if (n > 0 && !pair_has_name(p, n, name)) {
        if (q.len) st = sl_buf_putc(&q, '&');
        if (st == SL_OK) st = sl_buf_append(&q, p, n);
      }
      p += n + (amp ? 1 : 0);
    }
  }
  if (st == SL_OK && value) {
    if (q.len) st = sl_buf_putc(&q, '&');
    if (st == SL_OK) st = sl_url_encode(&q, name, strlen(name));
    if (st == SL_OK) st = sl_buf_putc(&q, '=');
    if (st == SL_OK) st = sl_url_encode(&q, value, strlen(value));
  }
  if (st != SL_OK) {
    sl_error_set(err, st, "cannot build the query of '%.200s'", url);
    goto done;
  }
  /* The query goes in as text: curl's query setter rewrites %2F as %2f. */
  char *frag = NULL, *s = NULL;
  if (curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) != CURLUE_OK) frag = NULL;
  curl_url_set(u, CURLUPART_QUERY, NULL, 0);
  curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
  uc = curl_url_get(u, CURLUPART_URL, &s, 0);
  if (uc != CURLUE_OK) {
    curl_free(frag);
    st = sl_error_set(err, SL_INVALID_ARG, "invalid URL '%.200s': %s", url, uc_err(uc));
    goto done;
  }
  sl_buf whole = {0};
  st = sl_buf_puts(&whole, s);
  if (st == SL_OK && q.len) st = sl_buf_printf(&whole, "?%s", q.data);
  if (st == SL_OK && frag) st = sl_buf_printf(&whole, "#%s", frag);
  curl_free(s);
  curl_free(frag);
  if (st != SL_OK) {
    sl_buf_free(&whole);
    st = sl_error_set(err, st, "cannot build a URL from '%.200s'", url);
    goto done;
  }
  *out = sl_buf_steal(&whole, NULL);
  goto done;
done:
  curl_free(old);
  sl_buf_free(&q);
  curl_url_cleanup(u);
  return st;
}

sl_status sl__url_host_key(const char *url, char *out, size_t size) {
  CURLU *u = curl_url();
  if (!u) return SL_NOMEM;
  sl_status st = SL_INVALID_ARG;
  char *scheme = NULL, *host = NULL, *port = NULL;
  if (curl_url_set(u, CURLUPART_URL, url, CURLU_URLENCODE) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
    if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) {
      for (char *c = host; *c; c++) *c = (char)tolower((unsigned char)*c);
      snprintf(out, size, "%s://%s:%s", scheme, host, port);
      st = SL_OK;
    }
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return st;
}

/* ---- redaction of URLs ------------------------------------------------------ */

/* A secret may sit in a URL encoded in a way the registry does not know
 * (lower-case hex, '+' for a space, only partly encoded). Each piece between
 * delimiters is decoded and checked; a piece that holds a secret, or the value
 * of a query parameter whose name marks a secret (api_key=, access_token=),
 * becomes "***". The whole is then redacted as text as well. */
char *sl__http_redact_url(char *dst, size_t size, const char *url) {
  if (!dst || size == 0) return dst;
  if (!url) {
    dst[0] = '\0';
    return dst;
  }
  sl_buf b = {0}, piece = {0}, red = {0}, name = {0};
  const char *p = url;
  /* Also used on messages that contain URLs: a space, quote or bracket ends
   * a query; a '?' starts one. */
  bool in_query = false, in_value = false, secret_name = false;
  while (*p) {
    size_t n = strcspn(p, "/?&=#;:@, \t\r\n\"'()<>");
    bool hide = false;
    if (n > 0) {
      sl_buf_reset(&piece);
      sl_buf_reset(&red);
      if (sl__url_decode(&piece, p, n, in_query) == SL_OK && piece.data &&
          sl_redact_append(&red, piece.data, piece.len) == SL_OK)
        hide = red.len != piece.len || memcmp(red.data, piece.data, piece.len) != 0;
      if (in_query && in_value && secret_name) hide = true;
      if (in_query && !in_value) {
        sl_buf_reset(&name);
        sl_buf_append(&name, piece.data ? piece.data : "", piece.len);
        secret_name = name.data && sl_key_is_secret(name.data);
      }
    }
    if (hide)
      sl_buf_puts(&b, "***");
    else
      sl_buf_append(&b, p, n);
    p += n;
    if (!*p) break;
    char d = *p++;
    sl_buf_putc(&b, d);
    if (d == '?') {
      in_query = true;
      in_value = secret_name = false;
    } else if (in_query && d == '=') {
      in_value = true;
    } else if (in_query && (d == '&' || d == ';')) {
      in_value = secret_name = false;
    } else if (strchr("# \t\r\n\"'()<>", d)) {
      in_query = in_value = secret_name = false;
    }
  }
  sl_redact_into(dst, size, b.data ? b.data : "");
  sl_buf_free(&b);
  sl_buf_free(&piece);
  sl_buf_free(&red);
  sl_buf_free(&name);
  return dst;
}

/* ---- RFC 8288 Link ---------------------------------------------------------- */

static const char *skip_ows(const char *p) {
  while (*p == ' ' || *p == '\t') p++;
  return p;
}

static bool tchar(unsigned char c) {
  return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Read a token or a quoted-string value at *pp into v (unescaped). */
static bool read_value(const char **pp, sl_buf *v) {
  const char *p = *pp;
  sl_buf_reset(v);
  if (*p == '"') {
    p++;
    while (*p && *p != '"') {
      if (*p == '\\' && p[1]) p++;
      if (sl_buf_putc(v, *p) != SL_OK) return false;
      p++;
    }
    if (*p != '"') return false;
    p++;
  } else {
    const char *s = p;
    while (tchar((unsigned char)*p) || *p == '/' || *p == ':') p++; /* lenient: rel=http://… */
    if (p == s) return false;
    if (sl_buf_append(v, s, (size_t)(p - s)) != SL_OK) return false;
  }
  *pp = p;
  return true;
}

/* Is rel among the space-separated relation types in list (case-insensitive)? */
static bool rel_matches(const char *list, const char *rel) {
  size_t rl = strlen(rel);
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    const char *s = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if ((size_t)(p - s) == rl && rl > 0 && strncasecmp(s, rel, rl) == 0) return true;
  }
  return false;
}

char *sl_http_link_rel(const char *h, const char *rel) {
  if (!h || !rel || strlen(h) > SL_URL_MAX) return NULL;
  sl_buf pname = {0}, pval = {0};
  char *found = NULL;
  const char *p = h;
  for (;;) {
    p = skip_ows(p);
    while (*p == ',') p = skip_ows(p + 1); /* empty list elements are allowed */
    if (!*p) break;
    if (*p != '<') break; /* malformed */
    const char *target = ++p;
    const char *close = strchr(p, '>');
    if (!close) break;
    size_t tlen = (size_t)(close - target);
    p = close + 1;
    bool rel_seen = false, match = false, bad = false;
    for (;;) {
      p = skip_ows(p);
      if (*p != ';') break;
      p = skip_ows(p + 1);
      const char *ns = p;
      while (tchar((unsigned char)*p)) p++;
      if (p == ns) {
        bad = true;
        break;
      }
      sl_buf_reset(&pname);
      sl_buf_append(&pname, ns, (size_t)(p - ns));
      p = skip_ows(p);
      sl_buf_reset(&pval);
      if (*p == '=') {
        p = skip_ows(p + 1);
        if (!read_value(&p, &pval)) {
          bad = true;
          break;
        }
      }
      /* Only the first rel of a link counts (RFC 8288 §3.3). */
      if (!rel_seen && pname.data && strcasecmp(pname.data, "rel") == 0) {
        rel_seen = true;
        match = pval.data && rel_matches(pval.data, rel);
      }
    }
    if (bad) break;
    p = skip_ows(p);
    if (*p && *p != ',') break; /* junk after a link-value */
    if (match) {
      found = malloc(tlen + 1);
      if (found) {
        memcpy(found, target, tlen);
        found[tlen] = '\0';
        /* The target is a URI-reference: strip surrounding whitespace. */
        size_t a = 0, z = tlen;
        while (a < z && isspace((unsigned char)found[a])) a++;
        while (z > a && isspace((unsigned char)found[z - 1])) z--;
        memmove(found, found + a, z - a);
        found[z - a] = '\0';
      }
      break;
    }
  }
  sl_buf_free(&pname);
  sl_buf_free(&pval);
  return found;
}

/* ---- Retry-After ------------------------------------------------------------ */

static int month_index(const char *s) {
  static const char *const m[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; i++)
    if (strncasecmp(s, m[i], 3) == 0) return i;
  return -1;
}

static bool read_int(const char **pp, int digits_min, int digits_max, int *out) {
  const char *p = *pp;
  int v = 0, n = 0;
  while (isdigit((unsigned char)*p) && n < digits_max) {
    v = v * 10 + (*p - '0');
    p++;
    n++;
  }
  if (n < digits_min) return false;
  *out = v;
  *pp = p;
  return true;
}

static bool read_hms(const char **pp, struct tm *tm) {
  const char *p = *pp;
  if (!read_int(&p, 2, 2, &tm->tm_hour) || *p++ != ':' || !read_int(&p, 2, 2, &tm->tm_min) ||
      *p++ != ':' || !read_int(&p, 2, 2, &tm->tm_sec))
    return false;
  if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60) return false;
  *pp = p;
  return true;
}

/* IMF-fixdate, RFC 850 and asctime dates (RFC 9110 §5.6.7) as seconds since
 * the epoch; -1 when the text is none of them. */
double sl__http_parse_date(const char *s) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *p = s;
  const char *comma = strchr(p, ',');
  int day = 0, year = 0, mon;
  if (comma && comma - p <= 9) {
    p = comma + 1;
    if (*p++ != ' ') return -1;
    if (!read_int(&p, 2, 2, &day)) return -1;
    if (*p == ' ') { /* IMF-fixdate: 06 Nov 1994 08:49:37 GMT */
      p++;
      if ((mon = month_index(p)) < 0) return -1;
      p += 3;
      if (*p++ != ' ' || !read_int(&p, 4, 4, &year)) return -1;
    } else if (*p == '-') { /* RFC 850: 06-Nov-94 08:49:37 GMT */
      p++;
      if ((mon = month_index(p)) < 0) return -1;
      p += 3;
      if (*p++ != '-' || !read_int(&p, 2, 2, &year)) return -1;
      year += year < 70 ? 2000 : 1900;
    } else {
      return -1;
    }
    if (*p++ != ' ' || !read_hms(&p, &tm)) return -1;
    if (strcmp(p, " GMT") != 0) return -1;
  } else { /* asctime: Sun Nov  6 08:49:37 1994 */
    if (strlen(p) < 4 || p[3] != ' ') return -1;
    p += 4;
    if ((mon = month_index(p)) < 0) return -1;
    p += 3;
    if (*p++ != ' ') return -1;
    if (*p == ' ') p++;
    if (!read_int(&p, 1, 2, &day) || *p++ != ' ' || !read_hms(&p, &tm) || *p++ != ' ' ||
        !read_int(&p, 4, 4, &year) || *p)
      return -1;
  }
  if (day < 1 || day > 31) return -1;
  tm.tm_mday = day;
  tm.tm_mon = mon;
  tm.tm_year = year - 1900;
  time_t t = timegm(&tm);
  if (t == (time_t)-1) return -1;
  return (double)t;
}

double sl_http_retry_after(const char *value) {
  if (!value) return -1;
  const char *p = value;
  while (*p == ' ' || *p == '\t') p++;
  size_t n = strlen(p);
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
    n--;
  if (n == 0 || n > 64) return -1;
  char s[65];
  memcpy(s, p, n);
  s[n] = '\0';
  if (isdigit((unsigned char)s[0])) {
    /* delay-seconds; a fraction is accepted (some servers send one) */
    double v = 0;
    size_t i = 0;
    while (isdigit((unsigned char)s[i])) {
      if (v < 1e12) v = v * 10 + (s[i] - '0');
      i++;
    }
    if (s[i] == '.') {
      double scale = 0.1;
      i++;
      if (!isdigit((unsigned char)s[i])) return -1;
      while (isdigit((unsigned char)s[i])) {
        v += (s[i] - '0') * scale;
        scale /= 10;
        i++;
      }
    }
    return s[i] ? -1 : v;
  }
  double t = sl__http_parse_date(s);
  if (t < 0) return -1;
  double d = t - (double)time(NULL);
  return d > 0 ? d : 0;
}

/* Configuration and secrets resolved as dlt does it: environment variables,
 * then the project's and the user's secrets.toml and config.toml, each layer
 * searched through the pipeline section and the section fallbacks of a key
 * before the next layer is asked. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/config.h"
#include "sluice/log.h"
#include "sluice/toml.h"

extern char **environ;

#define MAX_PARTS 32 /* sections in a dotted key */
#define NFILES 4

typedef struct part {
  const char *p;
  size_t n;
} part;

typedef struct env_var {
  const char *name;
  size_t name_len;
  const char *value;
} env_var;

typedef struct file_layer {
  const char *path; /* in own's arena */
  const char *kind; /* "secrets.toml" or "config.toml" */
  sl_doc *doc;      /* NULL when the file does not exist */
  bool secret;
} file_layer;

/* One resolved key, kept so that repeated lookups neither grow memory nor
 * reparse environment values. */
typedef struct cached {
  const char *dotted;
  const sl_value *v;
  sl_config_origin origin;
  const char *text; /* a scalar's text (environment values as written) */
} cached;

struct sl_config {
  sl_doc *own; /* values built here: typed env values, merged tables, expansions */
  env_var *env;
  size_t nenv;
  file_layer files[NFILES];
  size_t nfiles;
  const char *pipeline; /* NULL when not set */
  cached *cache;
  size_t ncache, cache_cap;
};

/* A candidate name for a key: optionally under the pipeline section, with the
 * first `keep` sections of the key. */
typedef struct cand {
  bool pipe;
  size_t keep;
} cand;

typedef struct key {
  part parts[MAX_PARTS];
  size_t n; /* sections + the key itself */
} key;

/* ---- small helpers -------------------------------------------------------------- */

static bool split_key(const char *dotted, key *k) {
  k->n = 0;
  if (!dotted || !*dotted) return false;
  const char *p = dotted;
  for (;;) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n == 0 || k->n == MAX_PARTS) return false;
    k->parts[k->n++] = (part){p, n};
    if (!dot) return true;
    p = dot + 1;
  }
}

/* The candidates, in lookup order: under the pipeline section first (when set),
 * then without; each from all sections down to the bare key. */
static size_t candidates(const sl_config *cfg, const key *k, cand *out) {
  size_t n = 0;
  for (int pass = cfg->pipeline ? 0 : 1; pass < 2; pass++)
    for (size_t keep = k->n - 1;; keep--) {
      out[n++] = (cand){pass == 0, keep};
      if (keep == 0) break;
    }
  return n;
}

/* The parts of a candidate name. */
static size_t cand_parts(const sl_config *cfg, const key *k, cand c, part *out) {
  size_t n = 0;
  if (c.pipe) out[n++] = (part){cfg->pipeline, strlen(cfg->pipeline)};
  for (size_t i = 0; i < c.keep; i++) out[n++] = k->parts[i];
  out[n++] = k->parts[k->n - 1];
  return n;
}

/* SOURCES__PINTEREST__ACCESS_TOKEN */
static sl_status env_name(const part *parts, size_t n, sl_buf *out) {
  sl_buf_reset(out);
  sl_status st = SL_OK;
  for (size_t i = 0; i < n && st == SL_OK; i++) {
    if (i) st = sl_buf_puts(out, "__");
    for (size_t k = 0; k < parts[i].n && st == SL_OK; k++)
      st = sl_buf_putc(out, (char)toupper((unsigned char)parts[i].p[k]));
  }
  if (st == SL_OK && !out->data) st = sl_buf_append(out, "", 0);
  return st;
}

/* sources.pinterest.access_token */
static sl_status dotted_name(const part *parts, size_t n, sl_buf *out) {
  sl_buf_reset(out);
  sl_status st = SL_OK;
  for (size_t i = 0; i < n && st == SL_OK; i++) {
    if (i) st = sl_buf_putc(out, '.');
    if (st == SL_OK) st = sl_buf_append(out, parts[i].p, parts[i].n);
  }
  if (st == SL_OK && !out->data) st = sl_buf_append(out, "", 0);
  return st;
}

static const sl_value *toml_at(const sl_doc *doc, const part *parts, size_t n) {
  const sl_value *v = doc ? doc->root : NULL;
  for (size_t i = 0; i < n && v; i++) v = sl_v_getn(v, parts[i].p, parts[i].n);
  return v;
}

static sl_value *member_ci(const sl_value *obj, const char *k, size_t n) {
  for (size_t i = 0; obj && i < obj->u.obj.len; i++) {
    const sl_member *m = &obj->u.obj.items[i];
    if (m->key_len == n && strncasecmp(m->key, k, n) == 0) return m->val;
  }
  return NULL;
}

/* ---- secrets ---------------------------------------------------------------------- */

/* Register the string leaves of v; with all == false only those under a key
 * that names a secret. */
static void register_leaves(const sl_value *v, bool all, unsigned depth) {
  if (!v || depth > 300) return;
  switch (v->type) {
    case SL_V_STRING:
      if (all) sl_secret_register_n(v->u.s.ptr, v->u.s.len);
      break;
    case SL_V_ARRAY:
      for (size_t i = 0; i < v->u.arr.len; i++) register_leaves(v->u.arr.items[i], all, depth + 1);
      break;
    case SL_V_OBJECT:
      for (size_t i = 0; i < v->u.obj.len; i++) {
        const sl_member *m = &v->u.obj.items[i];
        register_leaves(m->val, all || sl_key_is_secret(m->key), depth + 1);
      }
      break;
    default:
      break;
  }
}

/* ---- the environment layer ------------------------------------------------------- */

static const env_var *env_find(const sl_config *cfg, const char *name, size_t n) {
  for (size_t i = 0; i < cfg->nenv; i++)
    if (cfg->env[i].name_len == n && memcmp(cfg->env[i].name, name, n) == 0) return &cfg->env[i];
  return NULL;
}

static bool env_has_prefix(const sl_config *cfg, const char *name, size_t n) {
  for (size_t i = 0; i < cfg->nenv; i++) {
    const env_var *e = &cfg->env[i];
    if (e->name_len > n + 2 && memcmp(e->name, name, n) == 0 && e->name[n] == '_' && e->name[n + 1] == '_')
      return true;
  }
  return false;
}

/* An environment value: typed when the text reads as a TOML number, boolean,
 * array or inline table; otherwise the text itself. */
static sl_value *env_typed(sl_config *cfg, const char *text) {
  sl_buf b = {0};
  sl_value *v = NULL;
  if (sl_buf_puts(&b, "v = ") == SL_OK && sl_buf_puts(&b, text) == SL_OK) {
    sl_doc *tmp = sl_toml_parse(b.data, b.len, "<environment>", NULL);
    const sl_value *pv = tmp && tmp->root->u.obj.len == 1 ? sl_v_get(tmp->root, "v") : NULL;
    if (pv && (pv->type == SL_V_INT || pv->type == SL_V_NUMBER || pv->type == SL_V_BOOL ||
               pv->type == SL_V_ARRAY || pv->type == SL_V_OBJECT))
      v = sl_v_clone(cfg->own, pv);
    sl_doc_free(tmp);
  }
  sl_buf_free(&b);
  return v ? v : sl_v_string(cfg->own, text, strlen(text));
}

/* Fold PREFIX__A__B=value variables into table (created when NULL) as a.b. */
static sl_value *env_table(sl_config *cfg, const char *prefix, size_t plen, sl_value *table) {
  sl_doc *d = cfg->own;
  if (!table && !(table = sl_v_object(d))) return NULL;
  for (size_t i = 0; i < cfg->nenv; i++) {
    const env_var *e = &cfg->env[i];
    if (!(e->name_len > plen + 2 && memcmp(e->name, prefix, plen) == 0 && e->name[plen] == '_' &&
          e->name[plen + 1] == '_'))
      continue;
    sl_value *cur = table;
    const char *p = e->name + plen + 2, *end = e->name + e->name_len;
    while (cur) {
      const char *sep = strstr(p, "__");
      size_t n = sep ? (size_t)(sep - p) : (size_t)(end - p);
      if (n == 0) break; /* A____B: not a key */
      char lower[256];
      if (n >= sizeof lower) break;
      for (size_t k = 0; k < n; k++) lower[k] = (char)tolower((unsigned char)p[k]);
      sl_value *child = member_ci(cur, p, n);
      if (!sep) {
        sl_value *v = env_typed(cfg, e->value);
        if (!v) return NULL;
        if (child) {
          for (size_t k = 0; k < cur->u.obj.len; k++)
            if (cur->u.obj.items[k].val == child) cur->u.obj.items[k].val = v;
        } else if (sl_v_set(d, cur, lower, n, v) != SL_OK) {
          return NULL;
        }
        break;
      }
      if (!child) {
        if (!(child = sl_v_object(d)) || sl_v_set(d, cur, lower, n, child) != SL_OK) return NULL;
      }
      cur = child->type == SL_V_OBJECT ? child : NULL; /* a scalar there: the variable is ignored */
      p = sep + 2;
    }
  }
  return table;
}

/* The environment's value for one candidate name: the variable itself, and
 * for a table, the variables below it. */
static sl_value *env_value(sl_config *cfg, const char *name, size_t n, const char **text) {
  const env_var *e = env_find(cfg, name, n);
  bool below = env_has_prefix(cfg, name, n);
  *text = NULL;
  if (e) {
    sl_value *v = env_typed(cfg, e->value);
    if (v && v->type == SL_V_OBJECT && below) return env_table(cfg, name, n, v);
    if (v && v->type != SL_V_OBJECT && v->type != SL_V_ARRAY) *text = e->value;
    return v;
  }
  return below ? env_table(cfg, name, n, NULL) : NULL;
}

/* ---- lookup ------------------------------------------------------------------------ */

/* Deep-merge the members of src (any doc) that dst lacks into dst (own doc). */
static sl_status merge_under(sl_doc *d, sl_value *dst, const sl_value *src, unsigned depth) {
  if (depth > 300) return SL_OK;
  for (size_t i = 0; i < src->u.obj.len; i++) {
    const sl_member *m = &src->u.obj.items[i];
    sl_value *have = member_ci(dst, m->key, m->key_len);
    if (!have) {
      sl_value *c = sl_v_clone(d, m->val);
      if (!c || sl_v_set(d, dst, m->key, m->key_len, c) != SL_OK) return SL_NOMEM;
    } else if (have->type == SL_V_OBJECT && m->val->type == SL_V_OBJECT) {
      sl_status st = merge_under(d, have, m->val, depth + 1);
      if (st != SL_OK) return st;
    }
  }
  return SL_OK;
}

static const char *scalar_text(sl_config *cfg, const sl_value *v) {
  switch (v->type) {
    case SL_V_STRING:
    case SL_V_DATETIME:
      return v->u.s.ptr;
    case SL_V_NUMBER:
      return v->u.num.text;
    case SL_V_BOOL:
      return v->u.b ? "true" : "false";
    case SL_V_INT:
      return sl_arena_printf(&cfg->own->arena, "%" PRId64, v->u.i);
    default:
      return NULL;
  }
}

/* Layer i: 0 is the environment, 1.. the files. */
static size_t nlayers(const sl_config *cfg) { return 1 + cfg->nfiles; }

static const char *layer_label(const sl_config *cfg, size_t i) {
  return i == 0 ? "env" : cfg->files[i - 1].path;
}

/* The value at one candidate name in one layer, or NULL. */
static const sl_value *layer_value(sl_config *cfg, size_t layer, const part *parts, size_t n, sl_buf *name,
                                   const char **text) {
  *text = NULL;
  if (layer == 0) {
    if (env_name(parts, n, name) != SL_OK) return NULL;
    return env_value(cfg, name->data, name->len, text);
  }
  const file_layer *f = &cfg->files[layer - 1];
  if (!f->doc) return NULL;
  const sl_value *v = toml_at(f->doc, parts, n);
  if (v && dotted_name(parts, n, name) != SL_OK) return NULL;
  return v;
}

static cached *cache_find(const sl_config *cfg, const char *dotted) {
  for (size_t i = 0; i < cfg->ncache; i++)
    if (strcmp(cfg->cache[i].dotted, dotted) == 0) return &cfg->cache[i];
  return NULL;
}

static const cached *lookup(sl_config *cfg, const char *dotted) {
  if (!cfg) return NULL;
  cached *hit = cache_find(cfg, dotted);
  if (hit) return hit;
  key k;
  if (!split_key(dotted, &k)) return NULL;
  cand cands[2 * MAX_PARTS];
  size_t ncand = candidates(cfg, &k, cands);
  part parts[MAX_PARTS + 1];
  sl_buf name = {0};
  const sl_value *v = NULL;
  const char *text = NULL;
  size_t layer = 0, np = 0;
  for (layer = 0; layer < nlayers(cfg) && !v; layer++)
    for (size_t c = 0; c < ncand && !v; c++) {
      np = cand_parts(cfg, &k, cands[c], parts);
      v = layer_value(cfg, layer, parts, np, &name, &text);
    }
  if (!v) {
    sl_buf_free(&name);
    return NULL;
  }
  layer--; /* the loop stepped past the layer that answered */
  bool from_secrets = layer > 0 && cfg->files[layer - 1].secret;
  bool secret_key = sl_key_is_secret(k.parts[k.n - 1].p) != 0;
  cached entry = {.v = v, .text = text};
  entry.origin.layer = layer_label(cfg, layer);
  entry.origin.name = sl_arena_strdup(&cfg->own->arena, name.data);
  entry.origin.secret = from_secrets || secret_key;
  if (v->type == SL_V_OBJECT) {
    /* A table: what this layer has under that name, completed by the layers below. */
    sl_value *merged = sl_v_object(cfg->own);
    if (!merged) goto nomem;
    for (size_t l = layer; l < nlayers(cfg); l++) {
      const char *unused;
      const sl_value *t = l == layer ? v : layer_value(cfg, l, parts, np, &name, &unused);
      if (t && t->type == SL_V_OBJECT && merge_under(cfg->own, merged, t, 0) != SL_OK) goto nomem;
    }
    merged->line = v->line;
    merged->col = v->col;
    entry.v = merged;
    /* Per field, by its own key: a credentials table holds region_name and
     * endpoint_url too, which must stay readable in logs. (Fields from a
     * secrets file were registered when it was loaded.) */
    register_leaves(merged, false, 0);
  } else {
    if (!entry.text) entry.text = scalar_text(cfg, v);
    /* Never booleans: registering "true" would redact every "true" in the logs. */
    if (entry.origin.secret && entry.text && v->type != SL_V_BOOL) sl_secret_register(entry.text);
    if (v->type == SL_V_ARRAY) register_leaves(v, entry.origin.secret, 0);
  }
  sl_buf_free(&name);
  if (!(entry.dotted = sl_arena_strdup(&cfg->own->arena, dotted)) || !entry.origin.name) return NULL;
  if (cfg->ncache == cfg->cache_cap) {
    size_t ncap = cfg->cache_cap ? cfg->cache_cap * 2 : 16;
    cached *p = realloc(cfg->cache, ncap * sizeof *p);
    if (!p) return NULL;
    cfg->cache = p;
    cfg->cache_cap = ncap;
  }
  cfg->cache[cfg->ncache] = entry;
  return &cfg->cache[cfg->ncache++];
nomem:
  sl_buf_free(&name);
  return NULL;
}

/* ---- messages ------------------------------------------------------------------------ */

/* "looked in environment A, B; in f1, f2 at [s] k, k; no file f3" — every
 * place a key was looked for, without any value. */
static void describe_search(const sl_config *cfg, const char *dotted, sl_buf *out) {
  key k;
  if (!split_key(dotted, &k)) {
    sl_buf_puts(out, "not a valid key (sections separated by single dots)");
    return;
  }
  sl_config tmp = *cfg;
  tmp.pipeline = NULL; /* list the names without the pipeline section, then say so */
  cand cands[2 * MAX_PARTS];
  size_t ncand = candidates(&tmp, &k, cands);
  part parts[MAX_PARTS + 1];
  sl_buf name = {0};
  sl_buf_puts(out, "looked in environment ");
  for (size_t c = 0; c < ncand; c++) {
    size_t np = cand_parts(&tmp, &k, cands[c], parts);
    env_name(parts, np, &name);
    sl_buf_printf(out, "%s%s", c ? ", " : "", name.data);
  }
  if (cfg->pipeline) {
    part p = {cfg->pipeline, strlen(cfg->pipeline)};
    env_name(&p, 1, &name);
    sl_buf_printf(out, " (each first prefixed with %s__)", name.data);
  }
  size_t present = 0;
  for (size_t i = 0; i < cfg->nfiles; i++)
    if (cfg->files[i].doc) sl_buf_printf(out, "%s%s", present++ ? ", " : "; in ", cfg->files[i].path);
  if (present) {
    sl_buf_puts(out, " at ");
    for (size_t c = 0; c < ncand; c++) {
      size_t np = cand_parts(&tmp, &k, cands[c], parts);
      if (c) sl_buf_puts(out, ", ");
      if (np > 1) {
        dotted_name(parts, np - 1, &name);
        sl_buf_printf(out, "[%s] ", name.data);
      }
      sl_buf_append(out, parts[np - 1].p, parts[np - 1].n);
    }
    if (cfg->pipeline) sl_buf_printf(out, " (each first under [%s])", cfg->pipeline);
  }
  size_t absent = 0;
  for (size_t i = 0; i < cfg->nfiles; i++)
    if (!cfg->files[i].doc) sl_buf_printf(out, "%s%s", absent++ ? ", " : "; no file ", cfg->files[i].path);
  sl_buf_free(&name);
}

static sl_status fail_missing(const sl_config *cfg, const char *what, const char *dotted, sl_error *err) {
  sl_buf msg = {0};
  sl_buf_printf(&msg, "missing %s: ", what);
  describe_search(cfg, dotted, &msg);
  sl_status st = sl_error_set(err, SL_CONFIG_MISSING, "%s", msg.data ? msg.data : "missing configuration");
  sl_buf_free(&msg);
  return st;
}

/* ---- opening ------------------------------------------------------------------------- */

static sl_status snapshot_env(sl_config *cfg, char **envp) {
  size_t n = 0;
  for (char **e = envp; e && *e; e++) n++;
  cfg->env = n ? sl_arena_alloc(&cfg->own->arena, n * sizeof *cfg->env) : NULL;
  if (n && !cfg->env) return SL_NOMEM;
  for (char **e = envp; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq || eq == *e) continue;
    char *copy = sl_arena_strdup(&cfg->own->arena, *e);
    if (!copy) return SL_NOMEM;
    size_t nl = (size_t)(eq - *e);
    copy[nl] = '\0';
    cfg->env[cfg->nenv++] = (env_var){copy, nl, copy + nl + 1};
  }
  return SL_OK;
}

static sl_status load_file(sl_config *cfg, const char *dir, const char *kind, bool secret, sl_error *err) {
  file_layer *f = &cfg->files[cfg->nfiles++];
  f->kind = kind;
  f->secret = secret;
  f->path = sl_arena_printf(&cfg->own->arena, "%s/.sluice/%s", dir, kind);
  if (!f->path) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_error e;
  f->doc = sl_toml_parse_file(f->path, &e);
  if (!f->doc) {
    if (e.code == SL_NOT_FOUND) return SL_OK;
    if (err) *err = e;
    return e.code;
  }
  if (secret) register_leaves(f->doc->root, true, 0);
  return SL_OK;
}

static bool same_dir(const char *a, const char *b) {
  char ra[PATH_MAX], rb[PATH_MAX];
  if (!realpath(a, ra) || !realpath(b, rb)) return false;
  return strcmp(ra, rb) == 0;
}

sl_config *sl_config_open(const sl_config_options *opts, sl_error *err) {
  sl_error_clear(err);
  sl_config_options o = opts ? *opts : (sl_config_options){0};
  sl_config *cfg = calloc(1, sizeof *cfg);
  if (!cfg || !(cfg->own = sl_doc_new("<config>"))) {
    free(cfg);
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  sl_status st = snapshot_env(cfg, o.environ ? o.environ : environ);
  if (st != SL_OK) {
    sl_error_set(err, st, "out of memory");
    goto fail;
  }
  if (o.pipeline_name && *o.pipeline_name) {
    if (!(cfg->pipeline = sl_arena_strdup(&cfg->own->arena, o.pipeline_name))) {
      sl_error_set(err, SL_NOMEM, "out of memory");
      goto fail;
    }
  }
  const char *project = o.project_dir && *o.project_dir ? o.project_dir : ".";
  const char *home = o.home_dir;
  if (!home) {
    const env_var *h = env_find(cfg, "HOME", 4);
    home = h && *h->value ? h->value : "";
  }
  if ((st = load_file(cfg, project, "secrets.toml", true, err)) != SL_OK) goto fail;
  if ((st = load_file(cfg, project, "config.toml", false, err)) != SL_OK) goto fail;
  if (*home && !same_dir(project, home)) {
    if ((st = load_file(cfg, home, "secrets.toml", true, err)) != SL_OK) goto fail;
    if ((st = load_file(cfg, home, "config.toml", false, err)) != SL_OK) goto fail;
  }
  return cfg;
fail:
  sl_config_free(cfg);
  return NULL;
}

void sl_config_free(sl_config *cfg) {
  if (!cfg) return;
  for (size_t i = 0; i < cfg->nfiles; i++) sl_doc_free(cfg->files[i].doc);
  free(cfg->cache);
  sl_doc_free(cfg->own);
  free(cfg);
}

/* ---- getters ----------------------------------------------------------------------- */

const sl_value *sl_config_get(sl_config *cfg, const char *dotted, sl_config_origin *origin) {
  const cached *c = lookup(cfg, dotted);
  if (origin) *origin = c ? c->origin : (sl_config_origin){0};
  return c ? c->v : NULL;
}

const char *sl_config_get_str(sl_config *cfg, const char *dotted, const char *dflt) {
  const cached *c = lookup(cfg, dotted);
  return c && c->text ? c->text : dflt;
}

int64_t sl_config_get_int(sl_config *cfg, const char *dotted, int64_t dflt) {
  const cached *c = lookup(cfg, dotted);
  if (!c) return dflt;
  if (c->v->type == SL_V_INT) return c->v->u.i;
  if (c->v->type == SL_V_STRING) { /* "250" written as a string */
    const char *s = c->v->u.s.ptr;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*s && !isspace((unsigned char)*s) && *end == '\0' && errno == 0) return x;
  }
  return sl_v_int_or(c->v, dflt);
}

bool sl_config_get_bool(sl_config *cfg, const char *dotted, bool dflt) {
  const cached *c = lookup(cfg, dotted);
  if (!c) return dflt;
  if (c->v->type == SL_V_BOOL) return c->v->u.b;
  if (c->v->type == SL_V_INT) return c->v->u.i != 0;
  if (c->v->type == SL_V_STRING) {
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
      if (strcasecmp(c->v->u.s.ptr, yes[i]) == 0) return true;
      if (strcasecmp(c->v->u.s.ptr, no[i]) == 0) return false;
    }
  }
  return dflt;
}

const char *sl_config_require_str(sl_config *cfg, const char *dotted, sl_error *err) {
  if (!cfg || !dotted) {
    sl_error_set(err, SL_INVALID_ARG, "sl_config_require_str: NULL argument");
    return NULL;
  }
  const cached *c = lookup(cfg, dotted);
  if (!c) {
    fail_missing(cfg, dotted, dotted, err);
    return NULL;
  }
  if (!c->text) {
    sl_error_set(err, SL_CONFIG_INVALID, "%s must be a single value, not %s (%s %s)", dotted,
                 sl_vtype_name(c->v->type), c->origin.layer, c->origin.name);
    if (strcmp(c->origin.layer, "env") != 0)
      sl_error_at(err, c->origin.layer, (int)c->v->line, (int)c->v->col, -1);
    return NULL;
  }
  return c->text;
}

/* ---- ${...} expansion ------------------------------------------------------------- */

const char *sl_config_expand(sl_config *cfg, const char *text, sl_error *err) {
  if (!cfg || !text) {
    sl_error_set(err, SL_INVALID_ARG, "sl_config_expand: NULL argument");
    return NULL;
  }
  if (!strchr(text, '$')) return text;
  sl_buf out = {0}, ref = {0};
  const char *result = NULL;
  const char *p = text;
  while (*p) {
    const char *dollar = strchr(p, '$');
    if (!dollar) {
      if (sl_buf_puts(&out, p) != SL_OK) goto nomem;
      break;
    }
    if (sl_buf_append(&out, p, (size_t)(dollar - p)) != SL_OK) goto nomem;
    if (dollar[1] == '$' && dollar[2] == '{') { /* "$${" is a literal "${" */
      if (sl_buf_puts(&out, "${") != SL_OK) goto nomem;
      p = dollar + 3;
      continue;
    }
    if (dollar[1] != '{') {
      if (sl_buf_putc(&out, '$') != SL_OK) goto nomem;
      p = dollar + 1;
      continue;
    }
    const char *close = strchr(dollar + 2, '}');
    if (!close) {
      sl_error_set(err, SL_CONFIG_INVALID, "unterminated \"${\" at character %zu (write \"$${\" for a literal \"${\")",
                   (size_t)(dollar - text) + 1);
      goto done;
    }
    sl_buf_reset(&ref);
    const char *a = dollar + 2, *b = close;
    while (a < b && isspace((unsigned char)*a)) a++;
    while (b > a && isspace((unsigned char)b[-1])) b--;
    if (sl_buf_append(&ref, a, (size_t)(b - a)) != SL_OK) goto nomem;
    const char *refname = ref.data ? ref.data : "";
    const cached *c = lookup(cfg, refname);
    if (!c) {
      char what[300];
      snprintf(what, sizeof what, "${%s}", refname);
      fail_missing(cfg, what, refname, err);
      goto done;
    }
    if (!c->text) {
      sl_error_set(err, SL_CONFIG_INVALID, "${%s} names %s (%s %s), which cannot be put into text", refname,
                   sl_vtype_name(c->v->type), c->origin.layer, c->origin.name);
      goto done;
    }
    if (sl_buf_puts(&out, c->text) != SL_OK) goto nomem;
    p = close + 1;
  }
  result = sl_arena_strndup(&cfg->own->arena, out.data ? out.data : "", out.len);
  if (!result) goto nomem;
  goto done;
nomem:
  sl_error_set(err, SL_NOMEM, "out of memory");
done:
  sl_buf_free(&out);
  sl_buf_free(&ref);
  return result;
}

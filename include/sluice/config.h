/* sluice/config.h — configuration and secrets resolution, as dlt does it.
 *
 * Memory rule: an sl_config owns the documents it loaded and every string it
 * returns; returned pointers stay valid until sl_config_free.
 *
 * Layers, first found wins:
 *   1. environment variables: sections and key joined by "__", upper case
 *      (sources.pinterest.access_token -> SOURCES__PINTEREST__ACCESS_TOKEN);
 *   2. <project>/.sluice/secrets.toml   3. <project>/.sluice/config.toml
 *   4. ~/.sluice/secrets.toml           5. ~/.sluice/config.toml
 * A key looked up as a.b.c.key falls back by dropping the rightmost section:
 * a.b.c.key, a.b.key, a.key, key (each tried in every layer before the next
 * fallback). With a pipeline name set, the lookup is first tried with the
 * pipeline name as the top section (pipeline.a.b.key …).
 * Values found in a secrets file, and values whose key names a secret
 * (sl_key_is_secret), are registered for redaction (sluice/log.h).
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/status.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_config sl_config;

typedef struct sl_config_options {
  const char *project_dir;   /* folder holding .sluice/; NULL means "." */
  const char *home_dir;      /* NULL means $HOME; "" disables the home layer */
  const char *pipeline_name; /* optional top section tried first */
  char **environ;            /* NULL means the process environment */
} sl_config_options;

/* Loads the files that exist; a file with a syntax error fails here with its
 * file, line and column. */
sl_config *sl_config_open(const sl_config_options *opts, sl_error *err);
void sl_config_free(sl_config *cfg);

/* Where a value came from, for messages and `pipeline info`. */
typedef struct sl_config_origin {
  const char *layer; /* "env", "secrets.toml", "config.toml", … with its path */
  const char *name;  /* the exact env var name or dotted key that matched */
  bool secret;
} sl_config_origin;

/* Look up a dotted key ("sources.pinterest.access_token"). Returns the value
 * (environment values become SL_V_STRING, or are parsed as TOML values when
 * they look like one: numbers, booleans, arrays, inline tables) or NULL. */
const sl_value *sl_config_get(sl_config *cfg, const char *dotted, sl_config_origin *origin);
const char *sl_config_get_str(sl_config *cfg, const char *dotted, const char *dflt);
int64_t sl_config_get_int(sl_config *cfg, const char *dotted, int64_t dflt);
bool sl_config_get_bool(sl_config *cfg, const char *dotted, bool dflt);

/* Like sl_config_get_str but fails when absent, with SL_CONFIG_MISSING and a
 * message naming every place that was looked in (each env var name, each
 * file and key). */
const char *sl_config_require_str(sl_config *cfg, const char *dotted, sl_error *err);

/* Resolve "${sources.pinterest.base_url}" references inside text; unknown
 * references fail with SL_CONFIG_MISSING. Result owned by cfg. */
const char *sl_config_expand(sl_config *cfg, const char *text, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif

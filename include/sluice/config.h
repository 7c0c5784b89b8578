/* sluice/config.h — configuration and secrets resolution, as dlt does it.
 *
 * Memory rule: an sl_config owns the documents it loaded and every value and
 * string it returns; returned pointers stay valid until sl_config_free. An
 * sl_config is used by one thread at a time.
 *
 * Layers, first found wins:
 *   1. environment variables: sections and key joined by "__", upper case
 *      (sources.pinterest.access_token -> SOURCES__PINTEREST__ACCESS_TOKEN);
 *   2. <project>/.sluice/secrets.toml   3. <project>/.sluice/config.toml
 *   4. ~/.sluice/secrets.toml           5. ~/.sluice/config.toml
 * (the home layers are skipped when home is the project folder). The
 * environment is copied when the config is opened.
 *
 * Within a layer, a key looked up as a.b.c.key falls back by dropping the
 * rightmost section: a.b.c.key, a.b.key, a.key, key; with a pipeline name P
 * set, P.a.b.c.key … P.key are tried first. A layer is asked for all of these
 * names before the next layer is asked (as dlt does: an environment variable
 * ACCESS_TOKEN beats [sources.pinterest] access_token in secrets.toml).
 *
 * A name that holds a table ("destination.athena.credentials") returns a
 * table built in the config's own document: the table of the layer that
 * answered, completed key by key (deeply) by the tables at the same name in
 * the layers below. In the environment, variables below the name contribute
 * their fields: DESTINATION__ATHENA__CREDENTIALS__AWS_ACCESS_KEY_ID=x gives
 * {aws_access_key_id = "x"} (keys lower-cased; matched to file keys without
 * regard to case).
 *
 * Secrets: every string in a secrets.toml is registered for redaction
 * (sluice/log.h) when the file is loaded; a value read through this API is
 * registered when it was found in a secrets file or its key names a secret
 * (sl_key_is_secret) — in a table, each field by its own key. Booleans are
 * never registered. No message from this module contains a value.
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
  char **environ;            /* NULL means the process environment; copied at open.
                                $HOME is read from here when home_dir is NULL */
} sl_config_options;

/* Loads the files that exist; a file with a syntax error fails here with its
 * file, line and column. */
sl_config *sl_config_open(const sl_config_options *opts, sl_error *err);
void sl_config_free(sl_config *cfg);

/* Where a value came from, for messages and `pipeline info`. */
typedef struct sl_config_origin {
  const char *layer; /* "env", or the path of the file ("/p/.sluice/secrets.toml") */
  const char *name;  /* the exact env var name or dotted key that matched */
  bool secret;       /* found in a secrets file, or its key names a secret */
} sl_config_origin;

/* Look up a dotted key ("sources.pinterest.access_token"). Returns the value
 * (environment values become SL_V_STRING, or are parsed as TOML values when
 * they look like one: numbers, booleans, arrays, inline tables) or NULL.
 * origin may be NULL; it is zeroed when nothing is found. */
const sl_value *sl_config_get(sl_config *cfg, const char *dotted, sl_config_origin *origin);
/* The text of a single value: strings and dates as they are, numbers and
 * booleans as text (an environment value exactly as written). dflt when
 * absent, or for tables, arrays and nulls. */
const char *sl_config_get_str(sl_config *cfg, const char *dotted, const char *dflt);
/* Integers, and strings holding one ("250"). */
int64_t sl_config_get_int(sl_config *cfg, const char *dotted, int64_t dflt);
/* Booleans, integers (0 is false) and the strings true/false, yes/no, on/off, 1/0. */
bool sl_config_get_bool(sl_config *cfg, const char *dotted, bool dflt);

/* Like sl_config_get_str but fails when absent, with SL_CONFIG_MISSING and a
 * message naming every place that was looked in (each env var name, each
 * file and key), e.g. "missing sources.pinterest.access_token: looked in
 * environment SOURCES__PINTEREST__ACCESS_TOKEN, SOURCES__ACCESS_TOKEN,
 * ACCESS_TOKEN; in /p/.sluice/secrets.toml, /p/.sluice/config.toml at
 * [sources.pinterest] access_token, [sources] access_token, access_token; no
 * file /home/u/.sluice/secrets.toml, /home/u/.sluice/config.toml".
 * A table or array there fails with SL_CONFIG_INVALID. */
const char *sl_config_require_str(sl_config *cfg, const char *dotted, sl_error *err);

/* Resolve "${sources.pinterest.base_url}" references inside text (spaces
 * inside the braces are ignored); "$${" writes a literal "${", any other '$'
 * stays as it is. Resolved values are not expanded again. An unknown
 * reference fails with SL_CONFIG_MISSING (naming the reference and where it
 * was looked for); an unterminated "${" or a reference to a table fails with
 * SL_CONFIG_INVALID. Returns text itself when it holds no '$', else a string
 * owned by cfg; NULL on failure. */
const char *sl_config_expand(sl_config *cfg, const char *text, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif

/* Tests for config resolution: every layer and its precedence, section
 * fallbacks, the pipeline section, typed environment values, tables merged
 * across layers, secret registration, the missing-value message and ${...}
 * expansion. Each test builds its own project and home folders under a
 * mkdtemp folder and passes its own environment; the real one is never read. */
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/buf.h"
#include "sluice/config.h"
#include "sluice/log.h"
#include "sluice/value.h"
#include "test.h"

/* ---- fixture ------------------------------------------------------------------------ */

typedef struct fixture {
  char root[256];
  char project[300];
  char home[300];
} fixture;

static void write_file(const char *dir, const char *name, const char *text) {
  char path[700];
  snprintf(path, sizeof path, "%s/.sluice", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/.sluice/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static void fixture_init(fixture *fx) {
  snprintf(fx->root, sizeof fx->root, "/tmp/sl_config_XXXXXX");
  if (!mkdtemp(fx->root)) abort();
  snprintf(fx->project, sizeof fx->project, "%s/project", fx->root);
  snprintf(fx->home, sizeof fx->home, "%s/home", fx->root);
  mkdir(fx->project, 0700);
  mkdir(fx->home, 0700);
}

static void fixture_free(fixture *fx) {
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->root);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", fx->root);
}

static sl_config *open_cfg(const fixture *fx, char **env, const char *pipeline, sl_error *err) {
  static char *empty_env[] = {NULL};
  sl_config_options o = {.project_dir = fx->project,
                         .home_dir = fx->home,
                         .pipeline_name = pipeline,
                         .environ = env ? env : empty_env};
  return sl_config_open(&o, err);
}

/* A standard fixture: one value in each of the four files, plus keys that
 * exist in several layers. */
static void write_all_layers(const fixture *fx) {
  write_file(fx->project, "secrets.toml",
             "[sources.pinterest]\naccess_token = \"project-secret-token\"\n"
             "shared = \"from project secrets\"\n");
  write_file(fx->project, "config.toml",
             "[sources.pinterest]\nbase_url = \"https://api.pinterest.com/v5\"\n"
             "shared = \"from project config\"\npage_size = 250\nflag = true\n"
             "[runtime]\nlog_level = \"info\"\n");
  write_file(fx->home, "secrets.toml",
             "[sources.pinterest]\nhome_secret = \"home-secret-value\"\nshared = \"from home secrets\"\n");
  write_file(fx->home, "config.toml",
             "home_only = \"from home config\"\n[sources.pinterest]\nshared = \"from home config\"\n");
}

/* ---- layers and precedence ------------------------------------------------------------- */

TEST(every_layer_is_read) {
  fixture fx;
  fixture_init(&fx);
  write_all_layers(&fx);
  char *env[] = {"RUNTIME__LOG_LEVEL=debug", NULL};
  sl_error err;
  sl_config *cfg = open_cfg(&fx, env, NULL, &err);
  CHECK_MSG(cfg, "%s", err.msg);
  sl_config_origin o;
  CHECK_STR(sl_config_get_str(cfg, "runtime.log_level", NULL), "debug");
  sl_config_get(cfg, "runtime.log_level", &o);
  CHECK_STR(o.layer, "env");
  CHECK_STR(o.name, "RUNTIME__LOG_LEVEL");
  CHECK(!o.secret);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.access_token", NULL), "project-secret-token");
  sl_config_get(cfg, "sources.pinterest.access_token", &o);
  CHECK_CONTAINS(o.layer, "/project/.sluice/secrets.toml");
  CHECK_STR(o.name, "sources.pinterest.access_token");
  CHECK(o.secret);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.base_url", NULL), "https://api.pinterest.com/v5");
  sl_config_get(cfg, "sources.pinterest.base_url", &o);
  CHECK_CONTAINS(o.layer, "/project/.sluice/config.toml");
  CHECK(!o.secret);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.home_secret", NULL), "home-secret-value");
  sl_config_get(cfg, "sources.pinterest.home_secret", &o);
  CHECK_CONTAINS(o.layer, "/home/.sluice/secrets.toml");
  CHECK_STR(sl_config_get_str(cfg, "home_only", NULL), "from home config");
  sl_config_get(cfg, "home_only", &o);
  CHECK_CONTAINS(o.layer, "/home/.sluice/config.toml");
  CHECK(sl_config_get(cfg, "sources.pinterest.nothing", &o) == NULL);
  CHECK(o.layer == NULL);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.nothing", "dflt"), "dflt");
  sl_config_free(cfg);
  fixture_free(&fx);
}

TEST(first_found_wins_in_layer_order) {
  fixture fx;
  fixture_init(&fx);
  write_all_layers(&fx);
  sl_error err;
  sl_config *cfg = open_cfg(&fx, NULL, NULL, &err);
  CHECK(cfg);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.shared", NULL), "from project secrets");
  sl_config_free(cfg);
  char *env[] = {"SOURCES__PINTEREST__SHARED=from env", NULL};
  cfg = open_cfg(&fx, env, NULL, &err);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.shared", NULL), "from env");
  sl_config_free(cfg);
  /* Remove the project files one by one: the next layer answers. */
  char path[700];
  snprintf(path, sizeof path, "%s/.sluice/secrets.toml", fx.project);
  unlink(path);
  cfg = open_cfg(&fx, NULL, NULL, &err);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.shared", NULL), "from project config");
  sl_config_free(cfg);
  snprintf(path, sizeof path, "%s/.sluice/config.toml", fx.project);
  unlink(path);
  cfg = open_cfg(&fx, NULL, NULL, &err);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.shared", NULL), "from home secrets");
  sl_config_free(cfg);
  snprintf(path, sizeof path, "%s/.sluice/secrets.toml", fx.home);
  unlink(path);
  cfg = open_cfg(&fx, NULL, NULL, &err);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.shared", NULL), "from home config");
  sl_config_free(cfg);
  fixture_free(&fx);
}

TEST(home_from_environment_or_disabled) {
  fixture fx;
  fixture_init(&fx);
  write_file(fx.home, "config.toml", "where = \"home\"\n");
  char home_var[400];
  snprintf(home_var, sizeof home_var, "HOME=%s", fx.home);
  char *env[] = {home_var, NULL};
  sl_config_options o = {.project_dir = fx.project, .environ = env};
  sl_error err;
  sl_config *cfg = sl_config_open(&o, &err);
  CHECK(cfg);
  CHECK_STR(sl_config_get_str(cfg, "where", NULL), "home");
  sl_config_free(cfg);
  o.home_dir = "";
  cfg = sl_config_open(&o, &err);
  CHECK(cfg);
  CHECK(sl_config_get_str(cfg, "where", NULL) == NULL);
  sl_config_free(cfg);
  /* The project folder being home: its files are read once. */
  o.home_dir = fx.home;
  o.project_dir = fx.home;
  cfg = sl_config_open(&o, &err);
  CHECK(cfg);
  CHECK_STR(sl_config_get_str(cfg, "where", NULL), "home");
  sl_error e2;
  CHECK(!sl_config_require_str(cfg, "nowhere", &e2));
  const char *first = strstr(e2.msg, "secrets.toml"); /* listed once, not as project and home */
  CHECK(first && !strstr(first + 1, "secrets.toml"));
  sl_config_free(cfg);
  fixture_free(&fx);
}

/* ---- names and fallbacks ------------------------------------------------------------- */

TEST(fallback_drops_the_rightmost_section) {
  fixture fx;
  fixture_init(&fx);
  write_file(fx.project, "config.toml",
             "timeout = 5\n[sources]\npage_size = 100\n[sources.pinterest]\nbase_url = \"u\"\n");
  sl_error err;
  sl_config *cfg = open_cfg(&fx, NULL, NULL, &err);
  CHECK(cfg);
  sl_config_origin o;
  CHECK_INT(sl_config_get_int(cfg, "sources.pinterest.page_size", 0), 100);
  sl_config_get(cfg, "sources.pinterest.page_size", &o);
  CHECK_STR(o.name, "sources.page_size");
  CHECK_INT(sl_config_get_int(cfg, "sources.pinterest.deeper.timeout", 0), 5);
  sl_config_get(cfg, "sources.pinterest.deeper.timeout", &o);
  CHECK_STR(o.name, "timeout");
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.base_url", NULL), "u");
  sl_config_free(cfg);
  /* The same in the environment. */
  char *env[] = {"SOURCES__PAGE_SIZE=300", "TIMEOUT=9", NULL};
  cfg = open_cfg(&fx, env, NULL, &err);
  CHECK_INT(sl_config_get_int(cfg, "sources.pinterest.page_size", 0), 300);
  sl_config_get(cfg, "sources.pinterest.page_size", &o);
  CHECK_STR(o.name, "SOURCES__PAGE_SIZE");
  CHECK_INT(sl_config_get_int(cfg, "sources.pinterest.timeout", 0), 9);
  sl_config_free(cfg);
  fixture_free(&fx);
}

/* As in dlt, a layer is searched through every fallback before the next layer. */
TEST(layer_beats_a_more_specific_name_in_a_lower_layer) {
  fixture fx;
  fixture_init(&fx);
  write_file(fx.project, "secrets.toml", "[sources.pinterest]\naccess_token = \"specific-in-file\"\n");
  char *env[] = {"ACCESS_TOKEN=generic-in-env", NULL};
  sl_error err;
  sl_config *cfg = open_cfg(&fx, env, NULL, &err);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.access_token", NULL), "generic-in-env");
  sl_config_free(cfg);
  fixture_free(&fx);
}

TEST(pipeline_section_is_tried_first) {
  fixture fx;
  fixture_init(&fx);
  write_file(fx.project, "config.toml",
             "[sources.pinterest]\nbase_url = \"plain\"\npage_size = 1\n"
             "[pin_pipe.sources.pinterest]\nbase_url = \"pipeline-specific\"\n"
             "[pin_pipe]\npage_size = 2\n");
  sl_error err;
  sl_config *cfg = open_cfg(&fx, NULL, "pin_pipe", &err);
  CHECK(cfg);
  sl_config_origin o;
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.base_url", NULL), "pipeline-specific");
  sl_config_get(cfg, "sources.pinterest.base_url", &o);
  CHECK_STR(o.name, "pin_pipe.sources.pinterest.base_url");
  /* pin_pipe.page_size (a pipeline fallback) comes before sources.pinterest.page_size */
  CHECK_INT(sl_config_get_int(cfg, "sources.pinterest.page_size", 0), 2);
  sl_config_free(cfg);
  cfg = open_cfg(&fx, NULL, NULL, &err); /* without a pipeline name the section is not used */
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.base_url", NULL), "plain");
  CHECK_INT(sl_config_get_int(cfg, "sources.pinterest.page_size", 0), 1);
  sl_config_free(cfg);
  char *env[] = {"PIN_PIPE__SOURCES__PINTEREST__BASE_URL=env-pipeline", "SOURCES__PINTEREST__BASE_URL=env", NULL};
  cfg = open_cfg(&fx, env, "pin_pipe", &err);
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.base_url", NULL), "env-pipeline");
  sl_config_get(cfg, "sources.pinterest.base_url", &o);
  CHECK_STR(o.name, "PIN_PIPE__SOURCES__PINTEREST__BASE_URL");
  sl_config_free(cfg);
  fixture_free(&fx);
}

/* ---- typed values ------------------------------------------------------------------- */

TEST(environment_values_are_typed_when_they_read_as_toml) {
  fixture fx;
  fixture_init(&fx);
  char *env[] = {"A__INT=42",
                 "A__NEG=-7",
                 "A__FLOAT=2.5",
                 "A__BOOL=true",
                 "A__ARR=[1, \"two\", 3]",
                 "A__TBL={x = 1, y = \"z\"}",
                 "A__STR=hello world",
                 "A__QUOTED=\"quoted\"",
                 "A__LEADING_ZERO=0123",
                 "A__BIG=123456789012345678901234567890",
                 "A__DATE=2024-01-01",
                 "A__TWO=1\nb = 2",
                 "A__EMPTY=",
                 "A__TOKEN=12345678",
                 NULL};
  sl_error err;
  sl_config *cfg = open_cfg(&fx, env, NULL, &err);
  CHECK(cfg);
  const sl_value *v = sl_config_get(cfg, "a.int", NULL);
  CHECK_INT(v->type, SL_V_INT);
  CHECK_INT(v->u.i, 42);
  CHECK_STR(sl_config_get_str(cfg, "a.int", NULL), "42");
  CHECK_INT(sl_config_get_int(cfg, "a.neg", 0), -7);
  CHECK_INT(sl_config_get(cfg, "a.float", NULL)->type, SL_V_NUMBER);
  CHECK_STR(sl_config_get_str(cfg, "a.float", NULL), "2.5");
  CHECK_INT(sl_config_get(cfg, "a.bool", NULL)->type, SL_V_BOOL);
  CHECK(sl_config_get_bool(cfg, "a.bool", false));
  v = sl_config_get(cfg, "a.arr", NULL);
  CHECK_INT(v->type, SL_V_ARRAY);
  CHECK_INT(sl_v_len(v), 3);
  CHECK_STR(sl_v_str(sl_v_at(v, 1), NULL), "two");
  CHECK(sl_config_get_str(cfg, "a.arr", NULL) == NULL);
  v = sl_config_get(cfg, "a.tbl", NULL);
  CHECK_INT(v->type, SL_V_OBJECT);
  CHECK_INT(sl_v_int_or(sl_v_get(v, "x"), 0), 1);
  CHECK_STR(sl_v_str(sl_v_get(v, "y"), NULL), "z");
  CHECK_INT(sl_config_get(cfg, "a.str", NULL)->type, SL_V_STRING);
  CHECK_STR(sl_config_get_str(cfg, "a.str", NULL), "hello world");
  CHECK_STR(sl_config_get_str(cfg, "a.quoted", NULL), "\"quoted\""); /* strings stay as written */
  CHECK_STR(sl_config_get_str(cfg, "a.leading_zero", NULL), "0123");
  CHECK_INT(sl_config_get(cfg, "a.leading_zero", NULL)->type, SL_V_STRING);
  CHECK_INT(sl_config_get(cfg, "a.big", NULL)->type, SL_V_STRING);
  CHECK_STR(sl_config_get_str(cfg, "a.date", NULL), "2024-01-01");
  CHECK_INT(sl_config_get(cfg, "a.two", NULL)->type, SL_V_STRING);
  CHECK_STR(sl_config_get_str(cfg, "a.empty", "dflt"), "");
  /* A numeric-looking token keeps its exact text. */
  CHECK_STR(sl_config_get_str(cfg, "a.token", NULL), "12345678");
  sl_config_free(cfg);
  fixture_free(&fx);
}

TEST(int_and_bool_coercions) {
  fixture fx;
  fixture_init(&fx);
  write_file(fx.project, "config.toml",
             "n_str = \"250\"\nbad = \"25x\"\nf = 3.0\nyes = \"yes\"\noff = \"OFF\"\none = 1\nzero = 0\n"
             "t = true\nword = \"maybe\"\n");
  sl_error err;
  sl_config *cfg = open_cfg(&fx, NULL, NULL, &err);
  CHECK_INT(sl_config_get_int(cfg, "n_str", 0), 250);
  CHECK_INT(sl_config_get_int(cfg, "bad", -1), -1);
  CHECK_INT(sl_config_get_int(cfg, "f", 0), 3);
  CHECK_INT(sl_config_get_int(cfg, "missing", 77), 77);
  CHECK(sl_config_get_bool(cfg, "yes", false));
  CHECK(!sl_config_get_bool(cfg, "off", true));
  CHECK(sl_config_get_bool(cfg, "one", false));
  CHECK(!sl_config_get_bool(cfg, "zero", true));
  CHECK(sl_config_get_bool(cfg, "t", false));
  CHECK(sl_config_get_bool(cfg, "word", true));
  CHECK(!sl_config_get_bool(cfg, "missing", false));
  CHECK_STR(sl_config_get_str(cfg, "t", NULL), "true");
  CHECK_STR(sl_config_get_str(cfg, "one", NULL), "1");
  sl_config_free(cfg);
  fixture_free(&fx);
}

/* ---- tables ------------------------------------------------------------------------ */

TEST(tables_merge_across_layers_and_environment) {
  fixture fx;
  fixture_init(&fx);
  write_file(fx.project, "secrets.toml",
             "[destination.athena.credentials]\naws_access_key_id = \"AKIAFILEFILEFILE\"\n"
             "aws_secret_access_key = \"file-secret-key\"\n");
  write_file(fx.project, "config.toml",
             "[destination.athena.credentials]\nregion_name = \"eu-west-1\"\n"
             "aws_access_key_id = \"ignored: secrets.toml answers first\"\n"
             "[destination.athena.credentials.nested]\na = 1\n");
  write_file(fx.home, "config.toml", "[destination.athena.credentials.nested]\nb = 2\na = 99\n");
  char *env[] = {"DESTINATION__ATHENA__CREDENTIALS__AWS_ACCESS_KEY_ID=AKIAENVENVENV", "OTHER=x", NULL};
  sl_error err;
  sl_config *cfg = open_cfg(&fx, env, NULL, &err);
  CHECK_MSG(cfg, "%s", err.msg);
  sl_config_origin o;
  const sl_value *t = sl_config_get(cfg, "destination.athena.credentials", &o);
  CHECK(t && t->type == SL_V_OBJECT);
  CHECK_STR(o.layer, "env");
  CHECK_STR(o.name, "DESTINATION__ATHENA__CREDENTIALS");
  CHECK_STR(sl_v_str(sl_v_get(t, "aws_access_key_id"), NULL), "AKIAENVENVENV");
  CHECK_STR(sl_v_str(sl_v_get(t, "aws_secret_access_key"), NULL), "file-secret-key");
  CHECK_STR(sl_v_str(sl_v_get(t, "region_name"), NULL), "eu-west-1");
  CHECK_INT(sl_v_int_or(sl_v_path(t, "nested.a"), 0), 1);
  CHECK_INT(sl_v_int_or(sl_v_path(t, "nested.b"), 0), 2);
  CHECK_INT(sl_v_len(t), 4);
  CHECK(sl_config_get_str(cfg, "destination.athena.credentials", NULL) == NULL); /* not a single value */
  sl_error e2;
  CHECK(!sl_config_require_str(cfg, "destination.athena.credentials", &e2));
  CHECK_STR(sl_status_name(e2.code), "SL_CONFIG_INVALID");
  /* A field through the ordinary lookup agrees with the table. */
  CHECK_STR(sl_config_get_str(cfg, "destination.athena.credentials.aws_access_key_id", NULL), "AKIAENVENVENV");
  /* The same call again returns the same table (cached, no growth). */
  CHECK(sl_config_get(cfg, "destination.athena.credentials", NULL) == t);
  sl_config_free(cfg);
  fixture_free(&fx);
}

TEST(tables_from_the_environment_alone) {
  fixture fx;
  fixture_init(&fx);
  char *env[] = {"DESTINATION__ATHENA__CREDENTIALS__AWS_ACCESS_KEY_ID=AKIA1",
                 "DESTINATION__ATHENA__CREDENTIALS__REGION_NAME=us-east-1",
                 "DESTINATION__ATHENA__CREDENTIALS__DEEP__PORT=5432",
                 "DESTINATION__ATHENA__CREDENTIALS____BAD=x",
                 "DESTINATION__ATHENA__QUERY_RESULT_BUCKET=s3://b",
                 "DESTINATION__ATHENA__TABLE_PROPERTIES={format = \"parquet\"}",
                 "DESTINATION__ATHENA__TABLE_PROPERTIES__EXTRA=1",
                 NULL};
  sl_error err;
  sl_config *cfg = open_cfg(&fx, env, NULL, &err);
  const sl_value *t = sl_config_get(cfg, "destination.athena.credentials", NULL);
  CHECK(t && t->type == SL_V_OBJECT);
  CHECK_STR(sl_v_str(sl_v_get(t, "aws_access_key_id"), NULL), "AKIA1");
  CHECK_STR(sl_v_str(sl_v_get(t, "region_name"), NULL), "us-east-1");
  CHECK_INT(sl_v_int_or(sl_v_path(t, "deep.port"), 0), 5432);
  CHECK_INT(sl_v_len(t), 3);
  t = sl_config_get(cfg, "destination.athena", NULL);
  CHECK_STR(sl_v_str(sl_v_get(t, "query_result_bucket"), NULL), "s3://b");
  t = sl_config_get(cfg, "destination.athena.table_properties", NULL);
  CHECK_STR(sl_v_str(sl_v_get(t, "format"), NULL), "parquet");
  CHECK_INT(sl_v_int_or(sl_v_get(t, "extra"), 0), 1);
  sl_config_free(cfg);
  fixture_free(&fx);
}

/* ---- secrets ------------------------------------------------------------------------ */

TEST(secrets_are_registered) {
  sl_secrets_clear();
  fixture fx;
  fixture_init(&fx);
  write_file(fx.project, "secrets.toml",
             "[sources.pinterest]\nclient_id = \"client-id-in-secrets\"\nnumber = 123456789\n");
  write_file(fx.project, "config.toml",
             "[sources.pinterest]\napi_key = \"config-api-key-value\"\nbase_url = \"https://not.secret\"\n"
             "verify_token = true\n");
  char *env[] = {"SOURCES__PINTEREST__ACCESS_TOKEN=env-token-value", "SOURCES__PINTEREST__REGION=eu-central",
                 NULL};
  sl_error err;
  sl_config *cfg = open_cfg(&fx, env, NULL, &err);
  CHECK(cfg);
  char red[256];
  /* secrets.toml strings are registered as soon as the file is loaded */
  sl_redact_into(red, sizeof red, "id=client-id-in-secrets");
  CHECK_STR(red, "id=***");
  /* values read under a secret key are registered when read */
  sl_redact_into(red, sizeof red, "k=config-api-key-value t=env-token-value");
  CHECK_STR(red, "k=config-api-key-value t=env-token-value");
  size_t before = sl_secrets_count();
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.api_key", NULL), "config-api-key-value");
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.access_token", NULL), "env-token-value");
  CHECK(sl_secrets_count() > before);
  sl_redact_into(red, sizeof red, "k=config-api-key-value t=env-token-value");
  CHECK_STR(red, "k=*** t=***");
  /* a number in secrets.toml is registered when read */
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.number", NULL), "123456789");
  sl_redact_into(red, sizeof red, "n=123456789");
  CHECK_STR(red, "n=***");
  sl_config_origin o;
  sl_config_get(cfg, "sources.pinterest.number", &o);
  CHECK(o.secret);
  /* ordinary values are not */
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.base_url", NULL), "https://not.secret");
  CHECK_STR(sl_config_get_str(cfg, "sources.pinterest.region", NULL), "eu-central");
  CHECK(sl_config_get_bool(cfg, "sources.pinterest.verify_token", false));
  sl_redact_into(red, sizeof red, "https://not.secret eu-central true");
  CHECK_STR(red, "https://not.secret eu-central true");
  sl_config_free(cfg);
  sl_secrets_clear();
  fixture_free(&fx);
}

TEST(secret_fields_of_tables_are_registered_by_their_key) {
  sl_secrets_clear();
  fixture fx;
  fixture_init(&fx);
  char *env[] = {"DESTINATION__ATHENA__CREDENTIALS__AWS_SECRET_ACCESS_KEY=very-secret-aws-key",
                 "DESTINATION__ATHENA__CREDENTIALS__REGION_NAME=us-west-2", NULL};
  sl_error err;
  sl_config *cfg = open_cfg(&fx, env, NULL, &err);
  CHECK(sl_config_get(cfg, "destination.athena.credentials", NULL));
  char red[256];
  sl_redact_into(red, sizeof red, "very-secret-aws-key in us-west-2");
  CHECK_STR(red, "*** in us-west-2");
  sl_config_free(cfg);
  sl_secrets_clear();
  fixture_free(&fx);
}

/* ---- missing values and errors ------------------------------------------------------ */

TEST(missing_value_names_every_place_looked_in) {
  fixture fx;
  fixture_init(&fx);
  write_file(fx.project, "secrets.toml", "other = \"s3cr3t-value-here\"\n");
  write_file(fx.project, "config.toml", "x = 1\n");
  sl_error err;
  sl_config *cfg = open_cfg(&fx, NULL, NULL, &err);
  CHECK(cfg);
  CHECK(sl_config_require_str(cfg, "sources.pinterest.access_token", &err) == NULL);
  CHECK_STR(sl_status_name(err.code), "SL_CONFIG_MISSING");
  char want[2048];
  snprintf(want, sizeof want,
           "missing sources.pinterest.access_token: looked in environment SOURCES__PINTEREST__ACCESS_TOKEN, "
           "SOURCES__ACCESS_TOKEN, ACCESS_TOKEN; in %s/.sluice/secrets.toml, %s/.sluice/config.toml at "
           "[sources.pinterest] access_token, [sources] access_token, access_token; no file "
           "%s/.sluice/secrets.toml, %s/.sluice/config.toml",
           fx.project, fx.project, fx.home, fx.home);
  CHECK_STR(err.msg, want);
  CHECK(!strstr(err.msg, "s3cr3t"));
  sl_config_free(cfg);
  /* with a pipeline name */
  cfg = open_cfg(&fx, NULL, "pin_pipe", &err);
  CHECK(sl_config_require_str(cfg, "sources.pinterest.access_token", &err) == NULL);
  CHECK_CONTAINS(err.msg, "ACCESS_TOKEN (each first prefixed with PIN_PIPE__)");
  CHECK_CONTAINS(err.msg, "access_token (each first under [pin_pipe])");
  sl_config_free(cfg);
  /* present: returned */
  char *env[] = {"SOURCES__PINTEREST__ACCESS_TOKEN=tok", NULL};
  cfg = open_cfg(&fx, env, NULL, &err);
  CHECK_STR(sl_config_require_str(cfg, "sources.pinterest.access_token", &err), "tok");
  CHECK(sl_config_require_str(cfg, "bad..key", &err) == NULL);
  CHECK_CONTAINS(err.msg, "not a valid key");
  sl_config_free(cfg);
  fixture_free(&fx);
}

TEST(toml_syntax_error_fails_open_with_location) {
  fixture fx;
  fixture_init(&fx);
  write_file(fx.home, "secrets.toml", "[ok]\nkey = \"v\"\nbroken = \n");
  sl_error err;
  sl_config *cfg = open_cfg(&fx, NULL, NULL, &err);
  CHECK(cfg == NULL);
  CHECK_STR(sl_status_name(err.code), "SL_TOML_SYNTAX");
  CHECK_CONTAINS(err.file, "/home/.sluice/secrets.toml");
  CHECK_INT(err.line, 3);
  CHECK(err.col > 0);
  /* in the project's config too */
  write_file(fx.home, "secrets.toml", "");
  write_file(fx.project, "config.toml", "a = 1\na = 2\n");
  cfg = open_cfg(&fx, NULL, NULL, &err);
  CHECK(cfg == NULL);
  CHECK_CONTAINS(err.file, "/project/.sluice/config.toml");
  CHECK_INT(err.line, 2);
  fixture_free(&fx);
}

/* ---- expansion ----------------------------------------------------------------------- */

TEST(expand_references) {
  fixture fx;
  fixture_init(&fx);
  write_file(fx.project, "config.toml",
             "[sources.pinterest]\nbase_url = \"https://api.pinterest.com/v5\"\npage_size = 25\n"
             "[destination.athena.credentials]\nregion_name = \"x\"\n");
  char *env[] = {"SOURCES__PINTEREST__ACCESS_TOKEN=tok-from-env", NULL};
  sl_error err;
  sl_config *cfg = open_cfg(&fx, env, NULL, &err);
  CHECK(cfg);
  const char *plain = "no references";
  CHECK(sl_config_expand(cfg, plain, &err) == plain);
  CHECK_STR(sl_config_expand(cfg, "${sources.pinterest.base_url}/pins?page_size=${ sources.pinterest.page_size }",
                             &err),
            "https://api.pinterest.com/v5/pins?page_size=25");
  CHECK_STR(sl_config_expand(cfg, "Bearer ${sources.pinterest.access_token}", &err), "Bearer tok-from-env");
  CHECK_STR(sl_config_expand(cfg, "literal $${sources.x} and $5 and $$ and $", &err),
            "literal ${sources.x} and $5 and $$ and $");
  CHECK_STR(sl_config_expand(cfg, "", &err), "");
  CHECK(sl_config_expand(cfg, "a ${sources.pinterest.nope} b", &err) == NULL);
  CHECK_STR(sl_status_name(err.code), "SL_CONFIG_MISSING");
  CHECK_CONTAINS(err.msg, "missing ${sources.pinterest.nope}: looked in environment SOURCES__PINTEREST__NOPE");
  CHECK(sl_config_expand(cfg, "a ${unterminated", &err) == NULL);
  CHECK_STR(sl_status_name(err.code), "SL_CONFIG_INVALID");
  CHECK_CONTAINS(err.msg, "unterminated");
  CHECK(sl_config_expand(cfg, "${destination.athena.credentials}", &err) == NULL);
  CHECK_STR(sl_status_name(err.code), "SL_CONFIG_INVALID");
  /* A value that itself contains ${...} is not expanded again. */
  sl_config_free(cfg);
  char *env2[] = {"A=${B}", "B=x", NULL};
  cfg = open_cfg(&fx, env2, NULL, &err);
  CHECK_STR(sl_config_expand(cfg, "[${a}]", &err), "[${B}]");
  sl_config_free(cfg);
  fixture_free(&fx);
}

TEST(process_environment_is_the_default) {
  fixture fx;
  fixture_init(&fx);
  setenv("SL_TEST_CONFIG__PROBE", "from-process", 1);
  sl_config_options o = {.project_dir = fx.project, .home_dir = ""};
  sl_error err;
  sl_config *cfg = sl_config_open(&o, &err);
  CHECK(cfg);
  CHECK_STR(sl_config_get_str(cfg, "sl_test_config.probe", NULL), "from-process");
  unsetenv("SL_TEST_CONFIG__PROBE");
  CHECK_STR(sl_config_get_str(cfg, "sl_test_config.probe", NULL), "from-process"); /* copied at open */
  sl_config_free(cfg);
  fixture_free(&fx);
}

TEST(null_arguments) {
  sl_config_free(NULL);
  CHECK(sl_config_get(NULL, "a", NULL) == NULL);
  CHECK_STR(sl_config_get_str(NULL, "a", "d"), "d");
  sl_error err;
  CHECK(sl_config_require_str(NULL, "a", &err) == NULL);
  CHECK_STR(sl_status_name(err.code), "SL_INVALID_ARG");
}

TEST_MAIN()

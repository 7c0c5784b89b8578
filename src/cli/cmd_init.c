/* `sluice init NAME --spec FILE|URL`: generate a pipeline folder with a
 * runnable rest_api source from an OpenAPI spec, and print what it found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sluice/openapi.h"

static void usage(FILE *out) {
  fputs("usage: sluice init NAME --spec FILE|URL [--destination duckdb|athena|filesystem]\n"
        "                   [--endpoints GLOB...] [--global-limit N] [--out DIR] [--force]\n"
        "\n"
        "Read an OpenAPI 3.0/3.1 spec (YAML or JSON, a file or an http(s) URL) and write\n"
        "NAME_pipeline/ with sluice.toml, NAME.source.yaml (one resource per GET\n"
        "operation), .sluice/config.toml (base_url), .sluice/secrets.toml (credential\n"
        "placeholders) and .gitignore. Then prints a report: operations, resources,\n"
        "paginators, resolved parameters, auth, and each disabled resource with what it\n"
        "needs.\n"
        "\n"
        "options:\n"
        "  --spec FILE|URL      the OpenAPI spec (required)\n"
        "  --destination D      duckdb (default), athena or filesystem\n"
        "  --endpoints GLOB...  only GET paths matching one of these globs (\"/ad_accounts*\")\n"
        "  --global-limit N     pages per request series (endpoint.limit in resource_defaults)\n"
        "  --out DIR            write into DIR instead of ./NAME_pipeline\n"
        "  --force              overwrite the generated files of an existing folder\n"
        "  --help               print this help\n"
        "\n"
        "See docs/init.md.\n",
        out);
}

int sl_cli_init(int argc, char **argv) {
  const char *name = NULL, *spec_loc = NULL, *out_dir = NULL, *dest = "duckdb";
  const char **globs = calloc((size_t)argc + 1, sizeof *globs);
  size_t nglobs = 0;
  int64_t limit = 0;
  bool force = false;
  if (!globs) return 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      free(globs);
      return 0;
    } else if (!strcmp(a, "--spec") && i + 1 < argc) {
      spec_loc = argv[++i];
    } else if (!strcmp(a, "--destination") && i + 1 < argc) {
      dest = argv[++i];
    } else if (!strcmp(a, "--out") && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (!strcmp(a, "--force")) {
      force = true;
    } else if (!strcmp(a, "--global-limit") && i + 1 < argc) {
      char *end;
      limit = strtoll(argv[++i], &end, 10);
      if (*end || limit <= 0) {
        fprintf(stderr, "sluice init: --global-limit wants a positive number, not '%s'\n", argv[i]);
        free(globs);
        return 2;
      }
    } else if (!strcmp(a, "--endpoints")) {
      while (i + 1 < argc && argv[i + 1][0] != '-') globs[nglobs++] = argv[++i];
      if (!nglobs) {
        fprintf(stderr, "sluice init: --endpoints wants one or more path globs\n");
        free(globs);
        return 2;
      }
    } else if (a[0] == '-') {
      fprintf(stderr, "sluice init: unknown option or missing value '%s' (see sluice init --help)\n",
              a);
      free(globs);
      return 2;
    } else if (!name) {
      name = a;
    } else {
      fprintf(stderr, "sluice init: one NAME only (see sluice init --help)\n");
      free(globs);
      return 2;
    }
  }
  if (!name || !spec_loc) {
    usage(stderr);
    free(globs);
    return 2;
  }
  bool name_ok = strlen(name) <= 64 && !(name[0] >= '0' && name[0] <= '9');
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) name_ok = false;
  if (!name_ok) {
    fprintf(stderr, "sluice init: NAME '%s' must be lower-case letters, digits and '_' (it names "
                    "the source, the pipeline NAME_pipeline and the dataset NAME_data)\n",
            name);
    free(globs);
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", out_dir ? out_dir : "");
  if (!out_dir) snprintf(dir, sizeof dir, "%s_pipeline", name);

  sl_openapi *spec = sl_openapi_load(spec_loc, &err);
  if (!spec) {
    free(globs);
    return sl_cli_fail(&err);
  }
  sl_init_options o = {.name = name,
                       .destination = dest,
                       .endpoints = nglobs ? globs : NULL,
                       .nendpoints = nglobs,
                       .global_limit = limit,
                       .spec_location = spec_loc};
  sl_init_result *r = sl_init_generate(spec, &o, &err);
  int rc = 0;
  if (!r || sl_init_write(r, name, dir, force, &err)) {
    rc = sl_cli_fail(&err);
  } else {
    printf("sluice init: wrote %s/ from %s (OpenAPI %s)\n", dir, spec_loc,
           sl_openapi_version(spec));
    sl_init_report(r, stdout);
    printf("next: put credentials in %s/.sluice/secrets.toml, then `cd %s && sluice run`\n", dir,
           dir);
  }
  sl_init_result_free(r);
  sl_openapi_free(spec);
  free(globs);
  return rc;
}

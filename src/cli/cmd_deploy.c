/* `sluice deploy github-action|cron`: run a pipeline on a schedule.
 *
 * github-action writes <git root>/.github/workflows/<pipeline>.yml: build
 * sluice, then `sluice run` the project folder with every secret of its
 * .sluice/secrets.toml passed from the repository's secret store as an
 * environment variable named as the config layers read it
 * (sources.pinterest.access_token -> SOURCES__PINTEREST__ACCESS_TOKEN).
 * cron prints a crontab line that runs the pipeline under flock(1), so a run
 * that lasts longer than the period never overlaps the next. */
#define _GNU_SOURCE
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sluice/package.h"
#include "sluice/pipeline.h"
#include "sluice/toml.h"
#include "sluice/value.h"

static void usage(FILE *out) {
  fputs("usage: sluice deploy github-action --schedule \"CRON\" [DIR] [--sluice-repo URL] [--force]\n"
        "       sluice deploy cron [DIR] [--schedule \"CRON\"]\n"
        "\n"
        "github-action  write .github/workflows/<pipeline>.yml (in the git repository of\n"
        "               DIR) that builds sluice and runs the pipeline on the schedule, with\n"
        "               the secrets of DIR/.sluice/secrets.toml taken from the repository's\n"
        "               secret store as environment variables (SOURCES__PINTEREST__ACCESS_TOKEN)\n"
        "               --sluice-repo URL  where to get sluice's source when the repository\n"
        "                                  is not sluice's own\n"
        "               --force            replace an existing workflow file\n"
        "cron           print a crontab line running the pipeline under flock, so runs\n"
        "               never overlap (default schedule: \"0 * * * *\", hourly)\n"
        "\n"
        "CRON is five fields: minute hour day-of-month month day-of-week (UTC on GitHub).\n",
        out);
}

static bool cron_ok(const char *s, char *why, size_t size) {
  int fields = 0;
  const char *p = s;
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    fields++;
    for (; *p && *p != ' ' && *p != '\t'; p++) {
      if (!(isalnum((unsigned char)*p) || strchr("*/,-?", *p))) {
        snprintf(why, size, "'%c' is not allowed in a cron field", *p);
        return false;
      }
    }
  }
  if (fields != 5) {
    snprintf(why, size, "a cron schedule has 5 fields (minute hour day month weekday), not %d",
             fields);
    return false;
  }
  return true;
}

/* Upper-case dotted path with "__" between parts: the environment layer's name. */
static void env_name(const char *dotted, char *out, size_t size) {
  size_t o = 0;
  for (const char *p = dotted; *p && o + 3 < size; p++) {
    if (*p == '.') {
      out[o++] = '_';
      out[o++] = '_';
    } else {
      out[o++] = (char)toupper((unsigned char)*p);
    }
  }
  out[o] = '\0';
}

static void collect(const sl_value *v, const char *prefix, char ***names, size_t *n) {
  if (!v) return;
  if (v->type == SL_V_OBJECT) {
    for (size_t i = 0; i < v->u.obj.len; i++) {
      char path[1024];
      snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", v->u.obj.items[i].key);
      collect(v->u.obj.items[i].val, path, names, n);
    }
    return;
  }
  char env[1024];
  env_name(prefix, env, sizeof env);
  char **x = realloc(*names, (*n + 1) * sizeof *x);
  if (!x) return;
  *names = x;
  if ((x[*n] = strdup(env))) (*n)++;
}

/* The git repository holding dir (NULL when none). malloc'ed. */
static char *git_root(const char *dir) {
  char cur[PATH_MAX];
  if (!realpath(dir, cur)) return NULL;
  for (;;) {
    char probe[PATH_MAX + 8];
    struct stat sb;
    snprintf(probe, sizeof probe, "%s/.git", cur);
    if (stat(probe, &sb) == 0) return strdup(cur);
    char *slash = strrchr(cur, '/');
    if (!slash || slash == cur) return NULL;
    *slash = '\0';
  }
}

static bool is_sluice_tree(const char *root) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/include/sluice/pipeline.h", root);
  struct stat sb;
  return stat(path, &sb) == 0;
}

static void shell_quote(FILE *out, const char *s) {
  fputc('\'', out);
  for (; *s; s++) {
    if (*s == '\'') fputs("'\\''", out);
    else fputc(*s, out);
  }
  fputc('\'', out);
}

static int github_action(sl_pipeline *p, const char *schedule, const char *repo_url, bool force) {
  const char *proj = sl_pipeline_project_dir(p);
  char *root = git_root(proj);
  const char *base = root ? root : proj;
  bool in_tree = is_sluice_tree(base);
  if (!in_tree && !repo_url) {
    fprintf(stderr,
            "sluice deploy: %s is not sluice's own repository: give --sluice-repo URL so the "
            "workflow can build sluice\n",
            base);
    free(root);
    return 2;
  }
  /* The project folder relative to the repository. */
  const char *rel = ".";
  size_t bl = strlen(base);
  if (!strncmp(proj, base, bl) && proj[bl] == '/') rel = proj + bl + 1;
  /* Secrets: every key of the project's secrets.toml, by environment name. */
  char spath[PATH_MAX + 32];
  snprintf(spath, sizeof spath, "%s/.sluice/secrets.toml", proj);
  char **names = NULL;
  size_t nnames = 0;
  struct stat sb;
  if (stat(spath, &sb) == 0) {
    sl_error err;
    sl_error_clear(&err);
    sl_doc *d = sl_toml_parse_file(spath, &err);
    if (!d) {
      free(root);
      return sl_cli_fail(&err);
    }
    collect(d->root, "", &names, &nnames);
    sl_doc_free(d);
  }
  char dir[PATH_MAX + 32], path[PATH_MAX + 300];
  snprintf(dir, sizeof dir, "%s/.github/workflows", base);
  snprintf(path, sizeof path, "%s/%s.yml", dir, sl_pipeline_name(p));
  int rc = 0;
  sl_error err;
  sl_error_clear(&err);
  if (!force && stat(path, &sb) == 0) {
    fprintf(stderr, "sluice deploy: %s exists (use --force to replace it)\n", path);
    rc = 2;
  } else if (sl_mkdir_p(dir, &err)) {
    rc = sl_cli_fail(&err);
  }
  sl_buf y = {0};
  if (!rc) {
    const char *n = sl_pipeline_name(p);
    sl_buf_printf(&y,
                  "# Written by `sluice deploy github-action`: runs the sluice pipeline %s\n"
                  "# on a schedule. Add the secrets listed under env to the repository\n"
                  "# (Settings -> Secrets and variables -> Actions).\n"
                  "name: sluice pipeline %s\n"
                  "on:\n"
                  "  schedule:\n"
                  "    - cron: \"%s\"\n"
                  "  workflow_dispatch: {}\n"
                  "concurrency:\n"
                  "  group: sluice-%s\n"
                  "  cancel-in-progress: false\n"
                  "jobs:\n"
                  "  run:\n"
                  "    runs-on: ubuntu-latest\n"
                  "    timeout-minutes: 360\n"
                  "    steps:\n"
                  "      - uses: actions/checkout@v4\n",
                  n, n, schedule, n);
    const char *src = ".";
    if (!in_tree) {
      sl_buf_printf(&y,
                    "      - name: Get sluice\n"
                    "        run: git clone --depth 1 \"%s\" \"$RUNNER_TEMP/sluice\"\n",
                    repo_url);
      src = "$RUNNER_TEMP/sluice";
    }
    sl_buf_printf(&y,
                  "      - name: Build sluice\n"
                  "        run: make -C \"%s\" release\n"
                  "      - name: Run the pipeline\n"
                  "        env:\n"
                  "          RUNTIME__LOG_LEVEL: INFO\n",
                  src);
    for (size_t i = 0; i < nnames; i++)
      sl_buf_printf(&y, "          %s: ${{ secrets.%s }}\n", names[i], names[i]);
    sl_buf_printf(&y, "        run: |\n          \"%s/build/release/sluice\" run \"%s\"\n", src, rel);
    rc = sl_write_file_atomic(path, y.data, y.len, &err) ? sl_cli_fail(&err) : 0;
  }
  if (!rc) {
    printf("Wrote %s (schedule \"%s\").\n", path, schedule);
    if (nnames) {
      printf("Add these secrets to the repository (Settings -> Secrets and variables -> Actions):\n");
      for (size_t i = 0; i < nnames; i++) printf("  %s\n", names[i]);
    } else {
      printf("The project has no .sluice/secrets.toml: no secrets are passed.\n");
    }
  }
  sl_buf_free(&y);
  for (size_t i = 0; i < nnames; i++) free(names[i]);
  free(names);
  free(root);
  return rc;
}

static int cron_line(sl_pipeline *p, const char *schedule) {
  char exe[PATH_MAX];
  ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (l <= 0) snprintf(exe, sizeof exe, "sluice");
  else exe[l] = '\0';
  char lock[PATH_MAX + 32], log[PATH_MAX + 32];
  snprintf(lock, sizeof lock, "%s/cron.lock", sl_pipeline_working_dir(p));
  snprintf(log, sizeof log, "%s/cron.log", sl_pipeline_working_dir(p));
  printf("# sluice pipeline %s: add with `crontab -e`; flock -n skips a run while the last "
         "one still runs\n",
         sl_pipeline_name(p));
  printf("%s flock -n ", schedule);
  shell_quote(stdout, lock);
  fputc(' ', stdout);
  shell_quote(stdout, exe);
  fputs(" run ", stdout);
  shell_quote(stdout, sl_pipeline_project_dir(p));
  fputs(" >> ", stdout);
  shell_quote(stdout, log);
  fputs(" 2>&1\n", stdout);
  return 0;
}

int sl_cli_deploy(int argc, char **argv) {
  const char *what = NULL, *dir = NULL, *schedule = NULL, *repo = NULL;
  bool force = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--schedule") && i + 1 < argc) {
      schedule = argv[++i];
    } else if (!strcmp(a, "--sluice-repo") && i + 1 < argc) {
      repo = argv[++i];
    } else if (!strcmp(a, "--force")) {
      force = true;
    } else if (a[0] == '-') {
      fprintf(stderr, "sluice deploy: unknown option '%s' (see sluice deploy --help)\n", a);
      return 2;
    } else if (!what) {
      what = a;
    } else if (!dir) {
      dir = a;
    } else {
      fprintf(stderr, "sluice deploy: unexpected argument '%s'\n", a);
      return 2;
    }
  }
  if (!what || (strcmp(what, "github-action") && strcmp(what, "cron"))) {
    usage(stderr);
    return 2;
  }
  bool gh = !strcmp(what, "github-action");
  if (gh && !schedule) {
    fprintf(stderr, "sluice deploy github-action: give --schedule \"CRON\" (e.g. \"0 3 * * *\")\n");
    return 2;
  }
  if (!schedule) schedule = "0 * * * *";
  char why[128];
  if (!cron_ok(schedule, why, sizeof why)) {
    fprintf(stderr, "sluice deploy: --schedule \"%s\": %s\n", schedule, why);
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = sl_pipeline_open_dir(dir ? dir : ".", &err);
  if (!p) return sl_cli_fail(&err);
  int rc = gh ? github_action(p, schedule, repo, force) : cron_line(p, schedule);
  sl_pipeline_close(p);
  return rc;
}

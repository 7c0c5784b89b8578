/* A program with its own resource: it generates "orders" in C (one JSON record
 * at a time, each with a nested list of lines), next to a declarative resource
 * from YAML text, loads both into DuckDB with sluice, and checks what landed.
 *
 *   custom_resource [WORK_DIR]     (default ./custom_resource_run)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/package.h>
#include <sluice/pipeline.h>

/* The resource: ud is how many orders to make. Its state remembers the last
 * order id, so each run continues where the last loaded one stopped. */
static sl_status orders(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  (void)parent;
  int count = *(int *)ud;
  sl_value *state = sl_emit_state(em);
  int64_t start = sl_v_int_or(sl_v_get(state, "last_id"), 0);
  char rec[256];
  int64_t id = start;
  for (int i = 0; i < count && !sl_emit_stopped(em); i++) {
    id = start + i + 1;
    int n = snprintf(rec, sizeof rec,
                     "{\"id\": %lld, \"customer\": \"c%lld\", \"placed_at\": \"2024-05-%02lldT10:00:00Z\","
                     " \"lines\": [{\"sku\": \"A\", \"qty\": %lld}, {\"sku\": \"B\", \"qty\": 1}]}",
                     (long long)id, (long long)(id % 7), (long long)(id % 28 + 1), (long long)(id % 5 + 1));
    sl_status st = sl_emit_json(em, rec, (size_t)n, err);
    if (st) return st;
  }
  sl_doc *sd = sl_emit_state_doc(em);
  return sl_v_put(sd, state, "last_id", sl_v_int(sd, id));
}

static long long count(sl_pipeline *p, const char *sql) {
  sl_buf out = {0};
  sl_error err;
  sl_error_clear(&err);
  long long v = -1;
  if (sl_pipeline_query(p, sql, SL_QF_CSV, &out, &err) == SL_OK && out.data) {
    char *end = out.data + out.len;
    while (end > out.data && (end[-1] == '\n' || end[-1] == '\r')) *--end = '\0';
    char *last = strrchr(out.data, '\n');
    v = strtoll(last ? last + 1 : out.data, NULL, 10);
  }
  sl_buf_free(&out);
  return v;
}

static int fail(const char *what, const sl_error *err) {
  char line[1024];
  fprintf(stderr, "custom_resource: %s: %s\n", what, sl_error_format(err, line, sizeof line));
  return 1;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "custom_resource_run";
  sl_rm_rf(dir, NULL);
  if (sl_mkdir_p(dir, NULL) != SL_OK) return 1;
  char pipelines[4096];
  snprintf(pipelines, sizeof pipelines, "%s/pipelines", dir);

  /* A pipeline from options in code: no sluice.toml needed. */
  sl_pipeline_options o;
  memset(&o, 0, sizeof o);
  o.project_dir = dir;
  o.name = "shop";
  o.pipelines_dir = pipelines;
  o.home_dir = "";
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = sl_pipeline_open(&o, &err);
  if (!p) return fail("open", &err);

  int n = 500;
  sl_resource_def def;
  sl_resource_def_init(&def);
  def.name = "orders";
  def.fn = orders;
  def.ud = &n;
  def.primary_key = (const char *[]){"id", NULL};
  def.write_disposition = SL_WD_MERGE;
  if (sl_pipeline_add_resource(p, &def, &err)) return fail("add orders", &err);

  /* A declarative resource next to it. */
  char path[4096];
  snprintf(path, sizeof path, "%s/customers.json", dir);
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fputs("{\"data\": [{\"id\": \"c0\", \"name\": \"Ada\"}, {\"id\": \"c1\", \"name\": \"Grace\"}]}", f);
  fclose(f);
  const char *yaml = "resources:\n"
                     "  - name: customers\n"
                     "    write_disposition: replace\n"
                     "    file: {path: customers.json, data_selector: data}\n";
  if (sl_pipeline_add_source_yaml(p, yaml, strlen(yaml), "inline", &err))
    return fail("add customers", &err);

  for (int run = 0; run < 2; run++) {
    if (sl_pipeline_run(p, NULL, &err)) return fail("run", &err);
    const sl_load_info *li = sl_pipeline_last_load(p);
    printf("run %d: load %s:", run + 1, li->new_load_id ? li->new_load_id : "-");
    for (size_t i = 0; i < li->ntables; i++)
      printf(" %s=%llu", li->tables[i].table, (unsigned long long)li->tables[i].rows);
    printf("\n");
  }
  long long orders_n = count(p, "SELECT count(*) FROM orders");
  long long lines_n = count(p, "SELECT count(*) FROM orders__lines");
  long long customers_n = count(p, "SELECT count(*) FROM customers");
  long long max_id = count(p, "SELECT max(id) FROM orders");
  sl_pipeline_close(p);
  printf("orders=%lld orders__lines=%lld customers=%lld max_id=%lld\n", orders_n, lines_n,
         customers_n, max_id);
  if (orders_n != 1000 || lines_n != 2000 || customers_n != 2 || max_id != 1000) {
    fprintf(stderr, "custom_resource: unexpected row counts\n");
    return 1;
  }
  sl_rm_rf(dir, NULL);
  puts("ok");
  return 0;
}

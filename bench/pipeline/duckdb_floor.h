/* DuckDB alone storing bench_pipeline's tables: see duckdb_floor.c. */
#ifndef BENCH_DUCKDB_FLOOR_H
#define BENCH_DUCKDB_FLOOR_H

#include <stdint.h>

typedef struct floor_result {
  long peak_kb;         /* ru_maxrss of the process that inserted */
  long start_kb;        /* VmRSS before DuckDB opened */
  long open_kb;         /* VmRSS once DuckDB was open, before any table */
  long anon_kb, file_kb; /* RssAnon / RssFile after the inserts, before close */
  long memory_limit_mb; /* what it ran with: sluice's load rule */
  uint64_t rows;
  int tables;
} floor_result;

/* Prints the plan of the tables in DB's schema DATASET on stdout. 0 or -1. */
int floor_describe(const char *db_path, const char *dataset);
/* Creates and fills the plan's tables in a new file DB; memory_limit_mb 0:
 * sluice's load rule. 0 or -1. */
int floor_insert(const char *plan_path, const char *db_path, long row_group_size, uint64_t memory_limit_mb,
                 floor_result *out);

#endif

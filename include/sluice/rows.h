/* sluice/rows.h — normalized rows as they pass from the normalizer to a sink
 * (a job file writer, or a test that collects them), and the job file format
 * they are stored in between the normalize and load stages.
 *
 * Memory rule: a row handed to a sink (its values and their bytes) is valid
 * only during the sink call; the sink copies what it keeps. Job writers and
 * readers own their buffers until closed.
 */
#ifndef SLUICE_ROWS_H
#define SLUICE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/schema.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One value of a row, already coerced to its column's type:
 *   TEXT, JSON, DECIMAL, WEI  -> s (UTF-8 text; DECIMAL/WEI as exact number text)
 *   BINARY                    -> s (raw bytes)
 *   BIGINT                    -> i
 *   DOUBLE                    -> d
 *   BOOL                      -> b
 *   TIMESTAMP, TIME           -> i (microseconds; TIMESTAMP since the epoch, UTC)
 *   DATE                      -> i (days since the epoch) */
typedef struct sl_row_value {
  uint32_t col; /* index into the table's columns */
  union {
    int64_t i;
    double d;
    bool b;
    struct {
      const char *p;
      size_t n;
    } s;
  } v;
} sl_row_value;

typedef struct sl_row_sink {
  void *ud;
  /* One row of table t: only the non-null values, any column order. */
  sl_status (*row)(void *ud, const sl_schema *schema, const sl_table *t, const sl_row_value *vals,
                   size_t n, sl_error *err);
} sl_row_sink;

/* ---- job files -------------------------------------------------------------
 * Binary, append-only while written, with a footer written at close that lists
 * the columns used (name and type) and the row count; a file without a valid
 * footer was not completed and is rejected by the reader. Little-endian.
 * Columns are defined in the stream on first use; a trailer holds the footer's
 * offset, the row count and CRC-32s of the rows and of the footer (the layout
 * is described at the top of src/rows/jobfile.c). Writes go through a 256 KiB
 * buffer; close fsyncs the file and its folder.
 *
 * Reader errors: SL_NOT_FOUND when the file is missing at open; SL_IO with
 * "corrupt job file <path> at byte <n>: <what>" and err->file / err->offset
 * set for anything malformed (truncated, no footer, bad checksum, a value out
 * of bounds, a row count that disagrees with the footer). The checksum and
 * the counts are verified when the last row has been read, so a caller sees
 * SL_NOT_FOUND from sl_job_read_row only for a file that is whole.
 */

typedef struct sl_job_writer sl_job_writer;

/* Create path (fails if it exists). The table name and schema are recorded in
 * the footer; column definitions are taken from the table at write time. */
sl_job_writer *sl_job_writer_open(const char *path, const char *table, sl_error *err);
sl_status sl_job_write_row(sl_job_writer *w, const sl_table *t, const sl_row_value *vals, size_t n,
                           sl_error *err);
uint64_t sl_job_writer_rows(const sl_job_writer *w);
uint64_t sl_job_writer_bytes(const sl_job_writer *w);
/* Write the footer, fsync, close. The writer is freed either way. */
sl_status sl_job_writer_close(sl_job_writer *w, sl_error *err);
/* Close without a footer and delete the file. */
void sl_job_writer_discard(sl_job_writer *w);

typedef struct sl_job_column {
  const char *name;
  sl_dtype type;
} sl_job_column;

typedef struct sl_job_reader sl_job_reader;
sl_job_reader *sl_job_reader_open(const char *path, sl_error *err);
const char *sl_job_reader_table(const sl_job_reader *r);
const char *sl_job_reader_path(const sl_job_reader *r); /* as given to open, for messages */
/* Columns used in the file, in first-use order; the row values' col fields
 * index this list (not the schema's table). */
size_t sl_job_reader_columns(const sl_job_reader *r, const sl_job_column **cols);
uint64_t sl_job_reader_row_count(const sl_job_reader *r);
/* Next row: *vals points into the reader's buffer, valid until the next call.
 * Returns SL_OK with *n set, or SL_NOT_FOUND at the end. */
sl_status sl_job_read_row(sl_job_reader *r, const sl_row_value **vals, size_t *n, sl_error *err);
void sl_job_reader_close(sl_job_reader *r);

#ifdef __cplusplus
}
#endif
#endif

/* schema_int.h — what schema.c and schema_io.c share (not a public API). */
#ifndef SLUICE_SCHEMA_INT_H
#define SLUICE_SCHEMA_INT_H

#include "sluice/schema.h"

#define SL__VERSION_TABLE "_dlt_version"
#define SL__LOADS_TABLE "_dlt_loads"
#define SL__STATE_TABLE "_dlt_pipeline_state"
#define SL__ENGINE_VERSION 11 /* dlt 1.x's schema engine version */

sl_schema *sl__schema_alloc(const char *name);
sl_status sl__schema_add_system_table(sl_schema *s, const char *name, sl_error *err);
bool sl__is_system_table_name(const char *name);
sl_table *sl__schema_find_table_n(const sl_schema *s, const char *name, size_t len);
/* The stored layout; with_version adds version, version_hash, previous_hashes
 * (the hash covers everything else). */
sl_value *sl__schema_content_value(const sl_schema *s, sl_doc *doc, bool with_version);

#endif

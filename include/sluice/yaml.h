/* sluice/yaml.h — YAML (through libyaml) into the shared document tree.
 *
 * Memory rule: the returned sl_doc owns everything (see sluice/value.h).
 *
 * Plain scalars are typed by the YAML 1.2 core schema (null, true/false,
 * integers, floats incl. .inf/.nan); quoted scalars are strings. Anchors and
 * aliases are resolved by deep copy, bounded by max_alias_nodes so an alias
 * bomb fails with SL_YAML_ALIAS instead of eating memory. Only the first
 * document of a stream is read. Every value carries its line and column.
 */
#ifndef SLUICE_YAML_H
#define SLUICE_YAML_H

#include <stddef.h>

#include "sluice/status.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_yaml_options {
  size_t max_alias_nodes; /* total nodes created by alias expansion; 0 means 1,000,000 */
  unsigned max_depth;     /* 0 means 512 */
} sl_yaml_options;

sl_doc *sl_yaml_parse(const char *text, size_t len, const char *name,
                      const sl_yaml_options *opts, sl_error *err);
sl_doc *sl_yaml_parse_file(const char *path, const sl_yaml_options *opts, sl_error *err);

/* Write a tree as block-style YAML (for exported schemas and generated sources).
 * Strings are quoted when plain style would change their meaning. */
sl_status sl_yaml_emit(const sl_value *v, sl_buf *out);

#ifdef __cplusplus
}
#endif
#endif

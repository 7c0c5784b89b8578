/* normalize_int.h — the normalizer's state, shared by normalize.c (events,
 * path nodes, API) and normalize_row.c (row ids, coercion, contracts, emit). */
#ifndef SLUICE_NORMALIZE_INT_H
#define SLUICE_NORMALIZE_INT_H

#include "sluice/naming.h"
#include "sluice/normalize.h"

#define NZ_NONE 0xffffffffu

/* What the destinations hold (DLT_COMPAT.md, types): decimal is
 * decimal(38,9) unless a column hint says otherwise, wei decimal(38,0). */
#define NZ_DECIMAL_PRECISION 38
#define NZ_DECIMAL_SCALE 9
#define NZ_WEI_PRECISION 38

/* Kinds of a value as it came from JSON (dlt's Python type of the value). */
typedef enum vkind {
  VK_NULL = 0,
  VK_STR,    /* s/len */
  VK_INT,    /* i */
  VK_DBL,    /* d */
  VK_BOOL,   /* b */
  VK_BIGNUM, /* integer beyond int64 that its type holds (see scalar()): s/len exact text */
  VK_JSON,   /* nested value kept whole: s/len compact JSON */
  VK_COUNT_
} vkind;

/* System columns a table node knows by name. */
enum { SYS_LOAD_ID, SYS_ID, SYS_PARENT_ID, SYS_LIST_IDX, SYS_ROOT_ID, SYS_VALUE, SYS_LIST, SYS_COUNT_ };

/* A path node: a table (root or child), or a field of a row (a key at some
 * flattening depth), or a variant column of a field. Nodes are interned by
 * (parent node, raw key) so each distinct path is normalized once. */
enum { NODE_TABLE = 1, NODE_FIELD, NODE_VARIANT };

typedef struct nz_node {
  /* hot: touched for every key and value (the first cache line) */
  uint32_t parent;    /* key identity: parent node id (NZ_NONE - 1 for root tables) */
  uint32_t keylen;
  const char *key;    /* raw key bytes */
  uint32_t next_key;  /* FIELD: the key that followed this one last time (a guess that
                         saves hashing: records of one resource repeat their key order) */
  uint32_t first_key; /* TABLE or FIELD holding a dict: the key that came first last time */
  uint32_t canon;     /* FIELD/VARIANT: first node of this table node with the same name */
  int32_t col;        /* cached column index in the table, -1 unknown */
  uint32_t tnode;     /* FIELD/VARIANT: the table node the column lives in (TABLE: itself) */
  uint32_t col_checked; /* table ncolumns when col was last looked up */
  uint32_t seen_in;   /* FIELD: the dict instance (nz_frame.dict) that last had this key */
  uint8_t type;
  uint8_t sysk;       /* FIELD: 1 + SYS_* when the key is a system column's name */
  bool null_struct;   /* FIELD: a null here names a child table / flattened prefix */
  uint64_t hash;
  /* cold */
  const char *name;   /* FIELD/VARIANT: column name; TABLE: table name (shortened) */
  uint32_t name_len;
  uint32_t path_len;
  const char *path;   /* FIELD: unshortened flattened path in the row; TABLE: full path */
  uint32_t list_tnode;  /* FIELD: table node of a list under this key, NZ_NONE until needed */
  uint32_t var[VK_COUNT_]; /* FIELD: variant nodes by value kind, NZ_NONE until needed */
  /* TABLE only */
  sl_table *table;      /* NULL until the table exists in the schema */
  uint32_t tables_checked;
  uint32_t sys[SYS_COUNT_]; /* field nodes of system columns, NZ_NONE until needed */
  uint32_t parent_tnode;    /* parent table node (NZ_NONE for a root) */
  int32_t counter;          /* index in the per-table row counters, -1 none */
} nz_node;

/* One value of a row being built. */
typedef struct nz_val {
  uint32_t node;
  uint32_t next; /* next value of the same row, NZ_NONE at the end */
  uint8_t kind;
  bool b;
  bool num; /* VK_STR: the text of a JSON integer too long for decimal or wei */
  uint32_t len;
  union {
    int64_t i;
    double d;
  } n;
  const char *s;
} nz_val;

enum { ROW_ROOT = 1, ROW_DICT, ROW_SCALAR, ROW_LISTLIST };

typedef struct nz_row {
  uint32_t tnode;
  uint32_t parent; /* parent row, NZ_NONE for the root */
  int64_t idx;     /* position in the parent's list */
  uint32_t first, last;
  uint32_t list;   /* the list instance it is an item of, NZ_NONE for the root */
  uint32_t lists;  /* first list instance under this row (linked by nz_list.next) */
  uint8_t kind;
  bool dropped;
  bool has_sys;    /* the data has a key named like a system column */
  uint32_t stamp;  /* dedupe generation of this row's values (see stamp) */
  char id[SL_DLT_ID_SIZE + 1];
  const char *idp; /* the row's id: id, or a _dlt_id the data gave */
} nz_row;

typedef struct nz_list {
  uint32_t tnode;
  uint32_t field; /* the field node holding the list */
  uint32_t next; /* next list of the same parent row */
  bool superseded; /* a later key with the same table name replaced it (dict semantics) */
} nz_list;

enum { F_ROW = 1, F_FLAT, F_LIST };

typedef struct nz_frame {
  uint8_t kind;
  uint32_t row;      /* ROW/FLAT: the row; LIST: the parent row */
  uint32_t node;     /* ROW: table node; FLAT: field node of the dict; LIST: child table node */
  int32_t klvl;      /* ROW/FLAT: nesting level of this dict's values (<= 0: keep as json) */
  int32_t row_lvl;   /* ROW/FLAT: the row's level; LIST: level of its item rows */
  uint32_t key_node; /* ROW/FLAT: field node of the last key */
  uint32_t dict;     /* ROW/FLAT: this dict instance's number (n->dict_seq) */
  bool dup;          /* ROW/FLAT: the last key came before in this dict */
  int64_t next_idx;  /* LIST */
  uint32_t list;     /* LIST: list instance */
} nz_frame;

typedef struct nz_counter {
  const sl_table *table;
  uint64_t rows;
} nz_counter;

/* A new column a row asks for (checked against the contract, then added). */
typedef struct nz_newcol {
  const char *name;
  uint32_t name_len;
  sl_dtype type;
  bool variant;
  bool null_first;  /* an incomplete column from a null */
  int32_t complete; /* index of the incomplete column this completes, or -1 */
  uint32_t node;    /* node whose cached index to update */
  uint32_t value;   /* index in the row's value array, NZ_NONE for null-first */
  bool dropped;
} nz_newcol;

struct sl_normalizer {
  sl_schema *schema;
  char *load_id;
  size_t load_id_len;
  sl_row_sink sink;
  sl_json_parser *parser;
  sl_json_parser *validator; /* for text coerced into json columns */
  sl_error *feed_err;
  sl_status st; /* sticky error */
  sl_error err; /* where callbacks leave their error */
  sl_normalize_stats stats;
  sl_id_mode id_mode;
  uint64_t seq_id;
  bool in_resource;

  /* the resource */
  uint32_t root_tnode;
  int max_nesting;
  bool propagate_root_id;
  bool upsert;
  char **pk; /* normalized primary key names, NULL-terminated */
  size_t npk;

  /* path nodes (persist across records; flushed when too many) */
  nz_node *nodes;
  uint32_t nnodes, capnodes;
  uint32_t *ht; /* node ids by (parent, key) */
  uint32_t htcap;
  uint32_t *canon_ht; /* canon nodes by (table node, name) */
  uint32_t canon_htcap, ncanon;
  sl_arena names;
  sl_buf tmp, tmp2, path_buf;

  /* the record being built */
  sl_arena rec;
  char *bump;
  size_t bump_left;
  nz_frame *frames;
  uint32_t nframes, capframes;
  uint32_t dict_seq; /* numbers dict instances, so a repeated key is seen */
  nz_row *rows;
  uint32_t nrows, caprows;
  nz_val *vals;
  uint32_t nvals, capvals;
  nz_list *lists;
  uint32_t nlists, caplists;
  bool in_record;
  /* a nested value kept whole as JSON text */
  uint32_t cap_depth; /* > 0 while capturing */
  uint32_t cap_row, cap_node;
  sl_buf cap;

  /* emitting a row */
  uint32_t *stamp, *slot; /* by canon node: which row last used it, and where */
  uint32_t stamp_cap, stamp_seq;
  const nz_val **pv; /* the row's values, deduplicated, in dlt's order */
  uint32_t npv, cappv;
  bool dedupe;        /* pv needs deduplicating (the data named a system column) */
  nz_val sysv[SYS_COUNT_];
  uint32_t nsysv;
  sl_row_value *out;
  uint32_t capout;
  int32_t *target; /* per pv: column index or -(newcol index + 2), or -1 none */
  nz_newcol *newcols;
  uint32_t nnew, capnew;

  nz_counter *counters;
  size_t ncounters, capcounters;
};

/* normalize.c */
uint32_t sl__nz_field(sl_normalizer *n, uint32_t parent, const char *key, size_t len);
uint32_t sl__nz_sys(sl_normalizer *n, uint32_t tnode, int which);
uint32_t sl__nz_variant(sl_normalizer *n, uint32_t field, vkind kind);
sl_table *sl__nz_table(sl_normalizer *n, uint32_t tnode);
int32_t sl__nz_col(sl_normalizer *n, uint32_t node);
char *sl__nz_bump(sl_normalizer *n, size_t len);
sl_status sl__nz_fail(sl_normalizer *n, sl_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* normalize_row.c */
sl_status sl__nz_finish_record(sl_normalizer *n);
const char *sl__nz_kind_type_name(vkind k);
size_t sl__py_float_repr(double d, char *out, size_t size);

#endif

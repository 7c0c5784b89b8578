/* The OpenAPI reader: the shared specs load, $ref pointers and cycles,
 * allOf/oneOf/anyOf merging, and broken specs fail with where and why. */
#include <string.h>

#include "sluice/openapi.h"
#include "test.h"

static sl_openapi *parse(const char *text, sl_error *err) {
  return sl_openapi_parse(text, strlen(text), "spec.yaml", err);
}

static char shared_path[1024];
static const char *shared(const char *name) {
  snprintf(shared_path, sizeof shared_path, "%s/specs/%s", SL_SHARED_DIR, name);
  return shared_path;
}

TEST(pinterest_523_loads) {
  sl_error err;
  sl_openapi *s = sl_openapi_load(shared("pinterest-5.23.yaml"), &err);
  CHECK_MSG(s, "load failed: %s", err.msg);
  CHECK_STR(sl_openapi_version(s), "3.0.3");
  const sl_openapi_op *ops;
  CHECK_INT(sl_openapi_operations(s, "get", &ops), 125);
  CHECK_STR(ops[0].path, "/ad_accounts");
  /* the pins list: {items: [Pin], bookmark} after allOf with Paginated */
  const sl_openapi_op *pins = NULL;
  size_t n = sl_openapi_operations(s, "get", &ops);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(ops[i].path, "/pins")) pins = &ops[i];
  CHECK(pins);
  const sl_value *resp = sl_openapi_response_schema(s, pins);
  CHECK_STR(sl_openapi_schema_type(resp), "object");
  const sl_value *items = sl_openapi_schema(s, sl_v_path(resp, "properties.items"));
  CHECK_STR(sl_openapi_schema_type(items), "array");
  const sl_value *pin = sl_openapi_schema(s, sl_v_get(items, "items"));
  CHECK(sl_v_path(pin, "properties.id"));
  CHECK(sl_v_path(pin, "properties.board_id"));
  CHECK(sl_v_path(resp, "properties.bookmark"));
  /* parameters come through $ref to components/parameters */
  const sl_value **params;
  size_t np = sl_openapi_params(s, pins, &params);
  bool has_bookmark = false;
  for (size_t i = 0; i < np; i++)
    if (!strcmp(sl_v_str(sl_v_get(params[i], "name"), ""), "bookmark")) has_bookmark = true;
  CHECK(has_bookmark);
  sl_openapi_free(s);
}

TEST(pinterest_513_and_pokeapi_load) {
  sl_error err;
  sl_openapi *s = sl_openapi_load(shared("pinterest-5.13.yaml"), &err);
  CHECK_MSG(s, "load failed: %s", err.msg);
  const sl_openapi_op *ops;
  CHECK_INT(sl_openapi_operations(s, "get", &ops), 109);
  sl_openapi_free(s);
  s = sl_openapi_load(shared("pokeapi.yml"), &err);
  CHECK_MSG(s, "load failed: %s", err.msg);
  CHECK_STR(sl_openapi_version(s), "3.0.0");
  CHECK_INT(sl_openapi_operations(s, "get", &ops), 2);
  sl_openapi_free(s);
}

TEST(json_pointer_escapes) {
  sl_error err;
  sl_openapi *s = parse("openapi: 3.1.0\n"
                        "paths: {}\n"
                        "components:\n"
                        "  schemas:\n"
                        "    a/b: {type: string}\n"
                        "    c~d: {type: integer}\n"
                        "    e f: {type: boolean}\n"
                        "    list: [{type: 'null'}, {type: number}]\n"
                        "    r1: {$ref: '#/components/schemas/a~1b'}\n"
                        "    r2: {$ref: '#/components/schemas/r1'}\n",
                        &err);
  CHECK_MSG(s, "%s", err.msg);
  CHECK_STR(sl_v_str(sl_v_get(sl_openapi_pointer(s, "#/components/schemas/a~1b"), "type"), ""),
            "string");
  CHECK_STR(sl_v_str(sl_v_get(sl_openapi_pointer(s, "#/components/schemas/c~0d"), "type"), ""),
            "integer");
  CHECK_STR(sl_v_str(sl_v_get(sl_openapi_pointer(s, "#/components/schemas/e%20f"), "type"), ""),
            "boolean");
  CHECK_STR(sl_v_str(sl_v_get(sl_openapi_pointer(s, "#/components/schemas/list/1"), "type"), ""),
            "number");
  CHECK(!sl_openapi_pointer(s, "#/components/schemas/list/01"));
  CHECK(!sl_openapi_pointer(s, "#/components/schemas/c~2d"));
  CHECK(!sl_openapi_pointer(s, "#/nope"));
  /* a chain of two $refs ends at the value */
  const sl_value *r2 = sl_openapi_pointer(s, "#/components/schemas/r2");
  CHECK_STR(sl_v_str(sl_v_get(sl_openapi_deref(s, r2), "type"), ""), "string");
  sl_openapi_free(s);
}

TEST(ref_cycle_of_refs_fails_with_position) {
  sl_error err;
  sl_openapi *s = parse("openapi: 3.0.3\n"
                        "paths: {}\n"
                        "components:\n"
                        "  schemas:\n"
                        "    A: {$ref: '#/components/schemas/B'}\n"
                        "    B: {$ref: '#/components/schemas/A'}\n",
                        &err);
  CHECK(!s);
  CHECK_INT(err.code, SL_SOURCE);
  CHECK_CONTAINS(err.msg, "cycle");
  CHECK_STR(err.file, "spec.yaml");
  CHECK_INT(err.line, 5);
  CHECK(err.col > 0);
}

TEST(recursive_schemas_are_fine) {
  sl_error err;
  /* a tree node whose children are nodes, and an allOf that includes itself */
  sl_openapi *s = parse("openapi: 3.0.3\n"
                        "paths:\n"
                        "  /nodes:\n"
                        "    get:\n"
                        "      responses:\n"
                        "        '200':\n"
                        "          content:\n"
                        "            application/json:\n"
                        "              schema: {$ref: '#/components/schemas/Page'}\n"
                        "components:\n"
                        "  schemas:\n"
                        "    Node:\n"
                        "      type: object\n"
                        "      properties:\n"
                        "        id: {type: string}\n"
                        "        children: {type: array, items: {$ref: '#/components/schemas/Node'}}\n"
                        "    Loop:\n"
                        "      allOf:\n"
                        "        - {$ref: '#/components/schemas/Loop'}\n"
                        "        - {properties: {x: {type: string}}}\n"
                        "    Page:\n"
                        "      allOf:\n"
                        "        - {$ref: '#/components/schemas/Loop'}\n"
                        "        - properties:\n"
                        "            data: {type: array, items: {$ref: '#/components/schemas/Node'}}\n",
                        &err);
  CHECK_MSG(s, "%s", err.msg);
  const sl_openapi_op *ops;
  CHECK_INT(sl_openapi_operations(s, "get", &ops), 1);
  const sl_value *resp = sl_openapi_response_schema(s, &ops[0]);
  CHECK(resp);
  CHECK(sl_v_path(resp, "properties.data"));
  CHECK(sl_v_path(resp, "properties.x"));
  const sl_value *node =
      sl_openapi_schema(s, sl_v_get(sl_openapi_schema(s, sl_v_path(resp, "properties.data")), "items"));
  CHECK(sl_v_path(node, "properties.children"));
  sl_openapi_free(s);
}

TEST(all_of_one_of_any_of_merge) {
  sl_error err;
  sl_openapi *s = parse("openapi: 3.0.3\n"
                        "paths: {}\n"
                        "components:\n"
                        "  schemas:\n"
                        "    Base: {type: object, required: [id], properties: {id: {type: string}, "
                        "name: {type: string}}}\n"
                        "    Ext:\n"
                        "      allOf:\n"
                        "        - $ref: '#/components/schemas/Base'\n"
                        "        - type: object\n"
                        "          required: [kind]\n"
                        "          properties:\n"
                        "            name: {type: integer}\n"
                        "            kind: {type: string}\n"
                        "    Either:\n"
                        "      oneOf:\n"
                        "        - {properties: {a: {type: string}}}\n"
                        "        - {properties: {a: {type: integer}, b: {type: string}}}\n"
                        "      anyOf:\n"
                        "        - {properties: {c: {type: boolean}}}\n"
                        "    Env:\n"
                        "      type: object\n"
                        "      properties:\n"
                        "        items:\n"
                        "          items: {$ref: '#/components/schemas/Base'}\n",
                        &err);
  CHECK_MSG(s, "%s", err.msg);
  const sl_value *ext = sl_openapi_schema(s, sl_openapi_pointer(s, "#/components/schemas/Ext"));
  CHECK_STR(sl_openapi_schema_type(ext), "object");
  CHECK_STR(sl_v_str(sl_v_path(ext, "properties.id.type"), ""), "string");
  CHECK_STR(sl_v_str(sl_v_path(ext, "properties.name.type"), ""), "integer"); /* later allOf wins */
  CHECK(sl_v_path(ext, "properties.kind"));
  CHECK_INT(sl_v_len(sl_v_get(ext, "required")), 2);
  const sl_value *either = sl_openapi_schema(s, sl_openapi_pointer(s, "#/components/schemas/Either"));
  CHECK_STR(sl_v_str(sl_v_path(either, "properties.a.type"), ""), "string"); /* first wins */
  CHECK(sl_v_path(either, "properties.b"));
  CHECK(sl_v_path(either, "properties.c"));
  CHECK(!sl_v_get(either, "required"));
  /* an `items` property without `type: array` is still an array */
  const sl_value *env = sl_openapi_schema(s, sl_openapi_pointer(s, "#/components/schemas/Env"));
  CHECK_STR(sl_openapi_schema_type(sl_openapi_schema(s, sl_v_path(env, "properties.items"))),
            "array");
  sl_openapi_free(s);
}

TEST(openapi_31_type_lists) {
  sl_error err;
  sl_openapi *s = parse("{\"openapi\": \"3.1.0\", \"paths\": {}, \"components\": {\"schemas\": "
                        "{\"S\": {\"type\": [\"null\", \"string\"]}}}}",
                        &err);
  CHECK_MSG(s, "%s", err.msg);
  CHECK_STR(sl_openapi_schema_type(sl_openapi_pointer(s, "#/components/schemas/S")), "string");
  sl_openapi_free(s);
}

TEST(broken_specs_say_where_and_why) {
  sl_error err;
  CHECK(!parse("openapi: 3.0.3\npaths:\n  /a:\n    get: {responses: {'200': {$ref: "
               "'#/components/responses/Missing'}}}\n",
               &err));
  CHECK_INT(err.code, SL_SOURCE);
  CHECK_CONTAINS(err.msg, "#/components/responses/Missing");
  CHECK_CONTAINS(err.msg, "does not resolve");
  CHECK_INT(err.line, 4);
  CHECK(err.col > 20);

  CHECK(!parse("openapi: 3.0.3\npaths:\n  /a: {get: {responses: {}}\n  bad: [\n", &err));
  CHECK_INT(err.code, SL_YAML_SYNTAX);
  CHECK(err.line >= 3);

  CHECK(!parse("{\"openapi\": \"3.0.3\", \"paths\": {\"/a\": }}", &err));
  CHECK_INT(err.code, SL_JSON_SYNTAX);
  CHECK_INT(err.line, 1);

  CHECK(!parse("swagger: '2.0'\npaths: {}\n", &err));
  CHECK_CONTAINS(err.msg, "Swagger 2.0");
  CHECK_INT(err.line, 1);

  CHECK(!parse("openapi: 4.0.0\npaths: {}\n", &err));
  CHECK_CONTAINS(err.msg, "unsupported OpenAPI version '4.0.0'");

  CHECK(!parse("info: {title: x}\npaths: {}\n", &err));
  CHECK_CONTAINS(err.msg, "no 'openapi'");

  CHECK(!parse("openapi: 3.0.3\npaths: []\n", &err));
  CHECK_CONTAINS(err.msg, "'paths' must be a mapping");
  CHECK_INT(err.line, 2);

  CHECK(!parse("openapi: 3.0.3\npaths:\n  nopath: {}\n", &err));
  CHECK_CONTAINS(err.msg, "must start with '/'");

  CHECK(!parse("openapi: 3.0.3\npaths: {}\nx: {$ref: 'other.yaml#/a'}\n", &err));
  CHECK_CONTAINS(err.msg, "points outside this file");
  CHECK_INT(err.line, 3);

  CHECK(!parse("- just\n- a list\n", &err));
  CHECK_CONTAINS(err.msg, "top level must be a mapping");

  CHECK(!sl_openapi_load("/nonexistent/spec.yaml", &err));
  CHECK_INT(err.code, SL_NOT_FOUND);
  CHECK_STR(err.file, "/nonexistent/spec.yaml");

  CHECK(!sl_openapi_load("http://127.0.0.1:1/openapi.json", &err));
  CHECK_INT(err.code, SL_HTTP);
  CHECK_CONTAINS(err.url, "127.0.0.1:1/openapi.json");
}

TEST_MAIN()

/* A deterministic generator of one large, nested, API-like JSON document for
 * the parser benchmark: {"data": [record, ...], "page": {...}} where each
 * record has ids, timestamps, text with escapes and unicode (raw and \u),
 * nested objects three levels deep, arrays of objects and of scalars, ints,
 * floats, booleans and nulls. Same seed, same bytes. */
#include "json_gen.h"

#include <stdio.h>
#include <string.h>

static uint64_t next(json_gen *g) {
  /* xorshift64* */
  g->state ^= g->state >> 12;
  g->state ^= g->state << 25;
  g->state ^= g->state >> 27;
  return g->state * 0x2545F4914F6CDD1Dull;
}

static uint32_t pick(json_gen *g, uint32_t n) { return (uint32_t)(next(g) % n); }

static const char *const words[] = {
    "summer", "recipe", "garden", "kitchen", "travel", "vintage", "minimal", "cozy",
    "autumn", "design", "ideas", "modern", "rustic", "quick", "healthy", "outfit",
    "wedding", "DIY", "home", "decor", "caf\xc3\xa9", "cr\xc3\xa8me", "na\xc3\xafve",
    "\xe4\xb8\xad\xe6\x96\x87", "\xe3\x83\xac\xe3\x82\xb7\xe3\x83\x94", "\xf0\x9f\x8c\xbb",
    "\xf0\x9f\x8d\xb0", "Stra\xc3\x9f" "e", "\\\"best\\\"", "tips\\n", "50%", "&",
    "\\u00e9t\\u00e9", "\\ud83d\\ude00", "path\\/to"};
#define NWORDS (sizeof words / sizeof words[0])

static void text(json_gen *g, sl_buf *b, uint32_t min_words, uint32_t max_words) {
  uint32_t n = min_words + pick(g, max_words - min_words + 1);
  sl_buf_putc(b, '"');
  for (uint32_t i = 0; i < n; i++) {
    if (i) sl_buf_putc(b, ' ');
    /* plain ASCII words are most common, as in real text */
    sl_buf_puts(b, words[pick(g, 4) ? pick(g, 20) : pick(g, NWORDS)]);
  }
  sl_buf_putc(b, '"');
}

static void timestamp(json_gen *g, sl_buf *b) {
  sl_buf_printf(b, "\"20%02u-%02u-%02uT%02u:%02u:%02uZ\"", 18 + pick(g, 7), 1 + pick(g, 12),
                1 + pick(g, 28), pick(g, 24), pick(g, 60), pick(g, 60));
}

static void image(json_gen *g, sl_buf *b, unsigned w, unsigned h) {
  sl_buf_printf(b,
                "{\"width\":%u,\"height\":%u,\"url\":\"https://i.example.com/%ux%u/%02x/%02x/"
                "%016llx.jpg\"}",
                w, h, w, h, pick(g, 256), pick(g, 256), (unsigned long long)next(g));
}

static void metrics(json_gen *g, sl_buf *b) {
  sl_buf_printf(b,
                "{\"impression\":%u,\"save\":%u,\"pin_click\":%u,\"outbound_click\":%u,"
                "\"video_views\":%s,\"engagement_rate\":%u.%04u}",
                pick(g, 1000000), pick(g, 5000), pick(g, 20000), pick(g, 3000),
                pick(g, 3) ? "null" : "0", pick(g, 2), pick(g, 10000));
}

static void record(json_gen *g, sl_buf *b) {
  uint64_t id = g->next_id++;
  sl_buf_printf(b, "{\"id\":\"%llu\",\"created_at\":",
                (unsigned long long)(549755813888ull + id * 7919));
  timestamp(g, b);
  sl_buf_puts(b, ",\"title\":");
  text(g, b, 2, 8);
  sl_buf_puts(b, ",\"description\":");
  text(g, b, 5, 40);
  sl_buf_printf(b, ",\"link\":\"https://www.example.com/p/%llu?utm_source=api&ref=%u\"",
                (unsigned long long)id, pick(g, 100000));
  sl_buf_printf(b, ",\"board_id\":\"%llu\",\"board_owner\":{\"username\":\"user_%u\",\"id\":%u}",
                (unsigned long long)(100000000000ull + pick(g, 1000000)), pick(g, 100000),
                pick(g, 100000000));
  sl_buf_puts(b, ",\"media\":{\"media_type\":\"image\",\"images\":{\"150x150\":");
  image(g, b, 150, 150);
  sl_buf_puts(b, ",\"400x300\":");
  image(g, b, 400, 300);
  sl_buf_puts(b, ",\"600x\":");
  image(g, b, 600, 400 + pick(g, 800));
  sl_buf_puts(b, "}}");
  sl_buf_printf(b, ",\"is_owner\":%s,\"is_standard\":%s,\"has_been_promoted\":%s",
                pick(g, 2) ? "true" : "false", pick(g, 5) ? "true" : "false",
                pick(g, 10) ? "false" : "true");
  sl_buf_puts(b, ",\"note\":");
  if (pick(g, 3)) sl_buf_puts(b, "null");
  else text(g, b, 1, 6);
  sl_buf_printf(b, ",\"dominant_color\":\"#%06x\"", pick(g, 0x1000000));
  sl_buf_puts(b, ",\"alt_text\":null,\"pin_metrics\":{\"90d\":");
  metrics(g, b);
  sl_buf_puts(b, ",\"lifetime\":");
  metrics(g, b);
  sl_buf_puts(b, "}");
  sl_buf_printf(b, ",\"score\":%u.%06u,\"price\":%u.%02u,\"rating\":%u.%ue%d", pick(g, 100),
                pick(g, 1000000), pick(g, 500), pick(g, 100), 1 + pick(g, 9), pick(g, 10),
                (int)pick(g, 7) - 3);
  sl_buf_puts(b, ",\"tags\":[");
  for (uint32_t i = 0, n = pick(g, 6); i < n; i++) {
    if (i) sl_buf_putc(b, ',');
    text(g, b, 1, 2);
  }
  sl_buf_puts(b, "],\"product_tags\":[");
  for (uint32_t i = 0, n = pick(g, 4); i < n; i++) {
    if (i) sl_buf_putc(b, ',');
    sl_buf_printf(b, "{\"product_id\":%llu,\"offset\":[%u.%03u,%u.%03u],\"in_stock\":%s}",
                  (unsigned long long)(next(g) >> 12), pick(g, 1), pick(g, 1000), pick(g, 1),
                  pick(g, 1000), pick(g, 2) ? "true" : "false");
  }
  sl_buf_printf(b, "],\"position\":%u,\"signed\":%d}", pick(g, 1000), (int)pick(g, 2001) - 1000);
}

void json_gen_init(json_gen *g, uint64_t seed) {
  g->state = seed ? seed : 0x9E3779B97F4A7C15ull;
  g->next_id = 1;
}

sl_status json_gen_document(json_gen *g, size_t target, sl_buf *out) {
  sl_status st = sl_buf_reserve(out, target + 4096);
  if (st) return st;
  sl_buf_puts(out, "{\"data\":[\n");
  bool first = true;
  while (out->len < target) {
    if (!first) sl_buf_puts(out, ",\n");
    first = false;
    record(g, out);
  }
  sl_buf_printf(out, "\n],\"page\":{\"bookmark\":\"%016llx\",\"size\":%llu,\"has_more\":false}}\n",
                (unsigned long long)next(g), (unsigned long long)(g->next_id - 1));
  return SL_OK;
}

/* The pins dataset generator (see pins_gen.h). */
#include "pins_gen.h"

#include <inttypes.h>
#include <string.h>

static uint64_t rnd(pins_gen *g) { /* xorshift64* */
  uint64_t x = g->state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  g->state = x;
  return x * 0x2545F4914F6CDD1DULL;
}
static uint32_t below(pins_gen *g, uint32_t n) { return (uint32_t)(rnd(g) % n); }

void pins_gen_init(pins_gen *g, uint64_t seed) {
  g->state = seed ? seed : 0x9E3779B97F4A7C15ULL;
  g->next_id = 1000000000000000ULL;
}

static const char *const words[] = {
    "summer", "recipe", "garden", "travel", "Ideen", "décor", "café", "minimal", "vintage",
    "DIY",    "autumn", "rezept", "küche",  "日本",   "旅行",  "🌿",    "cozy",   "outfit",
    "wedding", "kids", "crafts", "\"quoted\"", "back\\slash", "tab\there", "line\nbreak"};
#define NWORDS (sizeof words / sizeof *words)

static void put_text(pins_gen *g, sl_buf *o, int nwords) {
  sl_buf_putc(o, '"');
  for (int i = 0; i < nwords; i++) {
    if (i) sl_buf_putc(o, ' ');
    const char *w = words[below(g, NWORDS)];
    for (const char *p = w; *p; p++) {
      if (*p == '"' || *p == '\\') {
        sl_buf_putc(o, '\\');
        sl_buf_putc(o, *p);
      } else if (*p == '\n') {
        sl_buf_puts(o, "\\n");
      } else if (*p == '\t') {
        sl_buf_puts(o, "\\t");
      } else {
        sl_buf_putc(o, *p);
      }
    }
  }
  sl_buf_putc(o, '"');
}

static void put_ts(pins_gen *g, sl_buf *o) {
  /* 2020-01-01 .. 2026-11-01, whole seconds, as the API sends them. */
  unsigned y = 2020 + below(g, 7), mo = 1 + below(g, 12), d = 1 + below(g, 28);
  unsigned h = below(g, 24), mi = below(g, 60), s = below(g, 60);
  sl_buf_printf(o, "\"%04u-%02u-%02uT%02u:%02u:%02u\"", y, mo, d, h, mi, s);
}

static void put_image(pins_gen *g, sl_buf *o, const char *size, unsigned w, unsigned h, uint64_t id) {
  sl_buf_printf(o, "\"%s\":{\"width\":%u,\"height\":%u,\"url\":\"https://i.pinimg.com/%s/%02x/%02x/%" PRIu64 ".jpg\"}",
                size, w, h, size, (unsigned)(id & 0xff), (unsigned)((id >> 8) & 0xff), id);
}

void pins_gen_record(pins_gen *g, sl_buf *o) {
  uint64_t id = g->next_id++;
  sl_buf_printf(o, "{\"id\":\"%" PRIu64 "\",\"created_at\":", id);
  put_ts(g, o);
  sl_buf_printf(o, ",\"link\":\"https://example.com/p/%" PRIu64 "?ref=pin\"", id % 100000);
  sl_buf_puts(o, ",\"title\":");
  put_text(g, o, 2 + (int)below(g, 4));
  sl_buf_puts(o, ",\"description\":");
  if (below(g, 5) == 0) sl_buf_puts(o, "null");
  else put_text(g, o, 5 + (int)below(g, 15));
  sl_buf_printf(o, ",\"dominant_color\":\"#%06x\"", (unsigned)(rnd(g) & 0xffffff));
  sl_buf_puts(o, ",\"alt_text\":");
  if (below(g, 2)) sl_buf_puts(o, "null");
  else put_text(g, o, 3);
  static const char *const ctypes[] = {"REGULAR", "VIDEO", "SHOPPING", "CAROUSEL", "MAX_VIDEO", "IDEA"};
  sl_buf_printf(o, ",\"creative_type\":\"%s\"", ctypes[below(g, 6)]);
  sl_buf_printf(o, ",\"board_id\":\"%" PRIu64 "\"", (uint64_t)(900000000000000ULL + below(g, 500)));
  if (below(g, 3) == 0) sl_buf_puts(o, ",\"board_section_id\":null");
  else sl_buf_printf(o, ",\"board_section_id\":\"%" PRIu64 "\"", (uint64_t)(800000000000000ULL + below(g, 2000)));
  sl_buf_printf(o, ",\"board_owner\":{\"username\":\"user_%u\"}", below(g, 10000));
  sl_buf_printf(o, ",\"is_owner\":%s,\"is_standard\":%s,\"has_been_promoted\":%s",
                below(g, 2) ? "true" : "false", below(g, 4) ? "true" : "false",
                below(g, 10) ? "false" : "true");
  sl_buf_puts(o, ",\"media\":{\"media_type\":\"image\",\"images\":{");
  put_image(g, o, "150x150", 150, 150, id);
  sl_buf_putc(o, ',');
  put_image(g, o, "400x300", 400, 300, id);
  sl_buf_putc(o, ',');
  put_image(g, o, "600x", 600, 400 + below(g, 800), id);
  sl_buf_putc(o, ',');
  put_image(g, o, "1200x", 1200, 800 + below(g, 1600), id);
  sl_buf_puts(o, "}}");
  if (below(g, 2)) sl_buf_puts(o, ",\"parent_pin_id\":null");
  else sl_buf_printf(o, ",\"parent_pin_id\":\"%" PRIu64 "\"", id - 1 - below(g, 1000));
  sl_buf_puts(o, ",\"note\":");
  put_text(g, o, 1 + (int)below(g, 3));
  sl_buf_printf(o, ",\"pin_metrics\":{\"90d\":{\"pin_click\":%u,\"impression\":%u,\"clickthrough\":%u},"
                   "\"lifetime_metrics\":{\"pin_click\":%u,\"impression\":%u,\"reaction\":%u,\"comment\":%u}}",
                below(g, 100), below(g, 10000), below(g, 50), below(g, 1000), below(g, 100000),
                below(g, 500), below(g, 100));
  sl_buf_printf(o, ",\"save_rate\":%.4f,\"score\":%u.%02u", (double)below(g, 10000) / 10000.0,
                below(g, 100), below(g, 100));
  sl_buf_printf(o, ",\"view_count\":%" PRIu64, (uint64_t)below(g, 1000000000));
  sl_buf_puts(o, ",\"updated_at\":");
  put_ts(g, o);
  unsigned ntags = below(g, 4);
  sl_buf_puts(o, ",\"product_tags\":[");
  for (unsigned i = 0; i < ntags; i++) {
    if (i) sl_buf_putc(o, ',');
    sl_buf_printf(o, "{\"product_id\":\"sku-%u\",\"price\":%u.%02u,\"currency\":\"%s\",\"in_stock\":%s,\"label\":",
                  below(g, 100000), below(g, 500), below(g, 100), below(g, 3) ? "USD" : "EUR",
                  below(g, 2) ? "true" : "false");
    put_text(g, o, 2);
    sl_buf_putc(o, '}');
  }
  sl_buf_puts(o, "]}");
}

uint64_t pins_gen_write(pins_gen *g, uint64_t n, FILE *f) {
  sl_buf b = {0};
  uint64_t total = 0;
  for (uint64_t i = 0; i < n; i++) {
    pins_gen_record(g, &b);
    sl_buf_putc(&b, '\n');
    if (b.len > (1u << 20)) {
      fwrite(b.data, 1, b.len, f);
      total += b.len;
      sl_buf_reset(&b);
    }
  }
  if (b.len) fwrite(b.data, 1, b.len, f);
  total += b.len;
  sl_buf_free(&b);
  return total;
}

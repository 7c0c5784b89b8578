/* Tests for the one base64 codec (sluice/base64.h): RFC 4648 vectors, padding
 * on and off, lenient and strict (Python's validate=True) decoding, and round
 * trips of random bytes. */
#include <stdlib.h>
#include <string.h>

#include "sluice/base64.h"
#include "test.h"

static const char *enc(const char *s, bool pad, char *out) {
  sl_base64_encode_to(s, strlen(s), pad, out);
  return out;
}

static const char *dec(const char *s, sl_base64_mode mode, char *out) {
  size_t n = 0;
  if (!sl_base64_decode_to(s, strlen(s), mode, out, &n)) return "<invalid>";
  out[n] = '\0';
  return out;
}

TEST(rfc4648_vectors) {
  char o[64];
  const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char *padded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  const char *bare[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  for (int i = 0; i < 7; i++) {
    CHECK_STR(enc(plain[i], true, o), padded[i]);
    CHECK_STR(enc(plain[i], false, o), bare[i]);
    CHECK_INT(sl_base64_encoded_len(strlen(plain[i]), true), strlen(padded[i]));
    CHECK_INT(sl_base64_encoded_len(strlen(plain[i]), false), strlen(bare[i]));
    CHECK_STR(dec(padded[i], SL_BASE64_STRICT, o), plain[i]);
    CHECK_STR(dec(padded[i], SL_BASE64_LENIENT, o), plain[i]);
    CHECK_STR(dec(bare[i], SL_BASE64_LENIENT, o), plain[i]);
  }
}

TEST(strict_rejects_what_python_validate_rejects) {
  char o[64];
  CHECK_STR(dec("Zg", SL_BASE64_STRICT, o), "<invalid>");     /* missing padding */
  CHECK_STR(dec("Zm9=v", SL_BASE64_STRICT, o), "<invalid>");  /* not a multiple of 4 */
  CHECK_STR(dec("Zm=v", SL_BASE64_STRICT, o), "<invalid>");   /* '=' inside */
  CHECK_STR(dec("Z===", SL_BASE64_STRICT, o), "<invalid>");   /* three '=' */
  CHECK_STR(dec("Zm9 v", SL_BASE64_STRICT, o), "<invalid>");
  CHECK_STR(dec("Zm9v!A==", SL_BASE64_STRICT, o), "<invalid>");
  CHECK_STR(dec("Zm9vY", SL_BASE64_LENIENT, o), "<invalid>"); /* 4k+1 characters */
  CHECK_STR(dec("Zm-v", SL_BASE64_LENIENT, o), "<invalid>");  /* url-safe alphabet is not ours */
}

TEST(buffer_forms_and_round_trip) {
  srand(7);
  for (int t = 0; t < 500; t++) {
    unsigned char raw[300];
    size_t n = (size_t)rand() % sizeof raw;
    for (size_t i = 0; i < n; i++) raw[i] = (unsigned char)rand();
    sl_buf e = {0}, d = {0};
    CHECK_OK(sl_base64_encode(raw, n, t % 2 == 0, &e));
    CHECK_INT(e.len, sl_base64_encoded_len(n, t % 2 == 0));
    CHECK(sl_base64_decode(e.data ? e.data : "", e.len, t % 2 == 0 ? SL_BASE64_STRICT : SL_BASE64_LENIENT, &d));
    CHECK_INT(d.len, n);
    CHECK(n == 0 || memcmp(d.data, raw, n) == 0);
    sl_buf_free(&e);
    sl_buf_free(&d);
  }
  sl_buf d = {0};
  CHECK(!sl_base64_decode("@@@@", 4, SL_BASE64_LENIENT, &d));
  CHECK_INT(d.len, 0);
  sl_buf_free(&d);
}

TEST_MAIN()

/* Tests for our Keccak (SHA3-256, SHAKE-128): FIPS 202 example values (empty,
 * "abc", 200 bytes of 0xA3), inputs at every block boundary, chunked updates,
 * long squeezes, and equality with OpenSSL on random inputs. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sha3.h"
#include "test.h"

static void hex(const uint8_t *p, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
}

static void sha3_hex(const void *in, size_t len, char out[65]) {
  uint8_t md[32];
  sl_sha3_256(in, len, md);
  hex(md, 32, out);
}

static void shake_hex(const void *in, size_t len, size_t outn, char *out) {
  uint8_t md[512];
  sl_shake128(in, len, md, outn);
  hex(md, outn, out);
}

static void openssl_digest(const EVP_MD *md, const void *in, size_t len, uint8_t *out, size_t outn) {
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  EVP_DigestInit_ex(c, md, NULL);
  EVP_DigestUpdate(c, in, len);
  if (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF) EVP_DigestFinalXOF(c, out, outn);
  else EVP_DigestFinal_ex(c, out, NULL);
  EVP_MD_CTX_free(c);
}

TEST(fips202_sha3_256) {
  char h[65];
  sha3_hex("", 0, h);
  CHECK_STR(h, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  sha3_hex("abc", 3, h);
  CHECK_STR(h, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  uint8_t a3[200];
  memset(a3, 0xa3, sizeof a3);
  sha3_hex(a3, 200, h); /* the 1600-bit message of NIST's examples */
  CHECK_STR(h, "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787");
  sha3_hex(a3, 135, h); /* padding in the last byte of a block */
  CHECK_STR(h, "d51927265ca4bf0cc8b4453387700918c03f8894e395ad437d4573f3be4d2c34");
  sha3_hex(a3, 136, h); /* exactly one block: padding needs a second */
  CHECK_STR(h, "0adf6bfb359ae40019b67d8c49c361574b70242a6b752de6f9e0d426ca177f7a");
}

TEST(fips202_shake128) {
  char h[1024];
  shake_hex("", 0, 32, h);
  CHECK_STR(h, "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26");
  shake_hex("abc", 3, 32, h);
  CHECK_STR(h, "5881092dd818bf5cf8a3ddb793fbcba74097d5c526a6d35f97b83351940f2cc8");
  uint8_t a3[200];
  memset(a3, 0xa3, sizeof a3);
  shake_hex(a3, 200, 32, h);
  CHECK_STR(h, "131ab8d2b594946b9c81333f9bb6e0ce75c3b93104fa3469d3917457385da037");
  shake_hex(a3, 167, 16, h);
  CHECK_STR(h, "e783d770f81839ef4c1584c25275d851");
  shake_hex(a3, 168, 16, h);
  CHECK_STR(h, "4d24ec06f7d2b3a71ca0a1b0f3ac5ce9");
  /* 400 bytes of output: squeezing crosses two block boundaries */
  shake_hex("abc", 3, 400, h);
  CHECK_STR(h + 800 - 64, "35d6dbb75651b284076f5fde47b4a0586ee173e30bd4d08f2bc59c6114bdd745");
}

TEST(xof_prefix_is_stable) {
  uint8_t a[64], b[10];
  sl_shake128("x_y_1", 5, a, sizeof a);
  sl_shake128("x_y_1", 5, b, sizeof b);
  CHECK(memcmp(a, b, sizeof b) == 0);
}

TEST(chunked_updates_equal_one_shot) {
  uint8_t msg[1000];
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 131 + 7);
  size_t steps[] = {1, 3, 7, 64, 135, 136, 167, 168, 169, 500};
  for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
    sl_keccak k;
    sl_shake128_init(&k);
    for (size_t off = 0; off < sizeof msg; off += steps[s])
      sl_keccak_update(&k, msg + off, sizeof msg - off < steps[s] ? sizeof msg - off : steps[s]);
    uint8_t x[40], y[40];
    /* squeezing in pieces equals squeezing at once */
    sl_shake128_squeeze(&k, x, 13);
    sl_shake128_squeeze(&k, x + 13, 27);
    sl_shake128(msg, sizeof msg, y, sizeof y);
    CHECK_MSG(memcmp(x, y, sizeof x) == 0, "shake128 with steps of %zu", steps[s]);
    sl_sha3_256_init(&k);
    for (size_t off = 0; off < sizeof msg; off += steps[s])
      sl_keccak_update(&k, msg + off, sizeof msg - off < steps[s] ? sizeof msg - off : steps[s]);
    sl_sha3_256_final(&k, x);
    sl_sha3_256(msg, sizeof msg, y);
    CHECK_MSG(memcmp(x, y, 32) == 0, "sha3-256 with steps of %zu", steps[s]);
  }
}

TEST(equals_openssl_on_random_inputs) {
  srand(12345);
  uint8_t msg[700], ours[300], theirs[300];
  int mismatches = 0;
  for (int t = 0; t < 3000; t++) {
    size_t len = t < 700 ? (size_t)t : (size_t)rand() % sizeof msg;
    for (size_t i = 0; i < len; i++) msg[i] = (uint8_t)rand();
    size_t outn = 1 + (size_t)rand() % sizeof ours;
    sl_shake128(msg, len, ours, outn);
    openssl_digest(EVP_shake128(), msg, len, theirs, outn);
    if (memcmp(ours, theirs, outn) != 0) mismatches++;
    sl_sha3_256(msg, len, ours);
    openssl_digest(EVP_sha3_256(), msg, len, theirs, 32);
    if (memcmp(ours, theirs, 32) != 0) mismatches++;
  }
  CHECK_INT(mismatches, 0);
}

TEST_MAIN()

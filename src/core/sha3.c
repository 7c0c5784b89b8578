/* sha3.c — Keccak-f[1600] and the two sponges sluice needs (sluice/sha3.h).
 * The round is written out lane by lane (generated from FIPS 202's step
 * definitions: theta, rho and pi fused into one pass, then chi and iota) so
 * the 25 lanes stay in registers; OpenSSL's EVP path cost 0.5-1.7 us per
 * short digest in context setup alone. */
#include "sluice/sha3.h"

#include <string.h>

#define ROL(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

static const uint64_t RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

/* Lane (x, y) is s[x + 5y]; aXY below names it. */
void sl_keccak_f1600(uint64_t s[25]) {
  uint64_t a00 = s[0], a10 = s[1], a20 = s[2], a30 = s[3], a40 = s[4];
  uint64_t a01 = s[5], a11 = s[6], a21 = s[7], a31 = s[8], a41 = s[9];
  uint64_t a02 = s[10], a12 = s[11], a22 = s[12], a32 = s[13], a42 = s[14];
  uint64_t a03 = s[15], a13 = s[16], a23 = s[17], a33 = s[18], a43 = s[19];
  uint64_t a04 = s[20], a14 = s[21], a24 = s[22], a34 = s[23], a44 = s[24];
  for (int rnd = 0; rnd < 24; rnd++) {
    uint64_t c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04, c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14,
             c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24, c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34,
             c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44;
    uint64_t d0 = c4 ^ ROL(c1, 1), d1 = c0 ^ ROL(c2, 1), d2 = c1 ^ ROL(c3, 1),
             d3 = c2 ^ ROL(c4, 1), d4 = c3 ^ ROL(c0, 1);
    uint64_t b00 = (a00 ^ d0), b10 = ROL((a11 ^ d1), 44), b20 = ROL((a22 ^ d2), 43), b30 = ROL((a33 ^ d3), 21), b40 = ROL((a44 ^ d4), 14);
    uint64_t b01 = ROL((a30 ^ d3), 28), b11 = ROL((a41 ^ d4), 20), b21 = ROL((a02 ^ d0), 3), b31 = ROL((a13 ^ d1), 45), b41 = ROL((a24 ^ d2), 61);
    uint64_t b02 = ROL((a10 ^ d1), 1), b12 = ROL((a21 ^ d2), 6), b22 = ROL((a32 ^ d3), 25), b32 = ROL((a43 ^ d4), 8), b42 = ROL((a04 ^ d0), 18);
    uint64_t b03 = ROL((a40 ^ d4), 27), b13 = ROL((a01 ^ d0), 36), b23 = ROL((a12 ^ d1), 10), b33 = ROL((a23 ^ d2), 15), b43 = ROL((a34 ^ d3), 56);
    uint64_t b04 = ROL((a20 ^ d2), 62), b14 = ROL((a31 ^ d3), 55), b24 = ROL((a42 ^ d4), 39), b34 = ROL((a03 ^ d0), 41), b44 = ROL((a14 ^ d1), 2);
    a00 = b00 ^ (~b10 & b20);
    a10 = b10 ^ (~b20 & b30);
    a20 = b20 ^ (~b30 & b40);
    a30 = b30 ^ (~b40 & b00);
    a40 = b40 ^ (~b00 & b10);
    a01 = b01 ^ (~b11 & b21);
    a11 = b11 ^ (~b21 & b31);
    a21 = b21 ^ (~b31 & b41);
    a31 = b31 ^ (~b41 & b01);
    a41 = b41 ^ (~b01 & b11);
    a02 = b02 ^ (~b12 & b22);
    a12 = b12 ^ (~b22 & b32);
    a22 = b22 ^ (~b32 & b42);
    a32 = b32 ^ (~b42 & b02);
    a42 = b42 ^ (~b02 & b12);
    a03 = b03 ^ (~b13 & b23);
    a13 = b13 ^ (~b23 & b33);
    a23 = b23 ^ (~b33 & b43);
    a33 = b33 ^ (~b43 & b03);
    a43 = b43 ^ (~b03 & b13);
    a04 = b04 ^ (~b14 & b24);
    a14 = b14 ^ (~b24 & b34);
    a24 = b24 ^ (~b34 & b44);
    a34 = b34 ^ (~b44 & b04);
    a44 = b44 ^ (~b04 & b14);
    a00 ^= RC[rnd];
  }
  s[0] = a00, s[1] = a10, s[2] = a20, s[3] = a30, s[4] = a40;
  s[5] = a01, s[6] = a11, s[7] = a21, s[8] = a31, s[9] = a41;
  s[10] = a02, s[11] = a12, s[12] = a22, s[13] = a32, s[14] = a42;
  s[15] = a03, s[16] = a13, s[17] = a23, s[18] = a33, s[19] = a43;
  s[20] = a04, s[21] = a14, s[22] = a24, s[23] = a34, s[24] = a44;
}

/* Byte i of the state, little-endian lanes (no assumption about host order). */
static inline void xor_byte(uint64_t *s, size_t i, uint8_t b) { s[i >> 3] ^= (uint64_t)b << (8 * (i & 7)); }
static inline uint8_t get_byte(const uint64_t *s, size_t i) { return (uint8_t)(s[i >> 3] >> (8 * (i & 7))); }

static inline uint64_t load64(const uint8_t *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void init(sl_keccak *k, size_t rate, uint8_t suffix) {
  memset(k->s, 0, sizeof k->s);
  k->pos = 0;
  k->rate = rate;
  k->suffix = suffix;
  k->squeezing = 0;
}

void sl_sha3_256_init(sl_keccak *k) { init(k, SL_SHA3_256_RATE, 0x06); }
void sl_shake128_init(sl_keccak *k) { init(k, SL_SHAKE128_RATE, 0x1f); }

void sl_keccak_update(sl_keccak *k, const void *in, size_t len) {
  const uint8_t *p = in;
  while (len) {
    if (k->pos == 0 && len >= k->rate) { /* whole blocks, lane at a time */
      for (size_t i = 0; i < k->rate / 8; i++) k->s[i] ^= load64(p + 8 * i);
      sl_keccak_f1600(k->s);
      p += k->rate;
      len -= k->rate;
      continue;
    }
    size_t n = k->rate - k->pos;
    if (n > len) n = len;
    for (size_t i = 0; i < n; i++) xor_byte(k->s, k->pos + i, p[i]);
    k->pos += n;
    p += n;
    len -= n;
    if (k->pos == k->rate) {
      sl_keccak_f1600(k->s);
      k->pos = 0;
    }
  }
}

static void pad_and_switch(sl_keccak *k) {
  xor_byte(k->s, k->pos, k->suffix);
  xor_byte(k->s, k->rate - 1, 0x80);
  sl_keccak_f1600(k->s);
  k->pos = 0;
  k->squeezing = 1;
}

void sl_shake128_squeeze(sl_keccak *k, uint8_t *out, size_t len) {
  if (!k->squeezing) pad_and_switch(k);
  for (size_t i = 0; i < len; i++) {
    if (k->pos == k->rate) {
      sl_keccak_f1600(k->s);
      k->pos = 0;
    }
    out[i] = get_byte(k->s, k->pos++);
  }
}

void sl_sha3_256_final(sl_keccak *k, uint8_t out[32]) {
  pad_and_switch(k);
  for (size_t i = 0; i < 32; i++) out[i] = get_byte(k->s, i);
}

void sl_sha3_256(const void *in, size_t len, uint8_t out[32]) {
  sl_keccak k;
  sl_sha3_256_init(&k);
  sl_keccak_update(&k, in, len);
  sl_sha3_256_final(&k, out);
}

void sl_shake128(const void *in, size_t len, uint8_t *out, size_t out_len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* The row-id case: one block in, a few bytes out; the state's bytes are
   * the block's bytes on a little-endian host. */
  if (len < SL_SHAKE128_RATE && out_len <= SL_SHAKE128_RATE) {
    uint64_t s[25] = {0};
    uint8_t *b = (uint8_t *)s;
    memcpy(b, in, len);
    b[len] ^= 0x1f;
    b[SL_SHAKE128_RATE - 1] ^= 0x80;
    sl_keccak_f1600(s);
    memcpy(out, b, out_len);
    return;
  }
#endif
  sl_keccak k;
  sl_shake128_init(&k);
  sl_keccak_update(&k, in, len);
  sl_shake128_squeeze(&k, out, out_len);
}

/* sluice/sha3.h — SHA3-256 and SHAKE-128 (FIPS 202) on our own Keccak-f[1600].
 * Used where dlt uses them: row ids (_dlt_id of child and upsert rows), the
 * name-shortening tag, the schema's version hash. A short input (one block:
 * < 168 bytes for SHAKE-128) costs one permutation and no allocation.
 *
 * Memory rule: nothing is allocated; a context is a plain value the caller owns.
 */
#ifndef SLUICE_SHA3_H
#define SLUICE_SHA3_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_SHA3_256_RATE 136
#define SL_SHAKE128_RATE 168

typedef struct sl_keccak {
  uint64_t s[25];
  size_t pos;      /* bytes absorbed into the current block / squeezed from it */
  size_t rate;     /* block size in bytes */
  uint8_t suffix;  /* domain bits: 0x06 SHA3, 0x1f SHAKE */
  int squeezing;
} sl_keccak;

/* The permutation itself (24 rounds), on 25 little-endian lanes. */
void sl_keccak_f1600(uint64_t s[25]);

void sl_sha3_256_init(sl_keccak *k);
void sl_shake128_init(sl_keccak *k);
void sl_keccak_update(sl_keccak *k, const void *in, size_t len);
/* SHA3-256: out is 32 bytes. The context is spent afterwards. */
void sl_sha3_256_final(sl_keccak *k, uint8_t out[32]);
/* SHAKE-128: squeeze len bytes; may be called again for more output. */
void sl_shake128_squeeze(sl_keccak *k, uint8_t *out, size_t len);

/* One-shot forms. */
void sl_sha3_256(const void *in, size_t len, uint8_t out[32]);
void sl_shake128(const void *in, size_t len, uint8_t *out, size_t out_len);

#ifdef __cplusplus
}
#endif
#endif

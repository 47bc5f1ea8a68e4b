// Thin view of mbedTLS: hash and HMAC (Crypto), the TLS client with X.509 verification
// (Runtime's TLS connections to TURN servers, `turns:`), and DTLS with use_srtp, ECDSA keys,
// self-signed certificates and a CTR_DRBG fed by the caller's randomness (DTLS). The only code here papers over the
// 2.x (`*_ret`) versus 3.x naming, so Swift sees one API on Debian 12 and later.
#ifndef ICE_CMBEDTLS_SHIM_H
#define ICE_CMBEDTLS_SHIM_H
#include <mbedtls/version.h>
#include <mbedtls/md.h>
#include <mbedtls/md5.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/ecp.h>
#include <mbedtls/bignum.h>
#include <mbedtls/pem.h>
#include <mbedtls/ssl_ciphersuites.h>

#if MBEDTLS_VERSION_MAJOR < 3
static inline int ice_sha1_starts(mbedtls_sha1_context *c) { return mbedtls_sha1_starts_ret(c); }
static inline int ice_sha1_update(mbedtls_sha1_context *c, const unsigned char *p, size_t n) { return mbedtls_sha1_update_ret(c, p, n); }
static inline int ice_sha1_finish(mbedtls_sha1_context *c, unsigned char out[20]) { return mbedtls_sha1_finish_ret(c, out); }
static inline int ice_sha256_starts(mbedtls_sha256_context *c) { return mbedtls_sha256_starts_ret(c, 0); }
static inline int ice_sha256_update(mbedtls_sha256_context *c, const unsigned char *p, size_t n) { return mbedtls_sha256_update_ret(c, p, n); }
static inline int ice_sha256_finish(mbedtls_sha256_context *c, unsigned char out[32]) { return mbedtls_sha256_finish_ret(c, out); }
static inline int ice_md5(const unsigned char *p, size_t n, unsigned char out[16]) { return mbedtls_md5_ret(p, n, out); }
static inline int ice_pk_parse_key(mbedtls_pk_context *k, const unsigned char *p, size_t n,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng) { (void)f_rng; (void)p_rng; return mbedtls_pk_parse_key(k, p, n, NULL, 0); }
static inline int ice_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng) { (void)f_rng; (void)p_rng; return mbedtls_pk_check_pair(pub, prv); }
static inline int ice_pk_sign(mbedtls_pk_context *k, mbedtls_md_type_t md, const unsigned char *hash, size_t hash_len,
    unsigned char *sig, size_t sig_size, size_t *sig_len, int (*f_rng)(void *, unsigned char *, size_t), void *p_rng) {
    (void)sig_size; return mbedtls_pk_sign(k, md, hash, hash_len, sig, sig_len, f_rng, p_rng); }
#else
static inline int ice_sha1_starts(mbedtls_sha1_context *c) { return mbedtls_sha1_starts(c); }
static inline int ice_sha1_update(mbedtls_sha1_context *c, const unsigned char *p, size_t n) { return mbedtls_sha1_update(c, p, n); }
static inline int ice_sha1_finish(mbedtls_sha1_context *c, unsigned char out[20]) { return mbedtls_sha1_finish(c, out); }
static inline int ice_sha256_starts(mbedtls_sha256_context *c) { return mbedtls_sha256_starts(c, 0); }
static inline int ice_sha256_update(mbedtls_sha256_context *c, const unsigned char *p, size_t n) { return mbedtls_sha256_update(c, p, n); }
static inline int ice_sha256_finish(mbedtls_sha256_context *c, unsigned char out[32]) { return mbedtls_sha256_finish(c, out); }
static inline int ice_md5(const unsigned char *p, size_t n, unsigned char out[16]) { return mbedtls_md5(p, n, out); }
static inline int ice_pk_parse_key(mbedtls_pk_context *k, const unsigned char *p, size_t n,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng) { return mbedtls_pk_parse_key(k, p, n, NULL, 0, f_rng, p_rng); }
static inline int ice_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng) { return mbedtls_pk_check_pair(pub, prv, f_rng, p_rng); }
static inline int ice_pk_sign(mbedtls_pk_context *k, mbedtls_md_type_t md, const unsigned char *hash, size_t hash_len,
    unsigned char *sig, size_t sig_size, size_t *sig_len, int (*f_rng)(void *, unsigned char *, size_t), void *p_rng) {
    return mbedtls_pk_sign(k, md, hash, hash_len, sig, sig_size, sig_len, f_rng, p_rng); }
#endif
#endif

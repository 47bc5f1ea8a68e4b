/* mbedTLS 2.28 configuration of the device build (toolchain/mbedtls.sh installs it as the
 * prefix's <mbedtls/config.h>, so the library, libsrtp2 and the Swift importer all see this one
 * file and agree on every struct layout). It enables what the agent calls and nothing else; the
 * host build keeps Debian's libmbedtls-dev, a superset of this.
 *
 * Who needs what:
 * - Crypto: SHA-1 and SHA-256 HMAC (STUN MESSAGE-INTEGRITY, RFC 8489 §14.5/§14.6), MD5
 *   (the long-term key, RFC 8489 §9.2.2), SHA-256 digests (fingerprints, RFC 8122 §5).
 * - libsrtp2 on mbedTLS: AES-CTR (AES_CM, RFC 3711 §4.1.1), AES-GCM (RFC 7714), HMAC-SHA1
 *   (RFC 3711 §4.2.1).
 * - DTLS: DTLS 1.2 (RFC 6347) with use_srtp (RFC 5764 §4.1), ECDHE-ECDSA with AES-GCM
 *   (RFC 8827 §6.5), groups x25519, P-256 and P-384 (all three are named in its group list,
 *   and mbedTLS refuses a list naming a disabled curve), ECDSA P-256 keys generated, written as
 *   PEM and self-signed into a certificate (RFC 8827 §6.5), keying material exporter
 *   (RFC 5705 via the export-keys callback), a CTR_DRBG seeded by the caller.
 * - Runtime's TLS client (TURN `turns:`, RFC 8656 §3.1; HTTPS signaling) and server (WHIP,
 *   RFC 9725): TLS 1.2, certificate verification against the system CA file (read with
 *   mbedtls_x509_crt_parse_file), SNI. Public servers and their CAs use RSA or ECDSA P-256 /
 *   P-384 certificates, so ECDHE-RSA and RSA PKCS#1 v1.5 signatures stay; a server key may
 *   be RSA too.
 *
 * Left out: TLS 1.0/1.1, CBC and CCM suites (so encrypt-then-MAC, record splitting), ChaCha20-
 * Poly1305 (the DTLS suite list names it, but mbedTLS skips suites it lacks; AES-128-GCM is
 * the one RFC 8827 requires), DHE/PSK/static-ECDH/RSA key exchange, renegotiation, session
 * tickets, ALPN, max fragment length (DTLS uses ssl_set_mtu), CRL/CSR, RSA-PSS and RSA key
 * generation, deterministic ECDSA (needs HMAC_DRBG), the entropy module (every RNG is the
 * caller's), PSA, threading (no mbedTLS object is shared across threads), self-tests, debug
 * and error strings, the net and timing modules, every other cipher and hash. */
#ifndef ICE_MBEDTLS_CONFIG_H
#define ICE_MBEDTLS_CONFIG_H

/* System support */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE              /* X.509 validity periods (RFC 5280 §4.1.2.5) */
/* UTC from toolchain/mbedtls-gmtime.c: static glibc's gmtime_r brings its time zone code. */
#define MBEDTLS_PLATFORM_GMTIME_R_ALT
#define MBEDTLS_FS_IO                       /* mbedtls_x509_crt_parse_file (CA bundle, server chain) */

/* Symmetric ciphers and hashes */
#define MBEDTLS_AES_C
#define MBEDTLS_CIPHER_MODE_CTR             /* libsrtp2 aes_icm_mbedtls */
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C                    /* SHA-384: the AES-256-GCM suites, P-384 CA signatures */
/* The hashes run per handshake or per STUN check, never per media packet (SRTP is HMAC-SHA1
 * or GCM): the compact loops are enough. */
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_SMALLER
#define MBEDTLS_CTR_DRBG_C

/* Public key */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM              /* handshake time on the device */
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C

/* X.509 */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C

/* TLS and DTLS */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_DTLS
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_DTLS_ANTI_REPLAY        /* RFC 6347 §4.1.2.6 */
#define MBEDTLS_SSL_DTLS_HELLO_VERIFY       /* mbedtls_ssl_conf_dtls_cookies (turned off by DTLSEndpoint) */
#define MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE  /* as the host build: a new ClientHello is handled alike */
#define MBEDTLS_SSL_DTLS_BADMAC_LIMIT
#define MBEDTLS_SSL_DTLS_SRTP               /* RFC 5764 §4.1 use_srtp */
#define MBEDTLS_SSL_EXPORT_KEYS             /* RFC 5764 §4.2 keying material */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET  /* RFC 7627; RFC 8827 §6.5 */
#define MBEDTLS_SSL_SERVER_NAME_INDICATION  /* RFC 6066 §3: TURN and HTTPS servers behind one address */
/* No MBEDTLS_SSL_KEEP_PEER_CERTIFICATE: the DTLS fingerprint (RFC 5763 §5) and the TLS chain
 * are checked by the verify callback during the handshake; nothing reads the peer's certificate
 * afterwards, so it is freed then (a chain of several KB per TLS connection) rather than kept. */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
/* The record buffers stay at 2^14 bytes each way. In: a TLS peer may send records that large
 * (RFC 5246 §6.2.1), and no max_fragment_length (RFC 6066 §4) is negotiated. Out: DTLS records
 * are cut to the path MTU anyway (mbedtls_ssl_set_mtu), but mbedTLS 2.28 does not fragment TLS
 * handshake messages, so the certificate chain of `answer --listen --tls-cert` must fit whole;
 * 8192 saved about 4 kB of the agent's resident memory in a call on the QEMU image, too little
 * for that limit. */

#include "mbedtls/check_config.h"

#endif /* ICE_MBEDTLS_CONFIG_H */

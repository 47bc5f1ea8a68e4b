// Thin view of libsrtp2 (RFC 3711 SRTP and SRTCP, RFC 7714 AES-GCM): the SRTP module protects
// and unprotects media in place through it.
#ifndef ICE_CSRTP_SHIM_H
#define ICE_CSRTP_SHIM_H
#include <srtp2/srtp.h>
#endif

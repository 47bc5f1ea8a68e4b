// Linked into the `toolchain/build <arch> --musl` binaries only, never into the glibc ones.
//
// Debian's libgpiod.a was compiled against glibc with -D_FORTIFY_SOURCE=2, so it calls glibc's
// checking variants (__snprintf_chk, __asprintf_chk), which musl does not have. (mbedTLS and
// libsrtp2 are compiled against musl itself by toolchain/mbedtls.sh and libsrtp2.sh.) The
// Embedded Swift stdlib seeds its hash function (Set, Dictionary) with arc4random_buf, which
// musl 1.2.3 does not have either.
//
// Each function below is an undefined symbol in the musl link of ice-agent or device-selftest
// (libgpiod 1.6.3, musl 1.2.3, on aarch64 and armv7 alike), or one of those calls it; nothing
// else is added: lld names any that become needed. musl already has
// __stack_chk_guard/__stack_chk_fail, getauxval/__getauxval (libgcc), getrandom and vasprintf.
//
// The __*_chk functions keep glibc's contract: the extra argument is the size of the
// destination as the compiler saw it; if the call would write past it, print glibc's message
// and abort (glibc's __chk_fail), otherwise do exactly what the plain function does. The
// `flag` argument of the printf family (glibc: reject %n in writable formats) is ignored.
#define _GNU_SOURCE   // vasprintf
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

static _Noreturn void chk_fail(void) {
    static const char message[] = "*** buffer overflow detected ***: terminated\n";
    (void)!write(2, message, sizeof message - 1);
    abort();
}

// __snprintf_chk: libgpiod.a (core.c), through __vsnprintf_chk. glibc fails when the buffer
// the compiler sees (slen) is smaller than the size passed.
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, va_list ap) {
    (void)flag;
    if (slen < maxlen) chk_fail();
    return vsnprintf(s, maxlen, format, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = __vsnprintf_chk(s, maxlen, flag, slen, format, ap);
    va_end(ap);
    return n;
}

// libgpiod.a (core.c, helpers.c: gpiod_chip_open_by_name/_number/_lookup build paths such as
// "/dev/gpiochipN").
int __asprintf_chk(char **result, int flag, const char *format, ...) {
    (void)flag;
    va_list ap;
    va_start(ap, format);
    int n = vasprintf(result, format, ap);
    va_end(ap);
    return n;
}

// The Embedded Swift stdlib: the hashing seed of Set/Dictionary, so every Swift module of
// ice-agent references it (glibc has had it since 2.36). Fills the whole buffer from the
// kernel CSPRNG; like BSD/glibc arc4random_buf it cannot fail, so it retries on EINTR and on
// short reads, and aborts if getrandom(2) itself is unusable (ENOSYS: kernel < 3.17, which
// Runtime's own getrandom calls could not cope with either).
void arc4random_buf(void *buf, size_t n);
void arc4random_buf(void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            abort();
        }
        p += got;
        n -= (size_t)got;
    }
}

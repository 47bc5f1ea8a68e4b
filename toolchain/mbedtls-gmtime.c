/* mbedtls_platform_gmtime_r for the device build's mbedTLS (MBEDTLS_PLATFORM_GMTIME_R_ALT in
 * toolchain/mbedtls-config.h; toolchain/mbedtls.sh adds it to libmbedcrypto.a).
 *
 * mbedTLS needs the current UTC date only to check X.509 validity periods (RFC 5280
 * §4.1.2.5). The C library's gmtime_r would do, but in static glibc it brings the whole time
 * zone machinery (tzset, tzfile, sscanf, locale and iconv code) into the binary, though UTC
 * needs none of it. This is the proleptic Gregorian calendar from a day count, as POSIX defines
 * `seconds since the Epoch` (XBD §4.16: no leap seconds). */
#include <stddef.h>
#include <time.h>

#include "mbedtls/platform_util.h"

struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf) {
    if (tt == NULL || tm_buf == NULL) return NULL;
    long long t = (long long)*tt;
    long long days = t / 86400, secs = t % 86400;
    if (secs < 0) { secs += 86400; days -= 1; }
    /* Days to civil date over 400-year eras of 146097 days, years starting on 1 March so
     * that the leap day is the era's last. */
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;                                      /* [0, 146096] */
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    long long mp = (5 * doy + 2) / 153;                                    /* [0, 11], March first */
    long long mday = doy - (153 * mp + 2) / 5 + 1;
    long long mon = mp < 10 ? mp + 3 : mp - 9;                             /* [1, 12] */
    long long year = yoe + era * 400 + (mon <= 2);
    long long tm_year = year - 1900;
    if (tm_year < -2147483647LL || tm_year > 2147483647LL) return NULL;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    static const short before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    tm_buf->tm_year = (int)tm_year;
    tm_buf->tm_mon = (int)mon - 1;
    tm_buf->tm_mday = (int)mday;
    tm_buf->tm_hour = (int)(secs / 3600);
    tm_buf->tm_min = (int)(secs / 60 % 60);
    tm_buf->tm_sec = (int)(secs % 60);
    tm_buf->tm_yday = before[mon - 1] + (int)mday - 1 + (leap && mon > 2);
    /* 1 January 1970 was a Thursday (4). */
    long long wday = (days + 4) % 7;
    tm_buf->tm_wday = (int)(wday < 0 ? wday + 7 : wday);
    tm_buf->tm_isdst = 0;
    return tm_buf;
}

// Thin view of libgpiod v1 (1.6 on Debian 12 and Raspberry Pi OS Bookworm: package
// libgpiod-dev). Request flags and event types are anonymous enums in <gpiod.h>; they are
// re-exported as `static const int` like the CLinux shim does, and errno gets a wrapper
// because it is a macro.
#ifndef ICE_CGPIOD_SHIM_H
#define ICE_CGPIOD_SHIM_H
#include <errno.h>
#include <gpiod.h>

static const int ice_GPIOD_LINE_EVENT_RISING_EDGE = GPIOD_LINE_EVENT_RISING_EDGE;
static const int ice_GPIOD_LINE_EVENT_FALLING_EDGE = GPIOD_LINE_EVENT_FALLING_EDGE;
static const int ice_GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE = GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
static const int ice_GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN = GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
static const int ice_GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP = GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
static const int ice_EBUSY = EBUSY;
static const int ice_ENOENT = ENOENT;
static const int ice_EINVAL = EINVAL;

static inline int ice_gpiod_errno(void) { return errno; }
static inline void ice_gpiod_clear_errno(void) { errno = 0; }
#endif

// Thin view of the libc calls the runtime needs (sockets, poll, clocks, randomness).
// Embedded Swift cannot import Glibc, so this header is how both builds reach libc. The
// constants are re-exported as `static const` because glibc defines some as enums and some
// as macros, and musl differs again; function-like macros (errno) get one-line wrappers.
#ifndef ICE_CLINUX_SHIM_H
#define ICE_CLINUX_SHIM_H
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <ifaddrs.h>
#include <net/if.h>

static const int ice_AF_INET = AF_INET;
static const int ice_AF_INET6 = AF_INET6;
static const int ice_AF_UNIX = AF_UNIX;
static const int ice_SOCK_DGRAM = SOCK_DGRAM;
static const int ice_SOCK_STREAM = SOCK_STREAM;
static const int ice_SOCK_CLOEXEC = SOCK_CLOEXEC;
static const int ice_SOCK_NONBLOCK = SOCK_NONBLOCK;
static const int ice_IPPROTO_UDP = IPPROTO_UDP;
static const int ice_IPPROTO_IPV6 = IPPROTO_IPV6;
static const int ice_IPV6_V6ONLY = IPV6_V6ONLY;
static const int ice_SOL_SOCKET = SOL_SOCKET;
static const int ice_SO_REUSEADDR = SO_REUSEADDR;
static const int ice_POLLIN = POLLIN;
static const int ice_EINTR = EINTR;
static const int ice_EAGAIN = EAGAIN;
static const int ice_CLOCK_MONOTONIC = CLOCK_MONOTONIC;
static const int ice_EPOLLIN = EPOLLIN;
static const int ice_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int ice_EPOLL_CTL_DEL = EPOLL_CTL_DEL;
static const int ice_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int ice_EPOLLOUT = EPOLLOUT;
static const int ice_EPOLLERR = EPOLLERR;
static const int ice_EPOLLHUP = EPOLLHUP;
static const int ice_EPOLL_CLOEXEC = EPOLL_CLOEXEC;
static const int ice_TFD_CLOEXEC = TFD_CLOEXEC;
static const int ice_TFD_NONBLOCK = TFD_NONBLOCK;
static const int ice_TFD_TIMER_ABSTIME = TFD_TIMER_ABSTIME;
static const int ice_SFD_CLOEXEC = SFD_CLOEXEC;
static const int ice_SIGINT = SIGINT;
static const int ice_SIGTERM = SIGTERM;
static const int ice_SIGUSR1 = SIGUSR1;
static const int ice_SIGUSR2 = SIGUSR2;
static const int ice_SIGPIPE = SIGPIPE;
static const int ice_SIG_BLOCK = SIG_BLOCK;
static const int ice_MSG_DONTWAIT = MSG_DONTWAIT;
static const int ice_MSG_TRUNC = MSG_TRUNC;
static const int ice_IFF_UP = IFF_UP;
static const int ice_IFF_LOOPBACK = IFF_LOOPBACK;
static const int ice_O_NONBLOCK = O_NONBLOCK;
static const int ice_SO_RCVTIMEO = SO_RCVTIMEO;
static const int ice_O_WRONLY_CREAT_TRUNC = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
static const int ice_CLOCK_REALTIME = CLOCK_REALTIME;
static const int ice_SO_SNDTIMEO = SO_SNDTIMEO;
static const int ice_SOMAXCONN = SOMAXCONN;
static const int ice_EINPROGRESS = EINPROGRESS;
static const int ice_POLLOUT = POLLOUT;
static const int ice_F_GETFL = F_GETFL;
static const int ice_F_SETFL = F_SETFL;
static const int ice_RUSAGE_SELF = RUSAGE_SELF;

// SIG_IGN is a cast macro Swift cannot import.
static inline void ice_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

// open is variadic too.
static inline int ice_open_for_writing(const char *path) { return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); }
static inline int ice_open_for_reading(const char *path) { return open(path, O_RDONLY | O_CLOEXEC); }

// rename(2) for the pcap rotation, declared here so that stdio.h stays out of the Swift view.
int rename(const char *oldpath, const char *newpath);
static inline int ice_rename(const char *from, const char *to) { return rename(from, to); }

// fcntl is variadic, which Swift cannot call.
static inline int ice_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}
static inline int ice_set_blocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

static inline int ice_errno(void) { return errno; }

// rtnetlink (netlink(7), rtnetlink(7)) without the kernel's headers, which the musl sysroot
// lacks: the constants and sockaddr_nl's layout are part of the kernel's stable ABI.
struct ice_sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad; uint32_t nl_pid; uint32_t nl_groups; };
static const int ice_ENOBUFS = ENOBUFS;
/// A non-blocking socket subscribed to link and IPv4/IPv6 address changes, or -1 (errno set).
static inline int ice_open_route_monitor(void) {
    int fd = socket(16 /* AF_NETLINK */, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0 /* NETLINK_ROUTE */);
    if (fd < 0) return -1;
    struct ice_sockaddr_nl sa;
    memset(&sa, 0, sizeof sa);
    sa.nl_family = 16;
    sa.nl_groups = 0x1 /* RTMGRP_LINK */ | 0x10 /* RTMGRP_IPV4_IFADDR */ | 0x100 /* RTMGRP_IPV6_IFADDR */;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

// glibc's own allocator entry points, which an allocation counter that replaces malloc
// forwards to (they are exported by glibc but declared in no public header).
#if defined(__GLIBC__)
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t count, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void *__libc_memalign(size_t alignment, size_t size);
void __libc_free(void *ptr);
#endif
#endif

import CLinux

// Replaces the C allocator's entry points in the process that links this module (ELF symbol
// interposition: the executable's definitions win over libc's for every library), counting
// calls and forwarding to glibc. Used by ice-bench and the allocation tests to prove the
// packet path allocates nothing. Single-threaded use only: the counters are plain integers.

nonisolated(unsafe) public var allocationCount = 0
nonisolated(unsafe) public var allocatedBytes = 0

@_cdecl("malloc")
public func counting_malloc(_ size: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    allocatedBytes &+= size
    return __libc_malloc(size)
}

@_cdecl("calloc")
public func counting_calloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    allocatedBytes &+= count &* size
    return __libc_calloc(count, size)
}

@_cdecl("realloc")
public func counting_realloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    allocatedBytes &+= size
    return __libc_realloc(pointer, size)
}

@_cdecl("free")
public func counting_free(_ pointer: UnsafeMutableRawPointer?) {
    __libc_free(pointer)
}

@_cdecl("posix_memalign")
public func counting_posix_memalign(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int) -> Int32 {
    allocationCount &+= 1
    allocatedBytes &+= size
    guard let p = __libc_memalign(alignment, size) else { return 12 }  // ENOMEM
    out.pointee = p
    return 0
}

@_cdecl("aligned_alloc")
public func counting_aligned_alloc(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    allocatedBytes &+= size
    return __libc_memalign(alignment, size)
}

@_cdecl("memalign")
public func counting_memalign(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    allocatedBytes &+= size
    return __libc_memalign(alignment, size)
}

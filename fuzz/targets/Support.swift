#if canImport(Glibc)
import Glibc
#endif

// What every harness shares: invariants that name themselves in the crash report, a sink
// the optimizer cannot see through, and a reader that turns fuzzer bytes into choices.

/// An invariant. Unlike `precondition`, `fatalError` keeps its message in -O builds, so the
/// crash report names the invariant that broke.
@inline(__always)
func require(_ ok: Bool, _ why: StaticString, file: StaticString = #file, line: UInt = #line) {
    if !ok { fatalError("invariant: \(why)", file: file, line: line) }
}

func fail(_ why: StaticString, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError("invariant: \(why)", file: file, line: line)
}

/// Keeps results alive so the optimizer cannot drop the calls that produce them.
@inline(never)
func sink<T>(_ value: T) { withExtendedLifetime(value) {} }

/// The fuzzer's bytes as a stream of choices. Reading past the end gives zeros, so every
/// input, however short, is a complete scenario.
struct FuzzReader {
    let data: UnsafeRawBufferPointer
    var offset = 0

    init(_ data: UnsafeRawBufferPointer) { self.data = data }

    var isEmpty: Bool { offset >= data.count }
    var remaining: Int { max(0, data.count - offset) }

    mutating func u8() -> UInt8 {
        guard offset < data.count else { return 0 }
        defer { offset += 1 }
        return data[offset]
    }

    mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
    mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }
    mutating func u64() -> UInt64 { UInt64(u32()) << 32 | UInt64(u32()) }
    mutating func bool() -> Bool { u8() & 1 == 1 }

    /// Up to `count` bytes (fewer at the end of the input).
    mutating func bytes(_ count: Int) -> UnsafeRawBufferPointer {
        let n = min(max(0, count), remaining)
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: data[offset..<(offset + n)])
    }

    /// A length-prefixed (16-bit) field.
    mutating func field() -> UnsafeRawBufferPointer { bytes(Int(u16())) }

    /// Everything not read yet.
    mutating func rest() -> UnsafeRawBufferPointer { bytes(remaining) }
}

/// FUZZ_TRACE=1 (with `fuzz/run TARGET FILE`): the stateful harnesses say what happens, to
/// check that a seed reaches the state it was written for.
let tracing = getenv("FUZZ_TRACE").map { String(cString: $0) == "1" } ?? false

func trace(_ line: @autoclosure () -> String) {
    guard tracing else { return }
    let s = line() + "\n"
    _ = s.withCString { write(2, $0, strlen($0)) }
}

/// The input's bytes as text, as the daemon sees a file or a request body (invalid UTF-8
/// replaced).
func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

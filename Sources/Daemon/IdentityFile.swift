import CLinux
import Common
import DTLS
import Runtime

/// Why the DTLS identity file could not be used.
public enum IdentityFileError: Error, Equatable {
    /// The file exists but cannot be opened or read (errno).
    case unreadable(path: String, errno: Int32)
    /// Not a regular file (a directory, a device, a FIFO...).
    case notRegularFile(path: String)
    /// Group or others may read or write the private key: refused, as ssh refuses such keys.
    case tooPermissive(path: String, mode: UInt32)
    /// Its content is not one ECDSA P-256 key and its certificate.
    case corrupt(path: String, DTLSError)
    /// The directory for a new file could not be made (errno).
    case cannotCreateDirectory(path: String, errno: Int32)
    /// A new file could not be written or moved into place (errno).
    case cannotWrite(path: String, errno: Int32)
    /// A new identity could not be generated.
    case generation(DTLSError)

    public var description: String {
        switch self {
        case .unreadable(let path, let e): return "cannot read DTLS identity " + path + " (errno " + String(e) + ")"
        case .notRegularFile(let path): return "DTLS identity " + path + " is not a regular file"
        case .tooPermissive(let path, let mode):
            return "DTLS identity " + path + " is readable or writable by others (mode " + String(mode & 0o777, radix: 8)
                + "): run chmod 600 " + path
        case .corrupt(let path, let e): return "DTLS identity " + path + " is not usable: " + e.description
        case .cannotCreateDirectory(let path, let e): return "cannot create directory " + path + " (errno " + String(e) + ")"
        case .cannotWrite(let path, let e): return "cannot write DTLS identity " + path + " (errno " + String(e) + ")"
        case .generation(let e): return e.description
        }
    }
}

/// The device's long-lived DTLS identity (RFC 8827 §6.5: a stable certificate lets the
/// other side pin its fingerprint): read from `path`, or generated and stored there, mode
/// 0600, written to a temporary file and renamed so a crash never leaves half a key.
public func loadOrCreateIdentity(path: String, random: inout SystemRandom) throws(IdentityFileError) -> DTLSIdentity {
    let fd = ice_open_for_reading(path)
    if fd >= 0 {
        defer { close(fd) }
        return try readIdentity(fd: fd, path: path)
    }
    let e = ice_errno()
    guard e == ENOENT else { throw .unreadable(path: path, errno: e) }
    let identity: DTLSIdentity
    do throws(DTLSError) { identity = try DTLSIdentity.generate(random: &random) } catch { throw .generation(error) }
    try storeIdentity(identity, path: path, random: &random)
    return identity
}

/// S_IFMT, S_IFREG: macros Swift does not see through.
private let fileTypeMask: UInt32 = 0o170000
private let regularFile: UInt32 = 0o100000
/// Group and others' permission bits.
private let othersMask: UInt32 = 0o077
/// A key and its certificate are under 1 KiB; DTLSIdentity refuses more than 8 KiB anyway.
private let identityFileLimit = 16384

private func readIdentity(fd: Int32, path: String) throws(IdentityFileError) -> DTLSIdentity {
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, errno: ice_errno()) }
    let mode = UInt32(info.st_mode)
    guard mode & fileTypeMask == regularFile else { throw .notRegularFile(path: path) }
    guard mode & othersMask == 0 else { throw .tooPermissive(path: path, mode: mode) }
    var content: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while content.count <= identityFileLimit {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if ice_errno() == ice_EINTR { continue }
            throw .unreadable(path: path, errno: ice_errno())
        }
        if n == 0 { break }
        content += buffer[0..<n]
    }
    defer {
        for i in content.indices { content[i] = 0 }
    }
    var outcome: Result<DTLSIdentity, DTLSError> = .failure(.identityTooLarge)
    content.withUnsafeBytes { raw in
        do throws(DTLSError) { outcome = .success(try DTLSIdentity(pem: raw)) } catch { outcome = .failure(error) }
    }
    switch outcome {
    case .success(let identity): return identity
    case .failure(let error): throw .corrupt(path: path, error)
    }
}

private func storeIdentity(_ identity: DTLSIdentity, path: String, random: inout SystemRandom) throws(IdentityFileError) {
    let directory = parentDirectory(path)
    if !directory.isEmpty { try makeDirectories(directory) }
    // A fresh name each time: a leftover or planted file is never written through.
    var suffix = random.next()
    var temporary = path + ".tmp-"
    for _ in 0..<8 {
        temporary.unicodeScalars.append(Unicode.Scalar(UInt8(0x61 + suffix % 26)))
        suffix /= 26
    }
    // creat(2) with 0600: the key never exists with wider permissions (umask only narrows).
    let fd = creat(temporary, 0o600)
    guard fd >= 0 else { throw .cannotWrite(path: temporary, errno: ice_errno()) }
    var pem = identity.pem()
    defer { for i in pem.indices { pem[i] = 0 } }
    var failure: Int32 = 0
    pem.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if ice_errno() == ice_EINTR { continue }
                failure = ice_errno()
                return
            }
            offset += n
        }
    }
    if failure == 0 && fsync(fd) != 0 { failure = ice_errno() }
    close(fd)
    if failure == 0 && ice_rename(temporary, path) != 0 { failure = ice_errno() }
    guard failure == 0 else {
        unlink(temporary)
        throw .cannotWrite(path: path, errno: failure)
    }
    // The rename is durable once the directory is synced.
    let dirFD = ice_open_for_reading(directory.isEmpty ? "." : directory)
    if dirFD >= 0 {
        _ = fsync(dirFD)
        close(dirFD)
    }
}

/// "/a/b" for "/a/b/c", "/" for "/c", "" for "c".
private func parentDirectory(_ path: String) -> String {
    let bytes = Array(path.utf8)
    guard let slash = bytes.lastIndex(of: 0x2F) else { return "" }
    if slash == 0 { return "/" }
    return String(decoding: bytes[0..<slash], as: UTF8.self)
}

/// mkdir -p with 0700 for the directories it creates.
private func makeDirectories(_ directory: String) throws(IdentityFileError) {
    let bytes = Array(directory.utf8)
    var end = 1
    while end <= bytes.count {
        if end == bytes.count || bytes[end] == 0x2F {
            let prefix = String(decoding: bytes[0..<end], as: UTF8.self)
            if mkdir(prefix, 0o700) != 0 {
                let e = ice_errno()
                if e != EEXIST { throw .cannotCreateDirectory(path: prefix, errno: e) }
            }
        }
        end += 1
    }
}

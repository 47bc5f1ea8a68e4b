/// Just enough DER to find iPAddress entries of the subjectAltName extension.
public enum X509Extensions {
    /// One TLV at `at`: its tag, where its content starts and ends.
    static func element(_ der: UnsafeRawBufferPointer, at: Int, end: Int) -> (tag: UInt8, start: Int, end: Int)? {
        guard at + 2 <= end else { return nil }
        let tag = der[at]
        var length = Int(der[at + 1])
        var start = at + 2
        if length >= 0x80 {
            let n = length & 0x7F
            guard n >= 1, n <= 3, start + n <= end else { return nil }
            length = 0
            for k in 0..<n { length = length << 8 | Int(der[start + k]) }
            start += n
        }
        guard start + length <= end else { return nil }
        return (tag, start, start + length)
    }

    /// Whether the certificate's extensions (the `[3] { SEQUENCE OF Extension }` or the
    /// SEQUENCE itself) hold a subjectAltName (2.5.29.17) iPAddress equal to `ip` (4 or 16 bytes).
    public static func subjectAltNamesContainIP(_ der: UnsafeRawBufferPointer, _ ip: UnsafeRawBufferPointer) -> Bool {
        guard var list = element(der, at: 0, end: der.count) else { return false }
        if list.tag == 0xA3 {
            guard let inner = element(der, at: list.start, end: list.end) else { return false }
            list = inner
        }
        guard list.tag == 0x30 else { return false }
        var at = list.start
        while let ext = element(der, at: at, end: list.end) {
            at = ext.end
            guard ext.tag == 0x30, let oid = element(der, at: ext.start, end: ext.end), oid.tag == 0x06,
                  oid.end - oid.start == 3, der[oid.start] == 0x55, der[oid.start + 1] == 0x1D, der[oid.start + 2] == 0x11
            else { continue }
            var field = oid.end
            // critical BOOLEAN (optional), then the extnValue OCTET STRING.
            guard var value = element(der, at: field, end: ext.end) else { return false }
            if value.tag == 0x01 {
                field = value.end
                guard let v = element(der, at: field, end: ext.end) else { return false }
                value = v
            }
            guard value.tag == 0x04, let names = element(der, at: value.start, end: value.end), names.tag == 0x30 else { return false }
            var n = names.start
            while let name = element(der, at: n, end: names.end) {
                n = name.end
                // [7] IMPLICIT OCTET STRING: iPAddress.
                if name.tag == 0x87 && name.end - name.start == ip.count {
                    var same = true
                    for k in 0..<ip.count where der[name.start + k] != ip[k] { same = false }
                    if same { return true }
                }
            }
            return false
        }
        return false
    }
}

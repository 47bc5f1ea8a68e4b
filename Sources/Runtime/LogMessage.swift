/// A log message written as a string literal, with interpolations. Swift builds an interpolated
/// `String` inline at every call site (each piece appended there, with its retains and
/// releases); here each piece is one call to an out-of-line append, so the ~130 call sites of
/// the daemon do not each carry a copy of the string-building code (about 1 KB a site on the
/// device). Interpolated values are `String`s or `CustomStringConvertible`.
public struct LogMessage: ExpressibleByStringInterpolation {
    public typealias StringLiteralType = StaticString

    public let text: String

    @inline(never)
    public init(stringLiteral value: StaticString) {
        var s = StringInterpolation(literalCapacity: value.utf8CodeUnitCount, interpolationCount: 0)
        s.appendLiteral(value)
        text = s.text
    }

    public init(stringInterpolation: StringInterpolation) { text = stringInterpolation.text }

    public struct StringInterpolation: StringInterpolationProtocol {
        public typealias StringLiteralType = StaticString

        var text = ""

        @inline(never)
        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        @inline(never)
        public mutating func appendLiteral(_ literal: StaticString) {
            literal.withUTF8Buffer { text.append(String(decoding: $0, as: UTF8.self)) }
        }

        @inline(never)
        public mutating func appendInterpolation(_ value: String) {
            text.append(value)
        }

        @inline(never)
        public mutating func appendInterpolation<T: CustomStringConvertible>(_ value: T) {
            text.append(value.description)
        }
    }
}

/// Randomness injected into the protocol modules (transaction ids, ufrag/pwd, tie-breakers).
/// The device passes getrandom(2); tests pass a seeded generator, so runs are reproducible.
public protocol RandomSource {
    mutating func next() -> UInt64
    /// An independent source for another owner (a new TURN client of a connection), so no
    /// two owners draw the same sequence.
    mutating func split() -> Self
}

/// A small deterministic generator (SplitMix64) for tests and simulations, never for secrets.
public struct SeededRandom: RandomSource {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func split() -> SeededRandom { SeededRandom(seed: next()) }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

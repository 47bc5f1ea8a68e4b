/// The check the pacer would send next (RFC 8445 §6.1.4.2).
enum PacedCheck {
    case triggered(PairID)
    case waiting(Int)
    /// A Frozen pair to unfreeze and check.
    case frozen(Int)
}

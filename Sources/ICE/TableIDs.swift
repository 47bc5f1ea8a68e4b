import Common

/// The agent's name for one of its candidates, local or remote. Assigned when the candidate
/// enters a table, from a counter that only grows, and never reused: removing a candidate
/// renumbers nothing that refers to another one. 0 is never assigned (a candidate from
/// signaling has it until the agent stores it).
public struct CandidateID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let unassigned = CandidateID(rawValue: 0)

    public static func < (a: CandidateID, b: CandidateID) -> Bool { a.rawValue < b.rawValue }

    public var description: String { "c" + String(rawValue) }
}

/// The agent's name for one of its candidate pairs, assigned and never reused as
/// `CandidateID` is: transactions, the triggered-check queue and the selected pairs keep it
/// across removals and replacements of other pairs.
public struct PairID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (a: PairID, b: PairID) -> Bool { a.rawValue < b.rawValue }

    public var description: String { "p" + String(rawValue) }
}

/// Hands out ids in increasing order. 64 bits never wrap (a billion insertions a second would
/// take centuries), so the tables' id order, which lookups rely on, always holds.
struct IDCounter {
    var next: UInt64 = 1

    mutating func take() -> UInt64 {
        let id = next
        next &+= 1
        return id
    }
}

/// An entry of a table kept in insertion order, which is increasing id order.
protocol IdentifiedEntry {
    associatedtype ID: Comparable
    var id: ID { get }
}

extension Candidate: IdentifiedEntry {}

extension BoundedArray where Element: IdentifiedEntry {
    /// Where the entry named `id` is (binary search: entries are appended with increasing
    /// ids and removals keep the order); nil once it was removed.
    func index(of id: Element.ID) -> Int? {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid].id < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < count && self[lo].id == id ? lo : nil
    }
}

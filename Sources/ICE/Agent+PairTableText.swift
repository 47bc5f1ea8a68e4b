import Common

extension Agent {
    /// The candidate-pair table for logs and the demo: local and remote candidate,
    /// types, pair priority, state, R (a check arrived: "readable"), W (our check succeeded:
    /// "writable"), N (nominated), and the base the pair sends from.
    public var pairTable: String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        var out = pad("local", 24) + pad("remote", 24) + pad("types", 12) + pad("priority", 21) + pad("state", 12) + "R W N  base\n"
        for i in pairs.indices {
            let p = pairs[i], l = local(ofPair: i), r = remote(ofPair: i)
            out += pad(l.address.description, 24) + pad(r.address.description, 24)
            out += pad(l.type.sdpName.description + "/" + r.type.sdpName.description, 12)
            out += pad(String(p.priority), 21) + pad(p.state.name.description, 12)
            out += (p.receivedCheck ? "y " : "- ") + (p.valid ? "y " : "- ") + (p.nominated ? "y  " : "-  ") + l.base.description + "\n"
        }
        return out
    }
}

import Board
import Testing

@Suite struct GPIOTests {
    /// No chip (this host, or a board file naming the wrong one) is a typed error the daemon
    /// logs before going on without LEDs.
    @Test func aMissingChipIsATypedError() {
        do throws(GPIOError) {
            _ = try GPIOChip("no-such-gpiochip")
            Issue.record("opened a chip that does not exist")
        } catch {
            guard case .chipNotFound(let chip, _) = error else {
                Issue.record("\(error.description)")
                return
            }
            #expect(chip == "no-such-gpiochip")
            #expect(error.description.hasPrefix("GPIO chip \"no-such-gpiochip\" not found"))
        }
    }
}

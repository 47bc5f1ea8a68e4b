import Foundation
import TestSupport
import Testing

/// `scripts/install-deps` waits while another process holds an apt or dpkg lock (on a fresh
/// machine, unattended-upgrades) instead of failing, and proceeds once it is released. The lock
/// is a file of the test's own, taken the way apt and dpkg take theirs (fcntl, by python's
/// `fcntl.lockf`); `INSTALL_DEPS_DRY_RUN=1` stops the script after the wait, before apt.
@Suite(.serialized) struct InstallDepsLockTests {
    let script = repoRoot.appendingPathComponent("scripts/install-deps").path

    /// Takes an fcntl write lock on `path`, says "locked", holds it `seconds`, then exits.
    func holdLock(_ path: String, seconds: Double) throws -> Background {
        let python = try requireTool("python3", install: "apt-get install python3")
        let holder = try Background(python, ["-c", """
            import fcntl, os, sys, time
            fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.lockf(fd, fcntl.LOCK_EX)
            print("locked", flush=True)
            time.sleep(float(sys.argv[2]))
            """, path, String(seconds)])
        guard waitUntil(timeout: 10, { holder.output.contains("locked") }) else {
            throw TestFailure("the lock holder did not take \(path): \(holder.output)")
        }
        return holder
    }

    func lockFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("apt-lock-\(UUID().uuidString)").path
    }

    func installDeps(lock: String, wait: Int) throws -> Finished {
        try run("/usr/bin/env", ["APT_LOCK_FILES=/nonexistent/lock:" + lock, "APT_LOCK_WAIT=\(wait)",
                                 "INSTALL_DEPS_DRY_RUN=1", script], timeout: 60)
    }

    @Test func waitsForTheLockThenProceeds() throws {
        let lock = lockFile()
        defer { try? FileManager.default.removeItem(atPath: lock) }
        let held = 3.0
        let holder = try holdLock(lock, seconds: held)
        defer { holder.stop() }
        let taken = Date()
        let r = try installDeps(lock: lock, wait: 60)
        let waited = Date().timeIntervalSince(taken)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("waiting for process \(holder.process.processIdentifier) (python3) to release \(lock)"),
                "\(r.stderr)")
        #expect(r.stdout.contains("dry run: apt and dpkg locks free"), "\(r.stdout)")
        // It went on only once the holder let go, and not long after (it polls every second).
        #expect(waited >= held - 0.5 && waited < held + 10, "waited \(waited) s")
    }

    @Test func aFreeLockIsNoWait() throws {
        let lock = lockFile()
        _ = FileManager.default.createFile(atPath: lock, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: lock) }
        let r = try installDeps(lock: lock, wait: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("waiting"), "\(r.stderr)")
        #expect(r.stdout.contains("dry run: apt and dpkg locks free"), "\(r.stdout)")
    }

    @Test func givesUpAfterAPT_LOCK_WAITNamingTheHolder() throws {
        let lock = lockFile()
        defer { try? FileManager.default.removeItem(atPath: lock) }
        let holder = try holdLock(lock, seconds: 30)
        defer { holder.stop() }
        let started = Date()
        let r = try installDeps(lock: lock, wait: 1)
        #expect(r.status == 1, "\(r.stdout)")
        #expect(r.stderr.contains("process \(holder.process.processIdentifier) still holds \(lock) after 1 s"), "\(r.stderr)")
        #expect(!r.stdout.contains("dry run"), "\(r.stdout)")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(holder.process.isRunning, "the holder let go early: the test proved nothing")
    }
}

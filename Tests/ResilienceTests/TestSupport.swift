import Synchronization

/// A transient failure for tests.
struct Boom: Error, Equatable {
    var id = 0
}

/// A counter shared between a test and the operations it runs.
final class Counter: Sendable {
    private let value = Mutex(0)
    init() {}
    @discardableResult
    func increment() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }
    var count: Int { value.withLock { $0 } }
}

/// Lets a test hold operations in flight and release them when it chooses.
final class Gate: Sendable {
    private let waiters = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let opened = Mutex(false)
    init() {}

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = opened.withLock { $0 }
            if isOpen {
                continuation.resume()
            } else {
                waiters.withLock { $0.append(continuation) }
                // Re-check: `open()` may have run between the two locks.
                if opened.withLock({ $0 }) { releaseAll() }
            }
        }
    }

    var waiting: Int { waiters.withLock { $0.count } }

    func open() {
        opened.withLock { $0 = true }
        releaseAll()
    }

    private func releaseAll() {
        let all = waiters.withLock { waiters in
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in all { waiter.resume() }
    }

    /// Waits (yielding) until `count` operations are waiting at the gate.
    func waitUntilWaiting(_ count: Int) async {
        while waiting < count { await Task.yield() }
    }
}

import Foundation
import Resilience
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What runs on an ``AMQPConnectionThread``: owns one rabbitmq-c connection and everything touching it.
protocol AMQPConnectionDriver: AnyObject, SendableMetatype {
    /// One turn of the loop after the queued commands ran: (re)connect when due, read what the socket holds.
    /// Returns the socket to wait on (nil while disconnected) and the longest wait before the next turn.
    func turn() -> (socket: Int32?, milliseconds: Int32)
    /// The thread is ending: close the connection and fail what waits on it.
    func stop()
}

/// A dedicated thread that owns one rabbitmq-c connection (rabbitmq-c is not thread-safe per connection).
///
/// Async callers never touch the connection and never block a Swift concurrency thread on its socket: they
/// ``submit(_:)`` a command (usually resuming a continuation when done); the thread runs commands in order between
/// reads, sleeping in `poll(2)` on the socket and a wake-up pipe.
final class AMQPConnectionThread<Driver: AMQPConnectionDriver>: Sendable {
    typealias Command = @Sendable (Driver) -> Void

    private struct Mailbox {
        var commands: [Command] = []
        var wakePending = false
        var stopping = false
        var exited = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let mailbox = Mutex(Mailbox())
    private let wakeRead: Int32
    private let wakeWrite: Int32

    /// Starts the thread; `makeDriver` runs on it, so the driver is created, used and dropped there only.
    init(name: String, makeDriver: @escaping @Sendable () -> Driver) {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { preconditionFailure("pipe(2) failed: errno \(errno)") }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK) }
        wakeRead = descriptors[0]
        wakeWrite = descriptors[1]
        let thread = Thread { [self] in
            self.run(makeDriver())
        }
        thread.name = name
        thread.start()
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Queues `command` for the thread; false (and `command` is dropped) once the thread is stopping.
    @discardableResult
    func submit(_ command: @escaping Command) -> Bool {
        let wake: Bool? = mailbox.withLock { mailbox in
            guard !mailbox.stopping else { return nil }
            mailbox.commands.append(command)
            defer { mailbox.wakePending = true }
            return !mailbox.wakePending
        }
        guard let wake else { return false }
        if wake { signal() }
        return true
    }

    /// Asks the thread to end after the commands already queued; ``join()`` waits for it.
    func stop() {
        mailbox.withLock { $0.stopping = true }
        signal()
    }

    /// Waits (without blocking a thread) until the thread has ended.
    func join() async {
        await withCheckedContinuation { continuation in
            let exited = mailbox.withLock { mailbox in
                if !mailbox.exited { mailbox.exitWaiters.append(continuation) }
                return mailbox.exited
            }
            if exited { continuation.resume() }
        }
    }

    private func signal() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func run(_ driver: Driver) {
        while true {
            let (commands, stopping) = mailbox.withLock { mailbox in
                let commands = mailbox.commands
                mailbox.commands.removeAll(keepingCapacity: true)
                mailbox.wakePending = false
                return (commands, mailbox.stopping)
            }
            for command in commands { command(driver) }
            if stopping { break }
            let wait = driver.turn()
            var descriptors = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if let socket = wait.socket, socket >= 0 { descriptors.append(pollfd(fd: socket, events: Int16(POLLIN), revents: 0)) }
            _ = poll(&descriptors, nfds_t(descriptors.count), wait.milliseconds)
            if descriptors[0].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &buffer, buffer.count) > 0 {}
            }
        }
        driver.stop()
        let waiters = mailbox.withLock { mailbox in
            mailbox.exited = true
            defer { mailbox.exitWaiters.removeAll() }
            return mailbox.exitWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// When the next connection attempt is due, after failures (exponential backoff from the configuration).
struct ReconnectSchedule {
    private(set) var failures = 0
    private(set) var nextAttempt = ContinuousClock.now
    private var previousDelay: Duration = .zero
    var lastError: AMQPError?

    var isDue: Bool { ContinuousClock.now >= nextAttempt }

    mutating func failed(_ error: AMQPError, backoff: Backoff) {
        failures += 1
        lastError = error
        let delay = backoff.delay(beforeRetry: failures, previousDelay: previousDelay, jitterSource: .system)
        previousDelay = delay
        nextAttempt = ContinuousClock.now + max(delay, .milliseconds(50))
    }

    mutating func succeeded() {
        failures = 0
        previousDelay = .zero
        lastError = nil
    }

    /// Milliseconds until the next attempt (at least 1, at most 1000 so stop requests are seen promptly anyway).
    var millisecondsUntilDue: Int32 {
        let remaining = nextAttempt - ContinuousClock.now
        let milliseconds = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
        return Int32(min(max(milliseconds, 1), 1000))
    }
}

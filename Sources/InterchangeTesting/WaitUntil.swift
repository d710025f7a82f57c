/// A bounded wait in a test ran out of time: what it waited for did not happen.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public var condition: String
    public var timeout: Duration
    public var description: String { "timed out after \(timeout) waiting until \(condition)" }
}

/// Polls (every millisecond) until `condition` holds, and throws ``WaitTimedOut`` after `timeout` of real time, so a regression makes
/// the test fail, naming what it waited for, instead of hang. Every wait in a test goes through this (or through
/// ``Gate/waitForWaiters(_:timeout:)`` and ``ManualClock/waitForSleepers(_:timeout:)``, which use it).
///
/// ```swift
/// async let slow = client.get("\(server.baseURL)/slow")
/// try await waitUntil("the slow request reached the server") { !server.requests(to: "/slow").isEmpty }
/// ```
public func waitUntil(
    _ description: String,
    timeout: Duration = .seconds(10),
    _ condition: () -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while !condition() {
        guard clock.now < deadline else { throw WaitTimedOut(condition: description, timeout: timeout) }
        try await Task.sleep(for: .milliseconds(1))
    }
}

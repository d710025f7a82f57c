import Foundation

/// One thread that runs the jobs of the tasks using one SQLite connection: a `TaskExecutor`.
///
/// A transaction's body runs with this executor as its preference (`withTaskExecutorPreference`), so it and the
/// statements it issues — each a plain blocking call into SQLite — run on this thread one after another. A
/// transaction of ten statements costs two thread switches (in and out) instead of two per statement, and the
/// statements never wait in a thread pool's queue. Blocking is fine here: the thread belongs to the connection,
/// not to Swift's cooperative pool.
///
/// After ``stop()`` the thread ends once its queue is empty; jobs enqueued later run on the global executor, so a
/// task still holding the preference is never stranded.
final class SQLiteThread: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs`, `stopping` and `stopped` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var stopped = false
    private let thread = ThreadIdentity()

    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Whether the caller runs on this thread.
    var isCurrent: Bool { thread.isCurrent }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        guard !stopped else {
            condition.unlock()
            globalConcurrentExecutor.enqueue(job)
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Whether the thread has ended (after ``stop()``, its queue empty).
    var hasEnded: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    /// Lets the thread end once it has run what is queued.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        thread.set()
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                stopped = true
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

/// The identity of one thread, recorded on it and compared later (`pthread_equal`).
private final class ThreadIdentity: @unchecked Sendable {
    // @unchecked: written once, on the thread, under the lock; read under the lock.
    private let lock = NSLock()
    private var id: pthread_t?

    func set() {
        lock.lock()
        id = pthread_self()
        lock.unlock()
    }

    var isCurrent: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let id else { return false }
        return pthread_equal(id, pthread_self()) != 0
    }
}

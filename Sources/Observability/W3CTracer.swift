import Synchronization
import Tracing
import W3CTraceContext

/// A tracer that propagates W3C Trace Context (`traceparent` / `tracestate`) and hands finished spans to a
/// sink — by default nowhere; `interchange` logs them at debug level.
///
/// It is what `interchange` bootstraps so that every hop (gateway → service → upstream API) carries one
/// trace id, visible in logs, without an OpenTelemetry collector. For export to Jaeger or Tempo, bootstrap
/// swift-otel's tracer instead: nothing else changes, because libraries only use the swift-distributed-tracing API.
/// Built on swift-otel's `W3CTraceContext` parser; the span bookkeeping is the only part written here.
///
/// ```swift
/// InstrumentationSystem.bootstrap(W3CTracer { span in logger.debug("span", metadata: span.metadata) })
/// ```
public struct W3CTracer: Tracer {
    public typealias Span = W3CSpan

    private let onEnd: @Sendable (FinishedSpan) -> Void

    public init(onEnd: @escaping @Sendable (FinishedSpan) -> Void = { _ in }) {
        self.onEnd = onEnd
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> W3CSpan {
        var context = context()
        let parent = context.w3cTraceContext
        var random = SpanIDGenerator()
        let traceContext = TraceContext(
            traceID: parent?.traceID ?? .random(using: &random),
            spanID: .random(using: &random),
            flags: parent?.flags ?? .sampled,
            state: parent?.state ?? TraceState()
        )
        context.w3cTraceContext = traceContext
        return W3CSpan(
            operationName: operationName,
            context: context,
            traceContext: traceContext,
            parentSpanID: parent.map { "\($0.spanID)" },
            kind: kind,
            startNanoseconds: instant().nanosecondsSinceEpoch,
            onEnd: onEnd
        )
    }

    public func forceFlush() {}

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier,
        into context: inout InstrumentationContext,
        using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let traceparent = extractor.extract(key: "traceparent", from: carrier) else { return }
        let tracestate = extractor.extract(key: "tracestate", from: carrier)
        // A malformed traceparent starts a new trace, as the W3C spec requires.
        context.w3cTraceContext = try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate)
    }

    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext,
        into carrier: inout Carrier,
        using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let traceContext = context.w3cTraceContext else { return }
        injector.inject(traceContext.traceParentHeaderValue, forKey: "traceparent", into: &carrier)
        if let state = traceContext.traceStateHeaderValue, !state.isEmpty {
            injector.inject(state, forKey: "tracestate", into: &carrier)
        }
    }
}

/// Random numbers for trace and span ids without a system call each: SplitMix64 over an atomic counter seeded
/// once from the system generator. Ids need to be unpredictable enough not to collide (W3C Trace Context asks
/// for randomness, not secrecy); a `getrandom` call per id was 2% of a cached request's CPU.
struct SpanIDGenerator: RandomNumberGenerator {
    private static let state = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    mutating func next() -> UInt64 {
        var z = Self.state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A span of ``W3CTracer``.
public final class W3CSpan: Tracing.Span {
    private struct State {
        var operationName: String
        var attributes: SpanAttributes = [:]
        var events: [SpanEvent] = []
        var links: [SpanLink] = []
        var errors: [String] = []
        var status: SpanStatus?
        var isRecording = true
    }

    public let context: InstrumentationContext
    public let traceContext: TraceContext
    public let parentSpanID: String?
    public let kind: SpanKind
    private let startNanoseconds: UInt64
    private let state: Mutex<State>
    private let onEnd: @Sendable (FinishedSpan) -> Void

    init(
        operationName: String,
        context: InstrumentationContext,
        traceContext: TraceContext,
        parentSpanID: String?,
        kind: SpanKind,
        startNanoseconds: UInt64,
        onEnd: @escaping @Sendable (FinishedSpan) -> Void
    ) {
        self.context = context
        self.traceContext = traceContext
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanoseconds = startNanoseconds
        self.state = Mutex(State(operationName: operationName))
        self.onEnd = onEnd
    }

    public var operationName: String {
        get { state.withLock { $0.operationName } }
        set { state.withLock { if $0.isRecording { $0.operationName = newValue } } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { if $0.isRecording { $0.attributes = newValue } } }
    }

    public var isRecording: Bool { state.withLock { $0.isRecording } }

    public func setStatus(_ status: SpanStatus) {
        state.withLock { if $0.isRecording { $0.status = status } }
    }

    public func addEvent(_ event: SpanEvent) {
        state.withLock { if $0.isRecording { $0.events.append(event) } }
    }

    public func addLink(_ link: SpanLink) {
        state.withLock { if $0.isRecording { $0.links.append(link) } }
    }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        state.withLock { if $0.isRecording { $0.errors.append("\(error)") } }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let finished: State? = state.withLock { state in
            guard state.isRecording else { return nil }
            state.isRecording = false
            return state
        }
        guard let finished else { return }
        onEnd(
            FinishedSpan(
                operationName: finished.operationName,
                traceID: "\(traceContext.traceID)",
                spanID: "\(traceContext.spanID)",
                parentSpanID: parentSpanID,
                kind: kind,
                durationNanoseconds: instant().nanosecondsSinceEpoch &- startNanoseconds,
                attributes: finished.attributes,
                errors: finished.errors,
                status: finished.status
            )
        )
    }
}

/// A span that has ended, as handed to the tracer's sink.
public struct FinishedSpan: Sendable {
    public var operationName: String
    public var traceID: String
    public var spanID: String
    public var parentSpanID: String?
    public var kind: SpanKind
    public var durationNanoseconds: UInt64
    public var attributes: SpanAttributes
    public var errors: [String]
    public var status: SpanStatus?
}

extension InstrumentationContext {
    /// The W3C trace context of the current span, if any.
    public var w3cTraceContext: TraceContext? {
        get { self[W3CTraceContextKey.self] }
        set { self[W3CTraceContextKey.self] = newValue }
    }
}

private enum W3CTraceContextKey: InstrumentationContextKey {
    typealias Value = TraceContext
}

import Observability
import Synchronization
import Testing
import Tracing

@Suite("W3CTracer")
struct W3CTracerTests {
    struct DictionaryInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    struct DictionaryExtractor: Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    @Test("continues an incoming trace: same trace id, new span id, parent recorded")
    func continuesTrace() {
        let finished = Mutex<[FinishedSpan]>([])
        let tracer = W3CTracer { span in finished.withLock { $0.append(span) } }
        var context = InstrumentationContext.topLevel
        tracer.extract(["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], into: &context, using: DictionaryExtractor())
        let span = tracer.startSpan("handle", context: context)
        var outgoing: [String: String] = [:]
        tracer.inject(span.context, into: &outgoing, using: DictionaryInjector())
        span.end()
        let parts = outgoing["traceparent"]?.split(separator: "-") ?? []
        #expect(parts.count == 4)
        #expect(parts[1] == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parts[2] != "00f067aa0ba902b7")
        #expect(parts[3] == "01")
        #expect(finished.withLock { $0.first?.parentSpanID } == "00f067aa0ba902b7")
    }

    @Test("a malformed traceparent starts a new trace")
    func malformedStartsNew() {
        let tracer = W3CTracer()
        var context = InstrumentationContext.topLevel
        tracer.extract(["traceparent": "garbage"], into: &context, using: DictionaryExtractor())
        let span = tracer.startSpan("handle", context: context)
        #expect(span.parentSpanID == nil)
        #expect("\(span.traceContext.traceID)".count == 32)
    }

    @Test("new traces get distinct, non-zero trace and span ids, also from concurrent tasks")
    func distinctIDs() async {
        let tracer = W3CTracer()
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    (0..<2500).flatMap { _ in
                        let span = tracer.startSpan("root", context: .topLevel)
                        return ["t\(span.traceContext.traceID)", "s\(span.traceContext.spanID)"]
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(ids.count == 20_000)
        #expect(Set(ids).count == ids.count)
        #expect(!ids.contains("t" + String(repeating: "0", count: 32)))
        #expect(!ids.contains("s" + String(repeating: "0", count: 16)))
    }
}

import Prometheus
import W3CTraceContext
import Tracing
public enum _Placeholder {}

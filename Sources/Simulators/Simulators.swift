/// In-repo simulators of the third-party APIs the reference systems call: OpenWeatherMap, Open-Meteo and the
/// GitHub GraphQL API. Real paths, auth, response shapes, error bodies and status codes; deterministic data;
/// switches for latency, error rate, outage and rate limiting, so resilience can be shown live.
public enum SimulatorsModule {}

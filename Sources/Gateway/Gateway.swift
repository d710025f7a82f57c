// Gateway: the foundation of Interchange's API gateway, in Kong's own terms.
//
// - `GatewayConfiguration.load(…)` reads Kong's declarative format (decK / kong.yaml, `_format_version: "3.0"`),
//   YAML or JSON, with Yams (whose nodes carry line and column), and validates it against the facts of Kong's
//   entity and plugin schemas: every problem is collected and named by key path and line.
// - `GatewayRouter` compiles the routes into a host index and a character trie of path prefixes and picks the
//   route for a request with the precedence of Kong's default (`traditional_compatible`) router.
// - `PluginResolver` picks, per plugin name, the configuration Kong's precedence rules would apply.
//
// Proxying is the GatewayProxy library's; docs/gateway.md says what is and is not supported.

import Gateway
import HTTPTypes
import Hummingbird

/// Kong's `acl`: after an authentication plugin identified the consumer, its `acls` groups against `allow` (it must
/// be in one) or `deny` (it must be in none). No consumer: `401`; refused: `403` "You cannot consume this service".
/// The consumer's groups go upstream in `X-Consumer-Groups` unless `hide_groups_header`.
struct ACLPlugin: GatewayPlugin {
    let configuration: ACLConfiguration
    let groups: [Set<String>]

    init(_ configuration: ACLConfiguration, gateway: GatewayConfiguration) {
        self.configuration = configuration
        self.groups = gateway.consumers.map { Set($0.acls.map(\.group)) }
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        guard let consumer = context.consumer else {
            return GatewayProblem.response(
                401,
                "unauthorized",
                "Unauthorized",
                "the acl plugin needs an authenticated consumer (put an authentication plugin on the route)",
                correlationID: context.correlationID
            )
        }
        let member = groups[consumer.position]
        let permitted: Bool =
            switch configuration.rule {
            case .allow(let allowed): !member.isDisjoint(with: allowed)
            case .deny(let denied): member.isDisjoint(with: denied)
            }
        guard permitted else {
            return GatewayProblem.response(403, "forbidden", "Forbidden", "You cannot consume this service", correlationID: context.correlationID)
        }
        context.head.headerFields[.xConsumerGroups] = configuration.hideGroupsHeader || member.isEmpty ? nil : member.sorted().joined(separator: ", ")
        return nil
    }
}

extension HTTPField.Name {
    static let xConsumerGroups = Self("X-Consumer-Groups")!
}

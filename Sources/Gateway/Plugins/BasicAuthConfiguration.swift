/// Kong's `basic-auth` plugin: `Authorization: Basic` against the consumers' `basicauth_credentials`.
public struct BasicAuthConfiguration: Hashable, Sendable {
    public var anonymous: String?
    public var hideCredentials = false
    public var realm = "service"

    public init() {}

    init(reading config: ObjectReader) {
        anonymous = config.string("anonymous")
        hideCredentials = config.bool("hide_credentials", default: hideCredentials)
        realm = config.string("realm", default: realm) ?? realm
    }
}

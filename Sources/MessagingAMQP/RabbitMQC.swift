import CRabbitMQ

/// The rabbitmq-c library this transport runs on.
public enum RabbitMQC {
    /// rabbitmq-c's version string (`0.11.0` on Debian 12).
    public static var version: String { String(cString: amqp_version()) }
}

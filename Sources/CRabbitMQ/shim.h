// rabbitmq-c 0.11 (Debian's librabbitmq-dev): the connection API, the TCP and TLS sockets, framing helpers.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

// The method numbers are macros with casts, which Swift does not import; these constants carry the same values.
static const amqp_method_number_t CRabbitMQBasicDeliverMethod = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t CRabbitMQBasicAckMethod = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t CRabbitMQBasicNackMethod = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t CRabbitMQBasicReturnMethod = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t CRabbitMQBasicGetOkMethod = AMQP_BASIC_GET_OK_METHOD;
static const amqp_method_number_t CRabbitMQBasicCancelMethod = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t CRabbitMQChannelCloseMethod = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t CRabbitMQConnectionCloseMethod = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_flags_t CRabbitMQBasicContentTypeFlag = AMQP_BASIC_CONTENT_TYPE_FLAG;
static const amqp_flags_t CRabbitMQBasicHeadersFlag = AMQP_BASIC_HEADERS_FLAG;
static const amqp_flags_t CRabbitMQBasicDeliveryModeFlag = AMQP_BASIC_DELIVERY_MODE_FLAG;
static const amqp_flags_t CRabbitMQBasicMessageIDFlag = AMQP_BASIC_MESSAGE_ID_FLAG;
static const amqp_flags_t CRabbitMQBasicTypeFlag = AMQP_BASIC_TYPE_FLAG;
static const amqp_flags_t CRabbitMQBasicTimestampFlag = AMQP_BASIC_TIMESTAMP_FLAG;

// amqp_login is variadic (the SASL arguments), which Swift cannot call; this fixes the PLAIN method's two.
static inline amqp_rpc_reply_t CRabbitMQLoginPlain(amqp_connection_state_t state, const char *vhost, int heartbeat,
                                                   const char *user, const char *password) {
    return amqp_login(state, vhost, 0, AMQP_DEFAULT_FRAME_SIZE, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

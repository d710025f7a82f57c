// rabbitmq-c 0.11 (Debian's librabbitmq-dev): the connection API, the TCP and TLS sockets, framing helpers.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

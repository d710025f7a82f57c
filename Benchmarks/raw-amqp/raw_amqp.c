// The raw rabbitmq-c baseline for the RabbitMQ transport (issue #10): no Interchange code. One connection publishes
// N persistent messages to a durable topic exchange with publisher confirms, up to WINDOW unconfirmed in flight
// (settled by basic.ack with `multiple`); a second connection, on its own thread, consumes them from a durable
// queue with manual acks and prefetch PREFETCH. Prints publish msgs/s (all confirmed) and end-to-end msgs/s (all acked).
//
// Build: cc -O2 -o .build/raw-amqp Benchmarks/raw-amqp/raw_amqp.c -lrabbitmq -lpthread
// Run:   .build/raw-amqp amqp://guest:guest@127.0.0.1:5672/ [count=100000] [window=1024] [prefetch=256] [classic|quorum] [bytes=300]
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *url;
static long count = 100000, window = 1024, prefetch = 256, body_size = 300;
static const char *queue_type = "classic";
static char exchange[64], queue[64];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void die_on_reply(amqp_rpc_reply_t reply, const char *what) {
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return;
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
    fprintf(stderr, "%s: %s\n", what, amqp_error_string2(reply.library_error));
  else
    fprintf(stderr, "%s: the broker refused (method 0x%08x)\n", what, reply.reply.id);
  exit(1);
}

static amqp_connection_state_t open_connection(void) {
  struct amqp_connection_info info;
  char *copy = strdup(url);
  if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK) { fprintf(stderr, "bad URL\n"); exit(1); }
  if (info.vhost[0] == '\0') info.vhost = "/";  // amqp://host/ means the default vhost, as in Interchange
  amqp_connection_state_t conn = amqp_new_connection();
  amqp_socket_t *socket = amqp_tcp_socket_new(conn);
  if (amqp_socket_open(socket, info.host, info.port) != AMQP_STATUS_OK) { fprintf(stderr, "cannot connect\n"); exit(1); }
  die_on_reply(amqp_login(conn, info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 30, AMQP_SASL_METHOD_PLAIN, info.user, info.password), "login");
  amqp_channel_open(conn, 1);
  die_on_reply(amqp_get_rpc_reply(conn), "channel.open");
  free(copy);
  return conn;
}

static void *consume(void *done_at) {
  amqp_connection_state_t conn = open_connection();
  amqp_basic_qos(conn, 1, 0, (uint16_t)prefetch, 0);
  die_on_reply(amqp_get_rpc_reply(conn), "basic.qos");
  amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  die_on_reply(amqp_get_rpc_reply(conn), "basic.consume");
  for (long received = 0; received < count;) {
    amqp_envelope_t envelope;
    amqp_maybe_release_buffers(conn);
    amqp_rpc_reply_t reply = amqp_consume_message(conn, &envelope, NULL, 0);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) continue;
    amqp_basic_ack(conn, 1, envelope.delivery_tag, 0);
    amqp_destroy_envelope(&envelope);
    received++;
  }
  *(double *)done_at = now();
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
  return NULL;
}

// Reads one frame (waiting when `block`), settling confirms; returns how many publishes it confirmed.
static long read_confirms(amqp_connection_state_t conn, uint64_t *confirmed_up_to, int block) {
  amqp_frame_t frame;
  struct timeval zero = {0, 0};
  int status = amqp_simple_wait_frame_noblock(conn, &frame, block ? NULL : &zero);
  if (status == AMQP_STATUS_TIMEOUT) return 0;
  if (status != AMQP_STATUS_OK) { fprintf(stderr, "reading confirms: %s\n", amqp_error_string2(status)); exit(1); }
  if (frame.frame_type != AMQP_FRAME_METHOD) return 0;
  if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) { fprintf(stderr, "the broker nacked a publish\n"); exit(1); }
  if (frame.payload.method.id != AMQP_BASIC_ACK_METHOD) return 0;
  amqp_basic_ack_t *ack = frame.payload.method.decoded;
  uint64_t before = *confirmed_up_to;
  *confirmed_up_to = ack->multiple ? ack->delivery_tag : before + 1;  // RabbitMQ acks in order
  return (long)(*confirmed_up_to - before);
}

int main(int argc, char **argv) {
  url = argc > 1 ? argv[1] : getenv("INTERCHANGE_TEST_AMQP_URL");
  if (!url) { fprintf(stderr, "usage: raw-amqp AMQP_URL [count] [window] [prefetch] [classic|quorum] [bytes]\n"); return 2; }
  if (argc > 2) count = atol(argv[2]);
  if (argc > 3) window = atol(argv[3]);
  if (argc > 4) prefetch = atol(argv[4]);
  if (argc > 5) queue_type = argv[5];
  if (argc > 6) body_size = atol(argv[6]);
  snprintf(exchange, sizeof exchange, "raw-amqp.%d", (int)getpid());
  snprintf(queue, sizeof queue, "raw-amqp.%d.%s", (int)getpid(), queue_type);

  amqp_connection_state_t conn = open_connection();
  amqp_exchange_declare(conn, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
  die_on_reply(amqp_get_rpc_reply(conn), "exchange.declare");
  amqp_table_entry_t type_argument = {amqp_cstring_bytes("x-queue-type"), {AMQP_FIELD_KIND_UTF8, {.bytes = amqp_cstring_bytes(queue_type)}}};
  amqp_table_t arguments = {1, &type_argument};
  amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, arguments);
  die_on_reply(amqp_get_rpc_reply(conn), "queue.declare");
  amqp_queue_bind(conn, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), amqp_cstring_bytes("bench.#"), amqp_empty_table);
  die_on_reply(amqp_get_rpc_reply(conn), "queue.bind");
  amqp_confirm_select(conn, 1);
  die_on_reply(amqp_get_rpc_reply(conn), "confirm.select");

  char *body = malloc(body_size);
  memset(body, 'x', body_size);
  amqp_basic_properties_t properties;
  properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
  properties.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  properties.content_type = amqp_cstring_bytes("application/cloudevents+json");

  double consumed_at = 0;
  pthread_t consumer;
  pthread_create(&consumer, NULL, consume, &consumed_at);
  double start = now();
  uint64_t published = 0, confirmed = 0;
  while (confirmed < (uint64_t)count) {
    while (published < (uint64_t)count && published - confirmed < (uint64_t)window) {
      int status = amqp_basic_publish(conn, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("bench.event.created"), 0, 0,
                                      &properties, (amqp_bytes_t){(size_t)body_size, body});
      if (status != AMQP_STATUS_OK) { fprintf(stderr, "publish: %s\n", amqp_error_string2(status)); return 1; }
      published++;
      read_confirms(conn, &confirmed, 0);
    }
    read_confirms(conn, &confirmed, 1);
    amqp_maybe_release_buffers(conn);
  }
  double confirmed_at = now();
  pthread_join(consumer, NULL);
  printf("raw rabbitmq-c: %ld persistent messages of %ld bytes, %s queue, window %ld, prefetch %ld\n", count, body_size, queue_type, window, prefetch);
  printf("publish+confirm: %.0f msgs/s\n", count / (confirmed_at - start));
  printf("end to end (published, confirmed, consumed, acked): %.0f msgs/s\n", count / (consumed_at - start));

  amqp_queue_delete(conn, 1, amqp_cstring_bytes(queue), 0, 0);
  amqp_exchange_delete(conn, 1, amqp_cstring_bytes(exchange), 0);
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
  free(body);
  return 0;
}

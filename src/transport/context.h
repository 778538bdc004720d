// SPDX-License-Identifier: GPL-3.0-or-later
// What every connection handler needs: the API context and the limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "transport/http/api.h"

namespace parley::transport {

struct Limits {
  size_t max_ws_message_bytes = 256 * 1024;  // larger messages close the connection (1009)
  size_t max_http_body_bytes = 64 * 1024;
  // Per listener connection: speech is dropped beyond the soft bound; the
  // listener is disconnected beyond the hard bound, or when its oldest queued
  // message has waited longer than slow_listener_ms.
  size_t queue_soft_bytes = 512 * 1024;
  size_t queue_hard_bytes = 4 * 1024 * 1024;
  int64_t slow_listener_ms = 15000;
  int socket_send_buffer_bytes = 64 * 1024;  // bounds what the kernel hides from the queue
  int join_timeout_ms = 10000;               // a WebSocket must say who it is by then
};

struct Context {
  ApiContext api;
  Limits limits;
};

}  // namespace parley::transport

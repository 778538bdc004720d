// SPDX-License-Identifier: GPL-3.0-or-later
// The two kinds of connection the server speaks: plain TCP, and TLS over TCP
// (when the operator gives a certificate and key). Connection handlers are
// templates over these and instantiated for both.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace parley::transport {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
// A plain WebSocket runs on the bare socket once upgraded: Beast's timed
// stream costs a little on every write, and ten thousand listeners feel it
// (timeouts of WebSockets are parley's own timers).
using PlainSocket = boost::asio::ip::tcp::socket;

// The socket under any of them.
inline PlainSocket& socket_of(PlainSocket& s) { return s; }
inline PlainSocket& socket_of(boost::beast::tcp_stream& s) { return s.socket(); }

}  // namespace parley::transport

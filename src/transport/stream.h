// SPDX-License-Identifier: GPL-3.0-or-later
// The two kinds of connection the server speaks: plain TCP, and TLS over TCP
// (when the operator gives a certificate and key). Connection handlers are
// templates over these and instantiated for both.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace parley::transport {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

}  // namespace parley::transport

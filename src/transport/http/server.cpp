// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/server.h"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <array>
#include <limits>
#include <functional>
#include <type_traits>

#include "core/log.h"
#include "engines/language.h"
#include "session/session.h"
#include "transport/http/audio_stream.h"
#include "transport/http/engine_api.h"
#include "transport/http/rtc_routes.h"
#include "transport/ws/ws_session.h"

namespace parley::transport {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kHttpReadTimeout = std::chrono::seconds(30);
constexpr uint32_t kMaxHeaderBytes = 8 * 1024;
constexpr auto kUploadReadTimeout = std::chrono::seconds(300);  // 25 MB over a slow uplink
constexpr auto kLingerTimeout = std::chrono::seconds(5);
constexpr size_t kMaxLingerBytes = 64u << 20;

constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);

// Routes whose answer may read or write the store (sessions: creation,
// lookups of ended ones, history, transcripts; conversations and their
// exports; the listener, overlay, embed and conversation pages' lookups).
bool may_block(std::string_view path) {
  for (std::string_view prefix : {"/api/sessions", "/api/conversations", "/listener/", "/overlay/", "/embed/", "/c/"}) {
    if (path.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// handle_request, with an exception turned into a 500 for this request alone.
Response answer(const ApiContext& api, const Request& req, const Client& client) {
  try {
    return handle_request(api, req, client);
  } catch (const std::exception& e) {
    if (api.metrics != nullptr) ++api.metrics->handler_exceptions;
    core::log_error("http", std::string("a request handler threw: ") + e.what());
    return error_response(req, core::internal_error("the server failed on this request; it has been logged"));
  }
}

// One HTTP connection: reads requests, answers them, hands WebSocket
// upgrades and audio streams to their own session types. Over TLS it first
// does the handshake; everything after is the same.
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream stream, const Context& ctx, size_t lane, Client client, std::shared_ptr<guard::Guard::Slot> slot)
      : stream_(std::move(stream)), ctx_(ctx), lane_(lane), client_(std::move(client)), proxy_address_(client_.address),
        slot_(std::move(slot)) {}

  ~HttpSession() { release_upload(); }

  void run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->start(); });
  }

 private:
  void start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(kTlsHandshakeTimeout);
      stream_.async_handshake(net::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->close();  // not TLS, or a bad client: nothing to answer
        self->read();
      });
    } else {
      read();
    }
  }

  void read() {
    release_upload();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // Beast compares Content-Length with the limit as the headers end:
    // on_header sets the limit for this request and compares itself.
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    beast::get_lowest_layer(stream_).expires_after(kHttpReadTimeout);
    beast::http::async_read_header(stream_, buffer_, *parser_,
                                   beast::bind_front_handler(&HttpSession::on_header, this->shared_from_this()));
  }

  // The headers say how large a body this request may have: uploads to the
  // engine API take more than the rest. A client that waits for
  // "100 Continue" (curl does above 1 MB) gets it first.
  void on_header(beast::error_code ec, size_t) {
    if (ec) return on_read(ec, 0);
    if (client_.via_proxy) {
      // Each request through a trusted proxy counts for the client it forwarded.
      // Every X-Forwarded-For line, in order: the proxy's own entry is the last.
      std::string xff;
      for (const auto& f : parser_->get()) {
        if (beast::iequals(f.name_string(), "X-Forwarded-For")) {
          if (!xff.empty()) xff += ',';
          xff.append(f.value().data(), f.value().size());
        }
      }
      const auto forwarded = TrustedProxies::last_forwarded(xff);
      client_.address = forwarded ? *forwarded : proxy_address_;
    }
    const Target t = parse_target(parser_->get().target());
    const bool upload = ctx_.api.engine_pool && is_engine_upload_target(t.path);
    // A session's words may be large, but only from someone with a token
    // (checked after the body): anonymous requests keep the small limit.
    const bool words = is_words_target(t.path) && parser_->get().count(beast::http::field::authorization) != 0;
    body_limit_ = upload  ? ctx_.api.engine_api_max_upload_bytes
                  : words ? std::max<uint64_t>(kWordsBodyBytes, ctx_.limits.max_http_body_bytes)
                          : ctx_.limits.max_http_body_bytes;
    parser_->body_limit(body_limit_);
    if (upload) beast::get_lowest_layer(stream_).expires_after(kUploadReadTimeout);
    if (parser_->content_length() && *parser_->content_length() > body_limit_) {
      return on_read(beast::http::error::body_limit, 0);
    }
    if (is_engine_api_target(t.path)) {
      // Refused before the body is read: a switched-off API, a wrong key,
      // or more upload bytes in flight than the server holds.
      const auto& head = parser_->get();
      if (!ctx_.api.engine_pool) {
        return refuse_early(engine_refusal(head, core::not_found("the engine API is off on this server (serve --engine-api on)")));
      }
      if (auto st = check_engine_bearer(ctx_.api, head, client_); !st) return refuse_early(engine_refusal(head, st));
      if (upload) {
        // A chunked body may grow to the limit; a request without a body reserves nothing.
        const uint64_t want = parser_->chunked() ? body_limit_ : parser_->content_length().value_or(0);
        auto& in_flight = *ctx_.api.engine_upload_bytes;
        if (in_flight.fetch_add(want) + want > ctx_.api.engine_api_max_upload_bytes_in_flight) {
          in_flight.fetch_sub(want);
          auto res = engine_refusal(head, core::unavailable("this server is receiving as many uploads as it holds; retry in a few seconds"));
          res.set(beast::http::field::retry_after, "5");
          return refuse_early(std::move(res));
        }
        reserved_upload_ = want;
      }
    }
    // A chunked body is held to the limit as it arrives.
    const auto expect = parser_->get()[beast::http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      auto cont = std::make_shared<beast::http::response<beast::http::empty_body>>(beast::http::status::continue_, 11);
      beast::http::async_write(stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code wec, size_t) {
        if (wec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    beast::http::async_read(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == beast::http::error::end_of_stream || ec == beast::error::timeout) return close();
    if (ec == beast::http::error::body_limit || ec == beast::http::error::header_limit) {
      // Answered, then closed: the rest of the request is not read.
      Request req;
      req.version(11);
      const bool body = ec == beast::http::error::body_limit;
      auto res = error_response(req, core::invalid_argument(
                                         body ? "request body too large (at most " +
                                                    std::to_string(body_limit_) + " bytes)"
                                              : "request headers too large (at most " + std::to_string(kMaxHeaderBytes) + " bytes)"));
      res.result(body ? beast::http::status::payload_too_large
                      : beast::http::status::request_header_fields_too_large);
      res.keep_alive(false);
      linger_ = true;  // the client may still be sending: read it away, so it reads the answer
      return write(std::move(res), true);
    }
    if (ec) return close();
    Request req = parser_->release();
    const Target t = parse_target(req.target());
    if (beast::websocket::is_upgrade(req)) {
      if (t.path != "/ws") return write(error_response(req, core::not_found("WebSocket endpoint is /ws")), true);
      if (client_.via_proxy && ctx_.api.guard) {
        // A socket through the proxy is one client's: its address's cap holds.
        slot_ = ctx_.api.guard->open_connection(client_.address);
        if (!slot_) {
          auto res = error_response(req, core::resource_exhausted("too many connections from your address"));
          res.result(beast::http::status::service_unavailable);
          return write(std::move(res), true);
        }
      }
      beast::get_lowest_layer(stream_).expires_never();
      if constexpr (std::is_same_v<Stream, PlainStream>) {
        std::make_shared<WsSession<PlainSocket>>(stream_.release_socket(), ctx_, lane_, client_, slot_)->run(std::move(req));
      } else {
        std::make_shared<WsSession<Stream>>(std::move(stream_), ctx_, lane_, client_, slot_)->run(std::move(req));
      }
      return;
    }
    if (t.path.rfind("/listen/", 0) == 0 && req.method() == beast::http::verb::get) return stream_audio(req, t);
    if (is_rtc_target(t.path)) {
      // Answered later (ICE gathering), from the WebRTC thread: write on ours.
      const bool close_after = !req.keep_alive();
      handle_rtc(ctx_.api, req, client_, [self = this->shared_from_this(), close_after](Response res) {
        net::post(self->stream_.get_executor(), [self, close_after, res = std::move(res)]() mutable {
          self->write(std::move(res), close_after);
        });
      });
      return;
    }
    const bool close_after = !req.keep_alive();
    if (is_engine_api_target(t.path)) return engine_request(std::move(req), close_after);
    if (!ctx_.api.blocking || !may_block(t.path)) return write(answer(ctx_.api, req, client_), close_after);
    // Off the network thread: the answer may need the store.
    auto shared = std::make_shared<Request>(std::move(req));
    const bool queued = ctx_.api.blocking->submit([self = this->shared_from_this(), shared, close_after] {
      Response res = answer(self->ctx_.api, *shared, self->client_);
      net::post(self->stream_.get_executor(), [self, close_after, res = std::move(res)]() mutable {
        self->write(std::move(res), close_after);
      });
    });
    if (!queued) {
      auto res = error_response(*shared, core::unavailable("the server is busy; retry in a second"));
      res.set(beast::http::field::retry_after, "1");
      write(std::move(res), close_after);
    }
  }

  // Answers at once and closes, reading away what the client still sends.
  void refuse_early(Response res) {
    res.keep_alive(false);  // Connection: close — the client must not reuse it
    linger_ = true;
    write(std::move(res), true);
  }

  void release_upload() {
    if (reserved_upload_ > 0) ctx_.api.engine_upload_bytes->fetch_sub(reserved_upload_);
    reserved_upload_ = 0;
  }

  // The client hung up while its request waited: nobody will read the answer.
  bool peer_gone() {
    char c = 0;
    const int fd = beast::get_lowest_layer(stream_).socket().native_handle();
    const ssize_t r = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    // 0: the client closed (HTTP clients do not half-close while they wait
    // for an answer); an error other than "nothing yet": reset.
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }

  // The engine APIs run on their own pool: a transcription takes seconds.
  void engine_request(Request req, bool close_after) {
    if (!ctx_.api.engine_pool) {
      return write(error_response(req, core::not_found("the engine API is off on this server (serve --engine-api on)")),
                   close_after);
    }
    auto shared = std::make_shared<Request>(std::move(req));
    const bool queued = ctx_.api.engine_pool->submit([self = this->shared_from_this(), shared, close_after] {
      if (self->peer_gone()) {
        if (self->ctx_.api.metrics != nullptr) ++self->ctx_.api.metrics->engine_api_abandoned;
        net::post(self->stream_.get_executor(), [self] { self->close(); });
        return;
      }
      Response res = handle_engine_request(self->ctx_.api, *shared, self->client_);
      net::post(self->stream_.get_executor(), [self, close_after, res = std::move(res)]() mutable {
        self->write(std::move(res), close_after);
      });
    });
    if (!queued) write(engine_busy_response(ctx_.api, *shared), close_after);
  }

  // /listen/<code>/<lang>.ogg
  void stream_audio(const Request& req, const Target& t) {
    std::string rest = t.path.substr(std::string("/listen/").size());
    auto slash = rest.find('/');
    std::string code = rest.substr(0, slash);
    std::string file = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (file.size() < 5 || file.substr(file.size() - 4) != ".ogg") {
      return write(error_response(req, core::not_found("stream URLs look like /listen/<code>/<lang>.ogg")), true);
    }
    auto found = find_live(ctx_.api, client_, code);
    if (!found) return write(error_response(req, found.status()), true);
    auto live = std::move(*found);
    auto lang = engines::normalize_language(file.substr(0, file.size() - 4));
    if (!lang) return write(error_response(req, core::not_found("'" + file.substr(0, 16) + "' is not <language>.ogg")), true);
    if (auto st = live->check_audio_stream(*lang); !st) return write(error_response(req, st), true);
    beast::get_lowest_layer(stream_).expires_never();
    auto s = std::make_shared<AudioStreamSession<Stream>>(std::move(stream_), ctx_, live, *lang, slot_);
    s->run();
  }

  void write(Response res, bool close_after) {
    auto sp = std::make_shared<Response>(std::move(res));
    beast::get_lowest_layer(stream_).expires_after(kHttpReadTimeout);
    beast::http::async_write(stream_, *sp, [self = this->shared_from_this(), sp, close_after](beast::error_code ec, size_t) {
      if (ec || close_after || sp->need_eof()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    if (linger_ && !ec) drain();
  }

  // After refusing a request whose body is still arriving: discards what the
  // client sends for a few seconds, so that closing does not reset the
  // connection (and the answer with it) before the client has read it.
  void drain() {
    linger_ = false;
    beast::get_lowest_layer(stream_).expires_after(kLingerTimeout);
    auto buf = std::make_shared<std::array<char, 16384>>();
    auto left = std::make_shared<size_t>(kMaxLingerBytes);
    auto step = std::make_shared<std::function<void(beast::error_code, size_t)>>();
    *step = [self = this->shared_from_this(), buf, left, step](beast::error_code ec, size_t n) mutable {
      if (ec || n >= *left) {
        *step = nullptr;  // breaks the cycle: the session can go
        return;
      }
      *left -= n;
      beast::get_lowest_layer(self->stream_).async_read_some(net::buffer(*buf), *step);
    };
    beast::get_lowest_layer(stream_).async_read_some(net::buffer(*buf), *step);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  const Context& ctx_;
  size_t lane_;
  Client client_;
  boost::asio::ip::address proxy_address_;  // the peer (a trusted proxy when client_.via_proxy)
  std::shared_ptr<guard::Guard::Slot> slot_;  // this connection's place in its address's cap
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  uint64_t body_limit_ = 0;  // of the request being read
  uint64_t reserved_upload_ = 0;  // this request's share of ApiContext::engine_upload_bytes
  bool linger_ = false;      // drain the connection after the answer (a refused body)
};

// Each network thread runs an I/O context of its own, and a lane is one of
// those contexts: a lane's tasks run one at a time, in order, on its thread.
// No strand and no shared scheduler: a completion on one thread never takes
// a lock or wakes the other thread, which a shared context did for every
// write. Lanes are spread over the threads in turn.
using Lane = net::io_context::executor_type;

class LaneDispatcher final : public fanout::Dispatcher {
 public:
  explicit LaneDispatcher(std::vector<Lane> lanes) : lanes_(std::move(lanes)) {}
  size_t lanes() const override { return lanes_.size(); }
  void dispatch(size_t lane, std::function<void()> task) override {
    net::post(lanes_[lane % lanes_.size()], std::move(task));
  }

 private:
  std::vector<Lane> lanes_;
};

}  // namespace

struct Server::Impl {
  explicit Impl(ServerConfig c) : config(std::move(c)), contexts(make_contexts(config.io_threads)), ioc(*contexts[0]),
                                   acceptor(ioc) {
    for (size_t i = 0; i < Server::kLanes; ++i) lanes.push_back(contexts[i % contexts.size()]->get_executor());
    for (auto& context : contexts) keep_running.push_back(net::make_work_guard(*context));
  }

  static std::vector<std::unique_ptr<net::io_context>> make_contexts(int threads) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (int i = 0; i < std::max(1, threads); ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  void accept(const Context& ctx) {
    // Connections take the lanes in turn.
    const size_t lane = next_lane++ % lanes.size();
    acceptor.async_accept(lanes[lane], [this, &ctx, lane](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      Client client;
      std::shared_ptr<guard::Guard::Slot> slot;
      if (!ec) {
        beast::error_code peer_ec;
        client.address = socket.remote_endpoint(peer_ec).address();
        // A trusted proxy's connections carry many clients: each is capped
        // by its forwarded address instead (a WebSocket when it upgrades).
        client.via_proxy = !peer_ec && ctx.api.trusted_proxies.contains(client.address);
        if (!peer_ec && ctx.api.guard && !client.via_proxy) slot = ctx.api.guard->open_connection(client.address);
        if (peer_ec || (ctx.api.guard && !slot && !client.via_proxy)) {
          // Over the per-address cap (counted), or already gone: closed unread.
          socket.close(peer_ec);
          accept(ctx);
          return;
        }
      }
      if (!ec && tls) {
        std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *tls), ctx, lane, client, slot)->run();
      } else if (!ec) {
        std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), ctx, lane, client, slot)->run();
      } else if (ec == net::error::no_descriptors) {
        core::log_warn("http", "out of file descriptors; refusing connections for 100 ms");
        backoff.expires_after(std::chrono::milliseconds(100));
        backoff.async_wait([this, &ctx](beast::error_code) { accept(ctx); });
        return;
      }
      accept(ctx);
    });
  }

  ServerConfig config;
  std::vector<std::unique_ptr<net::io_context>> contexts;  // one per network thread
  net::io_context& ioc;  // the first: accepting, timers, shutdown
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::vector<Lane> lanes;
  size_t next_lane = 0;  // accept() runs one at a time
  tcp::acceptor acceptor;
  net::steady_timer backoff{ioc};
  std::unique_ptr<net::ssl::context> tls;  // set when serving HTTPS
  // A function run every period on the I/O loop until stop().
  struct Periodic {
    Periodic(net::io_context& ioc, std::chrono::milliseconds p, std::function<void()> f)
        : timer(ioc), period(p), fn(std::move(f)) {}
    void arm() {
      timer.expires_after(period);
      timer.async_wait([this](beast::error_code ec) {
        if (ec) return;
        fn();
        arm();
      });
    }
    net::steady_timer timer;
    std::chrono::milliseconds period;
    std::function<void()> fn;
  };
  std::vector<std::unique_ptr<Periodic>> periodics;
  net::steady_timer grace{ioc};
  std::atomic<bool> stopped{false};
};

Server::Server(ServerConfig config, Context context)
    : context_(std::make_unique<Context>(std::move(context))), impl_(std::make_unique<Impl>(std::move(config))) {}

Server::~Server() {
  stop(std::chrono::milliseconds(0));
}

bool Server::tls() const { return impl_->tls != nullptr; }

std::shared_ptr<fanout::Dispatcher> Server::dispatcher() { return std::make_shared<LaneDispatcher>(impl_->lanes); }

core::Status Server::listen() {
  beast::error_code ec;
  const auto& c = impl_->config;
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return core::invalid_argument("TLS needs both a certificate (--tls-cert) and its private key (--tls-key)");
  }
  if (!c.tls_cert_file.empty()) {
    auto tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 |
                     net::ssl::context::single_dh_use);
    tls->use_certificate_chain_file(c.tls_cert_file, ec);
    if (ec) return core::invalid_argument("cannot use certificate " + c.tls_cert_file + ": " + ec.message() +
                                          " (a PEM file with the certificate chain is expected)");
    tls->use_private_key_file(c.tls_key_file, net::ssl::context::pem, ec);
    if (ec) return core::invalid_argument("cannot use private key " + c.tls_key_file + ": " + ec.message() +
                                          " (a PEM key matching the certificate is expected)");
    impl_->tls = std::move(tls);
  }
  auto address = net::ip::make_address(impl_->config.host, ec);
  if (ec) return core::invalid_argument("'" + impl_->config.host + "' is not an IP address to listen on");
  tcp::endpoint ep(address, impl_->config.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::unavailable("cannot listen on " + impl_->config.host + ":" + std::to_string(impl_->config.port) +
                             ": " + ec.message() + (ec == net::error::address_in_use ? "; choose another --port" : ""));
  }
  impl_->accept(*context_);
  return {};
}

uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::every(std::chrono::milliseconds period, std::function<void()> fn) {
  auto p = std::make_unique<Impl::Periodic>(impl_->ioc, period, std::move(fn));
  p->arm();
  impl_->periodics.push_back(std::move(p));
}

namespace {
// Runs a network thread's loop. A handler that throws is logged and the loop
// goes on (Asio leaves the context usable): one bad request must not end the
// process. Handlers catch what they expect themselves; this is the backstop.
void run_loop(net::io_context& ioc, Metrics* metrics) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      if (metrics != nullptr) ++metrics->handler_exceptions;
      core::log_error("http", std::string("a handler threw (the server carries on): ") + e.what());
    }
  }
}
}  // namespace

void Server::run() {
  auto* metrics = context_->api.metrics;
  std::vector<std::thread> extra;
  for (size_t i = 1; i < impl_->contexts.size(); ++i) {
    extra.emplace_back([this, i, metrics] { run_loop(*impl_->contexts[i], metrics); });
  }
  run_loop(impl_->ioc, metrics);
  for (auto& t : extra) t.join();
}

void Server::stop(std::chrono::milliseconds grace) {
  if (impl_->stopped.exchange(true)) return;
  net::post(impl_->ioc, [this, grace] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    for (auto& p : impl_->periodics) p->timer.cancel();
    // Connections still open after the grace period are cut.
    impl_->grace.expires_after(grace);
    impl_->grace.async_wait([this](beast::error_code) {
      impl_->keep_running.clear();
      for (auto& c : impl_->contexts) c->stop();
    });
  });
}

}  // namespace parley::transport

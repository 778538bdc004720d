// SPDX-License-Identifier: GPL-3.0-or-later
#include "fanout/redis_bus.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "core/log.h"

namespace parley::fanout {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

using Reply = const redisReply*;
// nullptr: the connection went down before the reply came.
using ReplyFn = std::function<void(Reply)>;

// A kept message: appended to the topic's log and published with its id.
// KEYS: log, channel and, for a fenced one, the lease's fencing counter.
// ARGV: message, length, and the publisher's fence. Nil, and nothing kept,
// when a newer fence was handed out since.
constexpr const char* kKeepScript = R"lua(
if KEYS[3] then
  local newest = tonumber(redis.call('GET', KEYS[3]) or '0')
  if newest > tonumber(ARGV[3]) then return false end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
return id
)lua";

constexpr const char* kPutScript = R"lua(
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], '+' .. ARGV[1] .. '\n' .. ARGV[2])
return 1
)lua";

constexpr const char* kEraseScript = R"lua(
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', KEYS[2], '-' .. ARGV[1]) end
return 1
)lua";

// KEYS: lease, fencing counter. ARGV: holder, ttl_ms. The new fence, or nil when held.
// A counter Redis does not have (new, expired, or lost in a restart
// without persistence) starts from Redis's clock in milliseconds, above
// any fence handed out before: views drop events from fences older than
// the newest they saw, so the counter must never go back.
constexpr const char* kAcquireScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local f
if redis.call('EXISTS', KEYS[2]) == 1 then
  f = redis.call('INCR', KEYS[2])
else
  local t = redis.call('TIME')
  f = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('SET', KEYS[2], f)
end
redis.call('PEXPIRE', KEYS[2], 86400000)
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. f, 'PX', ARGV[2])
return f
)lua";

// ARGV: holder, ttl_ms, the holder's fence. The fence, or nil when lost.
// A lease Redis forgot (a restart without persistence) goes back to its
// holder unless a newer fence was handed out meanwhile: the counter never
// goes back.
constexpr const char* kRenewScript = R"lua(
local cur = redis.call('GET', KEYS[1])
if not cur then
  local f = tonumber(ARGV[3])
  if f == nil or f <= 0 then return false end
  local c = tonumber(redis.call('GET', KEYS[2]) or '0')
  if c > f then return false end
  redis.call('SET', KEYS[2], f, 'PX', 86400000)
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. f, 'PX', ARGV[2])
  return f
end
local sp = string.find(cur, ' ', 1, true)
if not sp or string.sub(cur, 1, sp - 1) ~= ARGV[1] then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return tonumber(string.sub(cur, sp + 1))
)lua";

constexpr const char* kReleaseScript = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then redis.call('DEL', KEYS[1]) end
return 1
)lua";

// How far ahead of this node's clock a Stream id may be (clock skew between
// Redis's host and this one).
constexpr uint64_t kIdAheadToleranceMs = 10 * 60 * 1000;

std::string log_key(const std::string& topic) {
  return topic + ":log";
}
std::string changes_channel(const std::string& table) {
  return table + ":changes";
}

// A Stream id "ms-seq" as a comparable pair; {0, 0} for anything else.
std::pair<uint64_t, uint64_t> stream_id(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return {0, 0};
  try {
    return {std::stoull(std::string(id.substr(0, dash))),
            std::stoull(std::string(id.substr(dash + 1)))};
  } catch (const std::exception&) {
    return {0, 0};
  }
}

std::string_view str(Reply r) {
  if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS &&
             r->type != REDIS_REPLY_ERROR)) {
    return {};
  }
  return {r->str, r->len};
}

// One TCP connection to Redis. Commands go out in order; in command mode
// each reply goes to its command's callback, in subscriber mode every reply
// goes to on_push. io thread only.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& io, RedisOptions options, std::string name, bool subscriber)
      : io_(io),
        options_(std::move(options)),
        name_(std::move(name)),
        subscriber_(subscriber),
        socket_(io),
        resolver_(io),
        retry_(io) {}
  ~Connection() {
    if (reader_) redisReaderFree(reader_);
  }

  std::function<void()> on_up;
  std::function<void()> on_down;
  std::function<void(Reply)> on_push;

  void start() { connect(); }
  void stop() {
    stopped_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    retry_.cancel();
  }
  bool up() const { return up_; }
  uint64_t reconnects() const { return reconnects_; }

  // False when down (fn is not called then).
  bool send(const std::vector<std::string>& argv, ReplyFn fn) {
    if (!up_) return false;
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    char* cmd = nullptr;
    const int n =
        redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), args.data(), lens.data());
    if (n < 0 || cmd == nullptr) return false;
    out_.append(cmd, static_cast<size_t>(n));
    redisFreeCommand(cmd);
    if (!subscriber_) waiting_.push_back(std::move(fn));
    write_next();
    return true;
  }

 private:
  void connect() {
    if (stopped_) return;
    auto self = shared_from_this();
    resolver_.async_resolve(
        options_.host, std::to_string(options_.port),
        [self](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
          if (ec) return self->fail("cannot resolve " + self->options_.host + ": " + ec.message());
          net::async_connect(self->socket_, results,
                             [self](const boost::system::error_code& ec2, const tcp::endpoint&) {
                               if (ec2) return self->fail(ec2.message());
                               self->connected();
                             });
        });
  }

  void connected() {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    // A peer that vanished without a reset (its host died, a NAT forgot the
    // connection) is found within about 20 s, for the subscriber
    // connection that otherwise waits silently for ever; and writes that
    // nobody acknowledges fail after 20 s.
    socket_.set_option(net::socket_base::keep_alive(true), ec);
    const int fd = socket_.native_handle();
    const int idle = 10, interval = 3, count = 3, unacked_ms = 20000;
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &unacked_ms, sizeof unacked_ms);
    if (reader_) redisReaderFree(reader_);
    reader_ = redisReaderCreate();
    up_ = true;
    if (backoff_ms_ > 100 || reconnects_ > 0) {
      core::log_info("bus", "redis " + name_ + " connection to " + options_.host + ":" +
                                std::to_string(options_.port) + " is up");
    }
    backoff_ms_ = 100;
    read();
    if (!options_.password.empty()) {
      // First on the connection: every command after it is answered (or,
      // on the subscriber connection, refused) in order.
      std::vector<std::string> auth{"AUTH"};
      if (!options_.user.empty()) auth.push_back(options_.user);
      auth.push_back(options_.password);
      std::weak_ptr<Connection> weak = weak_from_this();
      send(auth, [weak](Reply r) {
        auto self = weak.lock();
        if (self && r && r->type == REDIS_REPLY_ERROR)
          self->fail("Redis refused the password: " + std::string(str(r)));
      });
    }
    if (on_up) on_up();
  }

  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(net::buffer(buf_),
                            [self](const boost::system::error_code& ec, size_t n) {
                              if (ec) return self->fail(ec.message());
                              if (redisReaderFeed(self->reader_, self->buf_.data(), n) != REDIS_OK)
                                return self->fail("unreadable reply");
                              for (;;) {
                                void* reply = nullptr;
                                if (redisReaderGetReply(self->reader_, &reply) != REDIS_OK)
                                  return self->fail("unreadable reply");
                                if (!reply) break;
                                auto* r = static_cast<redisReply*>(reply);
                                if (self->subscriber_ && r->type == REDIS_REPLY_ERROR) {
                                  // AUTH or SUBSCRIBE refused: say so, and try again later.
                                  std::string why(str(r));
                                  freeReplyObject(r);
                                  return self->fail("Redis says: " + why);
                                }
                                if (self->subscriber_) {
                                  if (self->on_push) self->on_push(r);
                                } else if (!self->waiting_.empty()) {
                                  auto fn = std::move(self->waiting_.front());
                                  self->waiting_.pop_front();
                                  if (fn) fn(r);
                                }
                                freeReplyObject(r);
                                if (!self->up_) return;  // a callback stopped it
                              }
                              self->read();
                            });
  }

  void write_next() {
    if (writing_ || out_.empty() || !up_) return;
    writing_ = true;
    sending_.swap(out_);
    out_.clear();
    auto self = shared_from_this();
    net::async_write(socket_, net::buffer(sending_),
                     [self](const boost::system::error_code& ec, size_t) {
                       self->writing_ = false;
                       self->sending_.clear();
                       if (ec) return self->fail(ec.message());
                       self->write_next();
                     });
  }

  void fail(const std::string& why) {
    const bool was_up = up_;
    up_ = false;
    boost::system::error_code ec;
    socket_.close(ec);
    out_.clear();
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& fn : waiting) {
      if (fn) fn(nullptr);
    }
    if (stopped_) return;
    if (was_up) {
      ++reconnects_;
      core::log_warn("bus", "redis " + name_ + " connection lost (" + why + "); reconnecting");
      if (on_down) on_down();
    } else if (backoff_ms_ >= 2000 && ++quiet_failures_ % 15 == 1) {
      core::log_warn("bus", "redis at " + options_.host + ":" + std::to_string(options_.port) +
                                " does not answer (" + why + "); still trying");
    }
    retry_.expires_after(std::chrono::milliseconds(backoff_ms_));
    backoff_ms_ = std::min(backoff_ms_ * 2, 2000);
    auto self = shared_from_this();
    retry_.async_wait([self](const boost::system::error_code& timer_ec) {
      if (!timer_ec) self->connect();
    });
  }

  net::io_context& io_;
  const RedisOptions options_;
  const std::string name_;
  const bool subscriber_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  net::steady_timer retry_;
  redisReader* reader_ = nullptr;
  std::array<char, 64 * 1024> buf_{};
  std::string out_, sending_;
  bool writing_ = false;
  std::deque<ReplyFn> waiting_;
  bool up_ = false;
  bool stopped_ = false;
  int backoff_ms_ = 100;
  uint64_t reconnects_ = 0;
  uint64_t quiet_failures_ = 0;
};

class Cancel final : public Bus::Subscription {
 public:
  explicit Cancel(std::function<void()> fn) : fn_(std::move(fn)) {}
  ~Cancel() override { fn_(); }

 private:
  std::function<void()> fn_;
};

}  // namespace

core::Result<RedisOptions> parse_redis_address(const std::string& address) {
  std::string a = address;
  if (a.rfind("redis://", 0) == 0) a = a.substr(8);
  while (!a.empty() && a.back() == '/') a.pop_back();
  RedisOptions o;
  if (const auto at = a.rfind('@'); at != std::string::npos) {
    const std::string credentials = a.substr(0, at);
    a = a.substr(at + 1);
    const auto colon = credentials.find(':');
    if (colon == std::string::npos) {
      o.password = credentials;
    } else {
      o.user = credentials.substr(0, colon);
      o.password = credentials.substr(colon + 1);
    }
  }
  const auto colon = a.rfind(':');
  if (colon != std::string::npos) {
    try {
      size_t used = 0;
      o.port = std::stoi(a.substr(colon + 1), &used);
      if (used != a.size() - colon - 1 || o.port <= 0 || o.port > 65535)
        throw std::out_of_range("port");
    } catch (const std::exception&) {
      return core::invalid_argument(
          "'" + a + "' is not a Redis address; write host:port, e.g. 127.0.0.1:6379");
    }
    a = a.substr(0, colon);
  }
  if (a.empty())
    return core::invalid_argument("a Redis address names no host; write host:port");
  o.host = a;
  return o;
}

class RedisBus::Impl : public std::enable_shared_from_this<Impl> {
 public:
  explicit Impl(RedisOptions options)
      : options_(std::move(options)), guard_(net::make_work_guard(io_)) {}

  void start() {
    cmd_ = std::make_shared<Connection>(io_, options_, "command", false);
    sub_ = std::make_shared<Connection>(io_, options_, "subscriber", true);
    std::weak_ptr<Impl> weak = weak_from_this();
    cmd_->on_up = [weak] {
      if (auto self = weak.lock()) self->command_up();
    };
    sub_->on_up = [weak] {
      if (auto self = weak.lock()) self->subscriber_up();
    };
    sub_->on_down = [weak] {
      if (auto self = weak.lock()) self->subscriber_down();
    };
    sub_->on_push = [weak](Reply r) {
      if (auto self = weak.lock()) self->pushed(r);
    };
    net::post(io_, [c = cmd_, s = sub_] {
      c->start();
      s->start();
    });
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop() {
    net::post(io_, [this] {
      cmd_->stop();
      sub_->stop();
      guard_.reset();
    });
    if (thread_.joinable()) thread_.join();
  }

  bool wait_connected(int timeout_ms) const {
    std::unique_lock lock(state_mu_);
    return state_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                              [&] { return cmd_up_ && sub_up_; });
  }

  // ---- publishing (any thread) ----

  void publish(const std::string& topic, std::string message, bool keep) {
    net::post(io_,
              [self = shared_from_this(), topic, message = std::move(message), keep]() mutable {
                if (keep) {
                  self->queued({"EVAL", kKeepScript, "2", log_key(topic), topic, std::move(message),
                                std::to_string(self->options_.log_length)},
                               true);
                } else if (self->cmd_->send({"PUBLISH", topic, "- " + message}, nullptr)) {
                  ++self->published_;
                } else {
                  ++self->dropped_;
                }
              });
  }

  void publish_fenced(const std::string& topic, std::string message, const std::string& lease, int64_t token) {
    net::post(io_, [self = shared_from_this(), topic, message = std::move(message), lease, token]() mutable {
      self->queued({"EVAL", kKeepScript, "3", log_key(topic), topic, lease + ":fence", std::move(message),
                    std::to_string(self->options_.log_length), std::to_string(token)},
                   true);
    });
  }

  void retire(const std::string& topic, int64_t after_ms) {
    net::post(io_, [self = shared_from_this(), topic, after_ms] {
      self->queued({"PEXPIRE", log_key(topic), std::to_string(after_ms)}, false);
    });
  }

  void put(const std::string& table, const std::string& key, std::string value) {
    net::post(io_, [self = shared_from_this(), table, key, value = std::move(value)]() mutable {
      self->queued({"EVAL", kPutScript, "2", table, changes_channel(table), key, std::move(value)},
                   false);
    });
  }

  void erase(const std::string& table, const std::string& key) {
    net::post(io_, [self = shared_from_this(), table, key] {
      self->queued({"EVAL", kEraseScript, "2", table, changes_channel(table), key}, false);
    });
  }

  void acquire(const std::string& name, const std::string& holder, int64_t ttl_ms, LeaseDone done) {
    net::post(
        io_, [self = shared_from_this(), name, holder, ttl_ms, done = std::move(done)]() mutable {
          // Not queued while down: the caller waits a bounded time and says so.
          self->cmd_->send(
              {"EVAL", kAcquireScript, "2", name, name + ":fence", holder, std::to_string(ttl_ms)},
              [self, name, done](Reply r) {
                if (!r) return;  // no answer: the caller's wait says so
                if (r->type != REDIS_REPLY_INTEGER) return done(std::nullopt);
                self->fences_[name] = r->integer;
                done(r->integer);
              });
        });
  }

  void renew(const std::string& name, const std::string& holder, int64_t ttl_ms, LeaseDone done) {
    net::post(io_,
              [self = shared_from_this(), name, holder, ttl_ms, done = std::move(done)]() mutable {
                const auto f = self->fences_.count(name) ? self->fences_[name] : 0;
                // While Redis is away there is no news: the lease is neither renewed
                // nor known lost (it will be taken back on reconnect if still free).
                self->cmd_->send({"EVAL", kRenewScript, "2", name, name + ":fence", holder,
                                  std::to_string(ttl_ms), std::to_string(f)},
                                 [done](Reply r) {
                                   if (!r || r->type == REDIS_REPLY_ERROR) return;
                                   if (r->type != REDIS_REPLY_INTEGER) return done(std::nullopt);
                                   done(r->integer);
                                 });
              });
  }

  void release(const std::string& name, const std::string& holder) {
    net::post(io_, [self = shared_from_this(), name, holder] {
      self->fences_.erase(name);
      self->queued({"EVAL", kReleaseScript, "1", name, holder}, false);
    });
  }

  // ---- subscriptions (any thread) ----

  std::unique_ptr<Subscription> subscribe(const std::string& topic, Handler handler,
                                          std::function<void()> caught_up) {
    const uint64_t id = next_id_.fetch_add(1);
    auto alive = std::make_shared<std::atomic<bool>>(true);
    net::post(io_, [self = shared_from_this(), id, topic, alive, handler = std::move(handler),
                    caught_up = std::move(caught_up)]() mutable {
      Sub s;
      s.topic = topic;
      s.handler = std::move(handler);
      s.caught_up = std::move(caught_up);
      s.alive = alive;
      self->subs_.emplace(id, std::move(s));
      if (self->topic_refs_[topic]++ == 0) {
        self->sub_->send({"SUBSCRIBE", topic}, nullptr);
      } else if (self->confirmed_.count(topic) != 0) {
        self->catch_up(id);
      }
    });
    std::weak_ptr<Impl> weak = weak_from_this();
    return std::make_unique<Cancel>([weak, id, alive] {
      alive->store(false);
      if (auto self = weak.lock()) {
        net::post(self->io_, [self, id] { self->unsubscribe(id); });
      }
    });
  }

  std::unique_ptr<Subscription> watch(const std::string& table, Watch fn) {
    const uint64_t id = next_id_.fetch_add(1);
    auto alive = std::make_shared<std::atomic<bool>>(true);
    net::post(io_, [self = shared_from_this(), id, table, alive, fn = std::move(fn)]() mutable {
      Watcher w;
      w.table = table;
      w.fn = std::move(fn);
      w.alive = alive;
      self->watchers_.emplace(id, std::move(w));
      const auto channel = changes_channel(table);
      if (self->topic_refs_[channel]++ == 0) {
        self->sub_->send({"SUBSCRIBE", channel}, nullptr);
      } else if (self->confirmed_.count(channel) != 0) {
        self->reload(id);
      }
    });
    std::weak_ptr<Impl> weak = weak_from_this();
    return std::make_unique<Cancel>([weak, id, alive] {
      alive->store(false);
      if (auto self = weak.lock()) {
        net::post(self->io_, [self, id] { self->unwatch(id); });
      }
    });
  }

  Stats stats() const {
    Stats s;
    s.published = published_.load();
    s.received = received_.load();
    s.dropped = dropped_.load();
    s.gap_fills = gap_fills_.load();
    s.reconnects = reconnects_.load();
    std::lock_guard lock(state_mu_);
    s.connected = cmd_up_ && sub_up_;
    return s;
  }

  net::io_context io_;

 private:
  struct Sub {
    std::string topic;
    Handler handler;
    std::function<void()> caught_up;  // called once, the first time the log was read
    std::shared_ptr<std::atomic<bool>> alive;
    std::pair<uint64_t, uint64_t> last{0, 0};  // the newest kept message delivered
    bool ready = false;      // caught up with the log: live messages go straight through
    bool catching = false;   // an XRANGE is on its way
    bool after_gap = false;  // what the log gives now was missed while disconnected
    std::deque<std::pair<std::string, std::string>>
        held;  // (id, payload) that came while catching up
  };
  struct Watcher {
    std::string table;
    Watch fn;
    std::shared_ptr<std::atomic<bool>> alive;
    std::map<std::string, std::string> known;
    bool ready = false;
    bool loading = false;
    std::deque<std::string> held;
  };

  // A command that must not be lost to a short outage: sent now, or queued
  // (bounded) until the connection is back.
  void queued(std::vector<std::string> argv, bool count_as_message) {
    if (pending_.empty() && send_kept(argv, count_as_message)) return;
    if (pending_.size() >= options_.queue_limit) {
      pending_.pop_front();
      ++dropped_;
    }
    pending_.emplace_back(std::move(argv), count_as_message);
  }

  // Sent, and kept until Redis answers: a command lost with its connection
  // (written, or still in the socket) goes back to the queue, first, in
  // order. Sent twice is harmless: captions are told apart by seq.
  bool send_kept(const std::vector<std::string>& argv, bool count_as_message) {
    std::weak_ptr<Impl> weak = weak_from_this();
    const bool sent = cmd_->send(argv, [weak, argv, count_as_message](Reply r) {
      auto self = weak.lock();
      if (!self) return;
      if (r && r->type == REDIS_REPLY_ERROR) {
        // Refused (out of memory under maxmemory noeviction, a script
        // error): lost, counted and said, never counted as sent.
        ++self->dropped_;
        core::log_error("bus", "Redis refused " + argv[0] + ": " + std::string(str(r)));
        return;
      }
      if (r && r->type == REDIS_REPLY_NIL && count_as_message) {
        ++self->dropped_;  // refused by its fence: another node runs the session now
        return;
      }
      if (r) {
        if (count_as_message) ++self->published_;
        return;
      }
      self->lost_.emplace_back(argv, count_as_message);
    });
    return sent;
  }

  void command_up() {
    set_state(true, std::nullopt);
    // What the lost connection never confirmed goes first, in order.
    for (auto it = lost_.rbegin(); it != lost_.rend(); ++it) pending_.push_front(std::move(*it));
    lost_.clear();
    while (pending_.size() > options_.queue_limit) {
      pending_.pop_front();
      ++dropped_;
    }
    while (!pending_.empty()) {
      auto& [argv, counted] = pending_.front();
      if (!send_kept(argv, counted)) return;
      pending_.pop_front();
    }
    // Catch-ups that could not read the log while commands were down.
    for (auto& [id, s] : subs_) {
      if (!s.ready && !s.catching && confirmed_.count(s.topic) != 0) catch_up(id);
    }
    for (auto& [id, w] : watchers_) {
      if (!w.ready && !w.loading && confirmed_.count(changes_channel(w.table)) != 0) reload(id);
    }
  }

  void subscriber_up() {
    set_state(std::nullopt, true);
    // Every topic again, in one command.
    confirmed_.clear();
    std::vector<std::string> argv{"SUBSCRIBE"};
    for (const auto& [topic, n] : topic_refs_) {
      if (n > 0) argv.push_back(topic);
    }
    if (argv.size() > 1) sub_->send(argv, nullptr);
  }

  void subscriber_down() {
    set_state(std::nullopt, false);
    ++reconnects_;
    ++sub_epoch_;  // a log read begun before this may not mark its topic caught up
    confirmed_.clear();
    for (auto& [id, s] : subs_) {
      s.ready = false;
      s.after_gap = true;
      s.held.clear();
    }
    for (auto& [id, w] : watchers_) {
      w.ready = false;
      w.held.clear();
    }
  }

  void set_state(std::optional<bool> cmd, std::optional<bool> sub) {
    {
      std::lock_guard lock(state_mu_);
      if (cmd) cmd_up_ = *cmd;
      if (sub) sub_up_ = *sub;
    }
    state_cv_.notify_all();
  }

  void pushed(Reply r) {
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
    const auto kind = str(r->element[0]);
    const std::string channel(str(r->element[1]));
    if (kind == "subscribe") {
      confirmed_.insert(channel);
      for (auto& [id, s] : subs_) {
        if (s.topic == channel && !s.ready && !s.catching) catch_up(id);
      }
      for (auto& [id, w] : watchers_) {
        if (changes_channel(w.table) == channel && !w.ready && !w.loading) reload(id);
      }
      return;
    }
    if (kind != "message") return;
    const auto payload = str(r->element[2]);
    bool any = false;
    for (auto& [id, s] : subs_) {
      if (s.topic != channel) continue;
      any = true;
      const auto space = payload.find(' ');
      if (space == std::string_view::npos) continue;
      std::string mid(payload.substr(0, space));
      auto body = payload.substr(space + 1);
      if (!s.ready) {
        // Only kept messages wait for the log to be read: a live one (a
        // partial, a speech message of many kilobytes) is stale by then,
        // and holding thousands of them while commands are down would cost
        // hundreds of megabytes. Listeners are welcomed after the catch-up.
        if (mid == "-") {
          ++dropped_;
          continue;
        }
        if (s.held.size() >= options_.queue_limit) {
          s.held.pop_front();
          ++dropped_;
        }
        s.held.emplace_back(std::move(mid), std::string(body));
        continue;
      }
      deliver(s, mid, body, false);
    }
    if (any) return;
    for (auto& [id, w] : watchers_) {
      if (changes_channel(w.table) != channel) continue;
      if (!w.ready) {
        w.held.emplace_back(payload);
      } else {
        change(w, payload);
      }
    }
  }

  // Delivers one message unless it is a kept one already delivered.
  void deliver(Sub& s, std::string_view id, std::string_view body, bool from_log) {
    if (id != "-") {
      const auto sid = stream_id(id);
      // Stream ids are Redis's clock in ms: one far ahead of this node's
      // clock is not one Redis made, and believing it would make every
      // later message look delivered already.
      const auto now_ms = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count());
      if (sid.first > now_ms + kIdAheadToleranceMs) {
        ++dropped_;
        return;
      }
      if (sid <= s.last) return;
      s.last = sid;
      if (from_log && s.after_gap) ++gap_fills_;
    }
    if (!s.alive->load()) return;
    ++received_;
    s.handler(body);
  }

  void catch_up(uint64_t id) {
    auto it = subs_.find(id);
    if (it == subs_.end()) return;
    auto& s = it->second;
    const std::string start =
        s.last == std::pair<uint64_t, uint64_t>{0, 0}
            ? "-"
            : "(" + std::to_string(s.last.first) + "-" + std::to_string(s.last.second);
    constexpr int kPage = 500;
    s.catching =
        cmd_->send({"XRANGE", log_key(s.topic), start, "+", "COUNT", std::to_string(kPage)},
                   [self = shared_from_this(), id, epoch = sub_epoch_](Reply r) {
                     auto found = self->subs_.find(id);
                     if (found == self->subs_.end()) return;
                     auto& sub = found->second;
                     sub.catching = false;
                     if (!r) return;  // commands went down: caught up when they are back
                     if (r->type == REDIS_REPLY_ARRAY) {
                       for (size_t i = 0; i < r->elements; ++i) {
                         const auto* e = r->element[i];
                         if (e->type != REDIS_REPLY_ARRAY || e->elements < 2) continue;
                         const auto* fields = e->element[1];
                         if (fields->type != REDIS_REPLY_ARRAY || fields->elements < 2) continue;
                         self->deliver(sub, str(e->element[0]), str(fields->element[1]), true);
                       }
                       if (r->elements == kPage) return self->catch_up(id);
                     }
                     if (epoch != self->sub_epoch_) {
                       // The subscription broke while the log was read: what was
                       // published between that read and the new SUBSCRIBE is in
                       // the log, not in `held`. Read on once Redis confirms.
                       if (self->confirmed_.count(sub.topic) != 0) self->catch_up(id);
                       return;
                     }
                     // Caught up: what came meanwhile, then live.
                     sub.ready = true;
                     sub.after_gap = false;
                     auto held = std::move(sub.held);
                     sub.held.clear();
                     for (const auto& [mid, body] : held) self->deliver(sub, mid, body, false);
                     if (sub.caught_up && sub.alive->load())
                       std::exchange(sub.caught_up, nullptr)();
                   });
  }

  void reload(uint64_t id) {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) return;
    it->second.loading =
        cmd_->send({"HGETALL", it->second.table}, [self = shared_from_this(), id, epoch = sub_epoch_](Reply r) {
          auto found = self->watchers_.find(id);
          if (found == self->watchers_.end()) return;
          auto& w = found->second;
          w.loading = false;
          if (!r || r->type != REDIS_REPLY_ARRAY) return;
          if (epoch != self->sub_epoch_) {
            // As for logs (catch_up): changes may have been missed; read again.
            if (self->confirmed_.count(changes_channel(w.table)) != 0) self->reload(id);
            return;
          }
          std::map<std::string, std::string> now;
          for (size_t i = 0; i + 1 < r->elements; i += 2)
            now[std::string(str(r->element[i]))] = str(r->element[i + 1]);
          // Whatever changed while this node could not hear it.
          for (const auto& [key, value] : w.known) {
            if (now.count(key) == 0 && w.alive->load()) w.fn(key, std::nullopt);
          }
          for (const auto& [key, value] : now) {
            auto k = w.known.find(key);
            if ((k == w.known.end() || k->second != value) && w.alive->load()) w.fn(key, value);
          }
          w.known = std::move(now);
          w.ready = true;
          auto held = std::move(w.held);
          w.held.clear();
          for (const auto& c : held) self->change(w, c);
        });
  }

  void change(Watcher& w, std::string_view c) {
    if (c.empty()) return;
    if (c[0] == '+') {
      const auto nl = c.find('\n');
      if (nl == std::string_view::npos) return;
      std::string key(c.substr(1, nl - 1));
      std::string value(c.substr(nl + 1));
      w.known[key] = value;
      if (w.alive->load()) w.fn(key, value);
    } else if (c[0] == '-') {
      std::string key(c.substr(1));
      w.known.erase(key);
      if (w.alive->load()) w.fn(key, std::nullopt);
    }
  }

  void unsubscribe(uint64_t id) {
    auto it = subs_.find(id);
    if (it == subs_.end()) return;
    const auto topic = it->second.topic;
    subs_.erase(it);
    if (--topic_refs_[topic] == 0) {
      topic_refs_.erase(topic);
      confirmed_.erase(topic);
      sub_->send({"UNSUBSCRIBE", topic}, nullptr);
    }
  }

  void unwatch(uint64_t id) {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) return;
    const auto channel = changes_channel(it->second.table);
    watchers_.erase(it);
    if (--topic_refs_[channel] == 0) {
      topic_refs_.erase(channel);
      confirmed_.erase(channel);
      sub_->send({"UNSUBSCRIBE", channel}, nullptr);
    }
  }

  const RedisOptions options_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
  std::shared_ptr<Connection> cmd_, sub_;

  // io thread only.
  std::map<uint64_t, Sub> subs_;
  std::map<uint64_t, Watcher> watchers_;
  std::map<std::string, int> topic_refs_;  // channels subscribed, by the number of their users
  std::set<std::string> confirmed_;        // channels Redis confirmed since the last connect
  uint64_t sub_epoch_ = 0;                 // counts lost subscriber connections (catch_up, reload)
  std::deque<std::pair<std::vector<std::string>, bool>> pending_;
  std::deque<std::pair<std::vector<std::string>, bool>> lost_;  // sent, unanswered when the connection went
  std::map<std::string, int64_t> fences_;  // leases this node holds

  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> published_{0}, received_{0}, dropped_{0}, gap_fills_{0}, reconnects_{0};
  mutable std::mutex state_mu_;
  mutable std::condition_variable state_cv_;
  bool cmd_up_ = false, sub_up_ = false;  // guarded by state_mu_
};

std::shared_ptr<RedisBus> RedisBus::start(RedisOptions options) {
  auto impl = std::make_shared<Impl>(std::move(options));
  impl->start();
  return std::shared_ptr<RedisBus>(new RedisBus(std::move(impl)));
}

RedisBus::~RedisBus() {
  impl_->stop();
}

bool RedisBus::wait_connected(int timeout_ms) const {
  return impl_->wait_connected(timeout_ms);
}
void RedisBus::publish(const std::string& topic, std::string message, bool keep) {
  impl_->publish(topic, std::move(message), keep);
}
void RedisBus::publish_fenced(const std::string& topic, std::string message, const std::string& lease,
                              int64_t token) {
  impl_->publish_fenced(topic, std::move(message), lease, token);
}
std::unique_ptr<Bus::Subscription> RedisBus::subscribe(const std::string& topic, Handler handler,
                                                       std::function<void()> caught_up) {
  return impl_->subscribe(topic, std::move(handler), std::move(caught_up));
}
void RedisBus::retire(const std::string& topic, int64_t after_ms) {
  impl_->retire(topic, after_ms);
}
void RedisBus::put(const std::string& table, const std::string& key, std::string value) {
  impl_->put(table, key, std::move(value));
}
void RedisBus::erase(const std::string& table, const std::string& key) {
  impl_->erase(table, key);
}
std::unique_ptr<Bus::Subscription> RedisBus::watch(const std::string& table, Watch watch) {
  return impl_->watch(table, std::move(watch));
}
void RedisBus::acquire(const std::string& name, const std::string& holder, int64_t ttl_ms,
                       LeaseDone done) {
  impl_->acquire(name, holder, ttl_ms, std::move(done));
}
void RedisBus::renew(const std::string& name, const std::string& holder, int64_t ttl_ms,
                     LeaseDone done) {
  impl_->renew(name, holder, ttl_ms, std::move(done));
}
void RedisBus::release(const std::string& name, const std::string& holder) {
  impl_->release(name, holder);
}
Bus::Stats RedisBus::stats() const {
  return impl_->stats();
}

}  // namespace parley::fanout

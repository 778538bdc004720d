// SPDX-License-Identifier: GPL-3.0-or-later
// parley-load: opens many listener WebSockets against a running server and
// measures what they experience. Two modes here (and a third,
// `conversation`, in conversations.cpp):
//
//   captions  one speaker sends typed captions at --rate per second; N
//             listeners in the source language receive them. Each caption
//             carries its send time (CLOCK_MONOTONIC is shared by every
//             process on the machine), so each delivery's latency is exact.
//             --target parley | socketio | minimal runs the same load against
//             parley, the Socket.IO baseline, or the minimal C++ sender.
//   speech    K speakers stream a WAV in real time into K sessions; N
//             listeners spread over them and over --languages. The tool knows
//             where speech ends in the file, so per listener it measures the
//             time from the true end of speech to the final caption and to
//             the first translated audio.
//
// Listeners live in --procs child processes (each holds its sockets, binds its
// own 127.0.0.x source address so ports do not run out). With --server-pid
// the server's CPU time and RSS are read from /proc. Prints p50/p95/p99;
// --json for scripts. Every loop is bounded in count and time.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audio/wav_io.h"
#include "common/http_client.h"
#include "load/conversations.h"
#include "load/measure.h"
#include "load/ws_swarm.h"
#include "core/clock.h"
#include "core/process_stats.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;
using parley::load::Histogram;
using parley::load::Script;
using parley::load::load_script;
using parley::load::now_ns;
using parley::load::server_stats;
using parley::load::true_end_before;

// ---------------------------------------------------------------- options

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  std::string target = "parley";  // parley | socketio | minimal
  int listeners = 100;
  int procs = 2;
  int coalesce_us = 1000;
  std::string speech_mode;  // join "speech": full | timeline | none (empty: the server's default)
  double rate = 5;       // captions per second
  double duration = 30;  // seconds of sending
  double drain = 5;      // seconds to wait for the last deliveries
  std::vector<std::string> wavs;
  int speakers = 1;
  std::vector<std::string> languages = {"es"};
  std::vector<int> server_pids;  // summed: the servers measured together
  // Where listeners connect (several nodes: process c to the c-th, round
  // robin); empty: --server.
  std::vector<std::pair<std::string, unsigned short>> listen_on;
  std::pair<std::string, unsigned short> redis;  // several nodes: the Redis between them (port 0: none)
  bool json = false;
};

const char* kUsage = R"(usage: parley-load captions|speech [options]   (parley-load conversation --help: conversations)

  --server HOST:PORT     server to load (default 127.0.0.1:8080)
  --target NAME          captions mode: parley, socketio (tools/baseline) or minimal
  --listeners N          listener connections (default 100)
  --procs P              listener processes (default 2; each holds N/P sockets)
  --rate R               captions per second (default 5)
  --duration S           seconds of captions or speech (default 30)
  --drain S              seconds to wait for late deliveries (default 5)
  --wav FILE             speech mode: a recording the speakers stream in real time
                         (repeat --wav to join several, 1.5 s apart; the whole is looped)
  --speakers K           speech mode: speakers, one session each (default 1)
  --languages L1,L2      speech mode: listener languages, spread evenly (default es)
  --speech-mode M        speech mode: what listeners ask for of each speech message,
                         full, timeline (no audio) or none (default: the server's, full)
  --coalesce-us U        each listener process sleeps U µs after a loop that found
                         little to read (default 1000; 0: wait in epoll for every
                         message). The tool shares the server's cores; on loopback
                         each wake-up of a sleeping listener process is charged to
                         the sender, which a server with remote listeners never
                         pays. Adds at most about U µs to a measured latency.
  --server-pid PID       read the server's CPU time and memory from /proc (repeat it
                         for several nodes: their figures are summed, and listed each)
  --listen-on HOST:PORT  where listeners connect, instead of --server (repeat it for
                         several nodes: listener process c connects to the c-th, round
                         robin); the session is created, and spoken to, on --server
  --redis HOST:PORT      several nodes: read Redis's CPU time (INFO cpu) over the run
                         and over as long a wait before it (heartbeats, no messages),
                         and report the difference per message the nodes published
                         (parley_bus_published_total)
  --json                 one JSON object on stdout instead of the table

Examples:
  parley-load captions --listeners 10000 --procs 4 --rate 5 --duration 30 --server-pid $(pidof parley)
  parley-load captions --server 127.0.0.1:8081 --listen-on 127.0.0.1:8081 --listen-on 127.0.0.1:8082 \
      --listeners 15000 --procs 6 --server-pid P1 --server-pid P2 --redis 127.0.0.1:6379
  parley-load speech --wav talk.wav --speakers 1 --listeners 100 --languages es,fr --duration 120
)";

bool parse_options(int argc, char** argv, Options& o) {
  if (argc < 2) return false;
  o.mode = argv[1];
  if (o.mode != "captions" && o.mode != "speech") return false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    auto host_port = [&]() { return parley::load::host_port(a, value()); };
    if (a == "--server") {
      std::tie(o.host, o.port) = host_port();
    } else if (a == "--listen-on") {
      o.listen_on.push_back(host_port());
    } else if (a == "--redis") {
      o.redis = host_port();
    } else if (a == "--target") {
      o.target = value();
      if (o.target != "parley" && o.target != "socketio" && o.target != "minimal") {
        throw std::runtime_error("--target is parley, socketio or minimal");
      }
    } else if (a == "--listeners") {
      o.listeners = std::stoi(value());
    } else if (a == "--speech-mode") {
      o.speech_mode = value();
    } else if (a == "--coalesce-us") {
      o.coalesce_us = std::stoi(value());
    } else if (a == "--procs") {
      o.procs = std::stoi(value());
    } else if (a == "--rate") {
      o.rate = std::stod(value());
    } else if (a == "--duration") {
      o.duration = std::stod(value());
    } else if (a == "--drain") {
      o.drain = std::stod(value());
    } else if (a == "--wav") {
      o.wavs.push_back(value());
    } else if (a == "--speakers") {
      o.speakers = std::stoi(value());
    } else if (a == "--languages") {
      o.languages.clear();
      std::stringstream ss(value());
      for (std::string l; std::getline(ss, l, ',');) {
        if (!l.empty()) o.languages.push_back(l);
      }
    } else if (a == "--server-pid") {
      o.server_pids.push_back(std::stoi(value()));
    } else if (a == "--json") {
      o.json = true;
    } else {
      throw std::runtime_error("unknown option " + a);
    }
  }
  if (o.listeners < 1 || o.listeners > 200000) throw std::runtime_error("--listeners is 1…200000");
  if (o.procs < 1 || o.procs > 64) throw std::runtime_error("--procs is 1…64");
  if (o.rate <= 0 || o.rate > 1000) throw std::runtime_error("--rate is (0, 1000]");
  if (o.duration <= 0 || o.duration > 3600) throw std::runtime_error("--duration is (0, 3600]");
  if (o.mode == "speech" && o.wavs.empty()) throw std::runtime_error("speech mode needs --wav FILE");
  if (o.mode == "speech" && o.target != "parley") throw std::runtime_error("speech mode runs against parley only");
  if (o.speakers < 1 || o.speakers > 64) throw std::runtime_error("--speakers is 1…64");
  if (o.languages.empty()) throw std::runtime_error("--languages needs at least one language");
  if (o.listen_on.empty()) o.listen_on.emplace_back(o.host, o.port);
  return true;
}

// ---------------------------------------------------------------- HTTP helper

parley::tools::HttpResult http_call(const Options& o, http::verb method, const std::string& target,
                                    const std::string& body, const std::string& bearer = "") {
  return parley::tools::http_call(o.host, static_cast<unsigned short>(o.port), method, target, body, bearer);
}


// ---------------------------------------------------------------- listeners (child processes)

struct Plan {
  std::vector<std::string> codes;  // session per listener index % size
  const Script* script = nullptr;
};

struct ChildStats {
  Histogram caption;      // captions mode: send → delivery; speech mode: true end → final
  Histogram first_audio;  // speech mode: true end → translated speech
  Histogram caption_late; // speech mode: finals of the second half of the run (drift)
  std::map<size_t, Histogram> caption_late_by_session;  // the same, per speaking session
  uint64_t connected = 0, failed = 0, closed_by_server = 0, messages = 0, captions = 0;
  uint64_t duplicates = 0, audio_messages = 0, bytes = 0;
  std::vector<uint64_t> per_listener_captions;
  double cpu_seconds = 0;  // this process's CPU time between "go" and "stop"
};

// getrusage, not core::read_process_stats: microseconds rather than clock
// ticks (10 ms), which a short run's few milliseconds would round to nothing.
double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// One listener's view of the stream; the sockets live in a WsSwarm.
class Listener {
 public:
  Listener(const Options& o, const Plan& plan, ChildStats& stats, int index, const std::atomic<int64_t>& t0)
      : o_(o), plan_(plan), stats_(stats), index_(index), t0_ns_(t0) {}

  // What to send once the WebSocket is open (nothing for Socket.IO, which speaks first).
  std::string join_message() const {
    if (o_.target == "socketio") return {};
    json j = {{"type", "join"}, {"protocol", 1}, {"role", "listener"},
              {"code", plan_.codes[static_cast<size_t>(index_) % plan_.codes.size()]},
              {"language", o_.mode == "speech" ? o_.languages[static_cast<size_t>(index_) % o_.languages.size()] : "en"}};
    if (!o_.speech_mode.empty()) j["speech"] = o_.speech_mode;
    return j.dump();
  }

  // Returns a reply to send, if any (Socket.IO's namespace join and pongs).
  std::string on_message(std::string_view m, bool binary) {
    const int64_t now = now_ns();
    stats_.bytes += m.size();
    ++stats_.messages;
    if (o_.target == "socketio" && !binary) {
      if (m.substr(0, 1) == "0") return "40";  // open → join the default namespace
      if (m == "2") return "3";                // ping → pong
      if (m.substr(0, 2) == "40") {            // connected (the server puts us in the room)
        mark_ready();
        return {};
      }
    }
    if (binary) {
      if (o_.mode == "speech") on_speech(m, now);
      return {};
    }
    if (m.find("\"welcome\"") != std::string_view::npos) {
      mark_ready();
      return {};
    }
    if (m.find("\"type\":\"final\"") == std::string_view::npos) return {};
    if (o_.mode == "captions") {
      on_caption(m, now);
    } else {
      on_final(m, now);
    }
    return {};
  }

  // Returns whether the listener failed (never got in), rather than being closed later.
  bool on_closed() {
    if (welcomed_) {
      ++stats_.closed_by_server;
      return false;
    }
    ++stats_.failed;
    return true;
  }

  bool ready() const { return welcomed_; }
  uint64_t captions() const { return captions_; }

 private:
  void mark_ready() { welcomed_ = true; }

  // "load #<index> @<send ns>"
  void on_caption(std::string_view m, int64_t now) {
    const auto hash = m.find("load #");
    const auto at = m.find(" @", hash);
    if (hash == std::string_view::npos || at == std::string_view::npos) return;
    uint64_t index = 0;
    int64_t sent = 0;
    std::from_chars(m.data() + hash + 6, m.data() + at, index);
    std::from_chars(m.data() + at + 2, m.data() + m.size(), sent);
    if (index >= seen_.size()) seen_.resize(index + 64, false);
    if (seen_[index]) {
      ++stats_.duplicates;
      return;
    }
    seen_[index] = true;
    ++captions_;
    ++stats_.captions;
    stats_.caption.add(now - sent);
  }

  void on_final(std::string_view m, int64_t now) {
    auto j = json::parse(m, nullptr, false);
    if (j.is_discarded() || j.value("history", false)) return;
    const int64_t seq = j.value("seq", int64_t{0});
    if (end_of_seq_.count(seq) != 0) return;  // a re-sent final (backfill): measured once
    const int64_t truth = true_end_before(*plan_.script, j.value("endMs", int64_t{0}));
    const int64_t t0 = t0_ns_.load(std::memory_order_relaxed);
    if (truth < 0 || t0 == 0) return;
    const int64_t truth_ns = t0 + truth * 1000000;
    end_of_seq_[seq] = truth_ns;
    ++captions_;
    ++stats_.captions;
    stats_.caption.add(now - truth_ns);
    if (now - t0 > static_cast<int64_t>(o_.duration * 5e8)) {
      stats_.caption_late.add(now - truth_ns);
      stats_.caption_late_by_session[static_cast<size_t>(index_) % plan_.codes.size()].add(now - truth_ns);
    }
  }

  void on_speech(std::string_view m, int64_t now) {
    if (m.size() < 24 || m[0] != 'P') return;
    ++stats_.audio_messages;
    int64_t seq = 0;
    for (int i = 4; i < 8; ++i) seq = (seq << 8) | static_cast<unsigned char>(m[static_cast<size_t>(i)]);
    auto it = end_of_seq_.find(seq);
    if (it == end_of_seq_.end() || audio_measured_.count(seq) != 0) return;
    audio_measured_.insert({seq, true});
    stats_.first_audio.add(now - it->second);
  }

  const Options& o_;
  const Plan& plan_;
  ChildStats& stats_;
  int index_;
  const std::atomic<int64_t>& t0_ns_;
  bool welcomed_ = false;
  std::vector<bool> seen_;
  uint64_t captions_ = 0;
  std::map<int64_t, int64_t> end_of_seq_;
  std::map<int64_t, bool> audio_measured_;
};

// A child's listeners, driven by its WsSwarm's callbacks.
class ListenerSet final : public parley::tools::WsSwarm::Handler {
 public:
  ListenerSet(const Options& o, const Plan& plan, ChildStats& stats, const std::atomic<int64_t>& t0)
      : o_(o), plan_(plan), stats_(stats), t0_(t0) {}

  void attach(parley::tools::WsSwarm& swarm) { swarm_ = &swarm; }
  void add(int index) { listeners_.emplace_back(o_, plan_, stats_, index, t0_); }

  void on_open(int id) override {
    ++stats_.connected;
    const std::string join = listeners_[static_cast<size_t>(id)].join_message();
    if (!join.empty()) swarm_->send_text(id, join);
  }
  void on_message(int id, std::string_view data, bool binary) override {
    auto& l = listeners_[static_cast<size_t>(id)];
    const bool was_ready = l.ready();
    const std::string reply = l.on_message(data, binary);
    if (!was_ready && l.ready()) ready_.fetch_add(1, std::memory_order_relaxed);
    if (!reply.empty()) swarm_->send_text(id, reply);
  }
  void on_closed(int id, bool) override {
    if (listeners_[static_cast<size_t>(id)].on_closed()) failed_.fetch_add(1, std::memory_order_relaxed);
  }

  size_t size() const { return listeners_.size(); }
  // Progress counters the control thread reads while the loop runs.
  int ready() const { return ready_.load(std::memory_order_relaxed); }
  int failed() const { return failed_.load(std::memory_order_relaxed); }
  const std::deque<Listener>& listeners() const { return listeners_; }

 private:
  const Options& o_;
  const Plan& plan_;
  ChildStats& stats_;
  const std::atomic<int64_t>& t0_;
  parley::tools::WsSwarm* swarm_ = nullptr;
  std::deque<Listener> listeners_;  // by swarm id
  std::atomic<int> ready_{0};
  std::atomic<int> failed_{0};
};

// Runs in a child: connects `count` listeners, says "ready N" when they are
// joined, waits for "go <t0>" then "stop", then writes its results.
int run_child(const Options& o, const Plan& plan, int first_index, int count, int child, int in_fd, int out_fd) {
  ChildStats stats;
  std::atomic<int64_t> t0{0};
  const std::string source_ip = "127.0.0." + std::to_string(10 + child);
  const std::string path = o.target == "socketio" ? "/socket.io/?EIO=4&transport=websocket" : "/ws";
  ListenerSet set(o, plan, stats, t0);
  parley::tools::WsSwarm swarm(set);
  set.attach(swarm);
  // Connect in bursts of 200 every 20 ms so the server's accept queue is not flooded.
  std::thread io([&] {
    swarm.run([&] {
      for (int i = 0; i < 200 && static_cast<int>(set.size()) < count; ++i) {
        set.add(first_index + static_cast<int>(set.size()));
        const auto& [host, port] = o.listen_on[static_cast<size_t>(child) % o.listen_on.size()];
        swarm.connect(source_ip, host, port, path);
      }
    }, o.coalesce_us);
  });
  // Control loop on this thread: report readiness, wait for commands.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (set.ready() + set.failed() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  dprintf(out_fd, "ready %d %d\n", set.ready(), set.failed());
  std::string line;
  char c = 0;
  while (read(in_fd, &c, 1) == 1) {
    if (c != '\n') {
      line += c;
      continue;
    }
    if (line.rfind("go ", 0) == 0) {
      stats.cpu_seconds = -own_cpu_seconds();
      const int64_t t = std::stoll(line.substr(3));
      t0.store(t);
    } else if (line == "stop") {
      stats.cpu_seconds += own_cpu_seconds();
      break;
    }
    line.clear();
  }
  swarm.stop();
  io.join();  // from here on the loop's figures are this thread's to read
  for (const auto& l : set.listeners()) stats.per_listener_captions.push_back(l.captions());
  std::string out = "caption " + stats.caption.serialize() + "\n";
  out += "first_audio " + stats.first_audio.serialize() + "\n";
  out += "caption_late " + stats.caption_late.serialize() + "\n";
  for (const auto& [session, h] : stats.caption_late_by_session) {
    out += "caption_late_session " + std::to_string(session) + " " + h.serialize() + "\n";
  }
  std::string per;
  for (auto n : stats.per_listener_captions) per += std::to_string(n) + " ";
  out += "per_listener " + per + "\n";
  out += "cpu " + std::to_string(stats.cpu_seconds) + "\n";
  out += "counts " + std::to_string(stats.connected) + " " + std::to_string(stats.failed) + " " +
         std::to_string(stats.closed_by_server) + " " + std::to_string(stats.messages) + " " +
         std::to_string(stats.captions) + " " + std::to_string(stats.duplicates) + " " +
         std::to_string(stats.audio_messages) + " " + std::to_string(stats.bytes) + "\nend\n";
  for (size_t at = 0; at < out.size();) {
    auto n = write(out_fd, out.data() + at, out.size() - at);
    if (n <= 0) break;
    at += static_cast<size_t>(n);
  }
  _exit(0);
}

// ---------------------------------------------------------------- speakers (parent)

// A WebSocket the parent speaks on; a reader thread discards what comes back
// (and answers Socket.IO pings) so the server never sees a stuck speaker.
class SpeakerSocket {
 public:
  SpeakerSocket(const Options& o, const std::string& path) : ws_(ioc_), o_(o) {
    tcp::resolver resolver(ioc_);
    net::connect(ws_.next_layer(), resolver.resolve(o.host, std::to_string(o.port)));
    ws_.handshake(o.host, path);
    reader_ = std::thread([this] {
      for (;;) {
        beast::flat_buffer buf;
        beast::error_code ec;
        ws_.read(buf, ec);
        if (ec) return;
        const std::string m = beast::buffers_to_string(buf.data());
        if (o_.target == "socketio" && m == "2") send("3");
        if (o_.target == "socketio" && m.substr(0, 1) == "0") send("40");
        if (m.find("\"error\"") != std::string::npos) std::fprintf(stderr, "parley-load: server says %s\n", m.c_str());
      }
    });
  }
  ~SpeakerSocket() {
    beast::error_code ec;
    {
      std::lock_guard lock(mu_);
      ws_.next_layer().shutdown(tcp::socket::shutdown_both, ec);  // wakes the reader's blocked read
    }
    // The reader uses ws_: it must be gone before ws_ is (a detached reader
    // crashed the tool now and then, after the speakers finished).
    if (reader_.joinable()) reader_.join();
    ws_.next_layer().close(ec);
  }
  void send(const std::string& text) {
    std::lock_guard lock(mu_);
    beast::error_code ec;
    ws_.text(true);
    ws_.write(net::buffer(text), ec);
  }
  void send_binary(const std::string& bytes) {
    std::lock_guard lock(mu_);
    beast::error_code ec;
    ws_.binary(true);
    ws_.write(net::buffer(bytes), ec);
  }

 private:
  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  const Options& o_;
  std::mutex mu_;
  std::thread reader_;
};

struct Session {
  std::string code, token;
};

Session create_session(const Options& o, const std::string& name) {
  auto r = http_call(o, http::verb::post, "/api/sessions",
                     json({{"name", name}, {"sourceLanguage", "en"}}).dump());
  if (r.status != 201) throw std::runtime_error("cannot create a session: HTTP " + std::to_string(r.status) + " " + r.body);
  auto j = json::parse(r.body);
  return {j["code"], j["speakerToken"]};
}

void control(const Options& o, const Session& s, const std::string& action) {
  auto r = http_call(o, http::verb::post, "/api/sessions/" + s.code + "/" + action, "{}", s.token);
  if (r.status != 200) throw std::runtime_error(action + " failed: HTTP " + std::to_string(r.status) + " " + r.body);
}

// Sleeps until a monotonic time in ns.
void sleep_until_ns(int64_t t) {
  const int64_t d = t - now_ns();
  if (d > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(d));
}

// Redis's own figures (INFO): CPU time (user + system, microsecond
// precision, where /proc counts 10 ms ticks) and bytes in and out.
struct RedisFigures {
  double cpu_seconds = 0, bytes_in = 0, bytes_out = 0;
  RedisFigures operator-(const RedisFigures& o) const {
    return {cpu_seconds - o.cpu_seconds, bytes_in - o.bytes_in, bytes_out - o.bytes_out};
  }
};

RedisFigures redis_figures(const std::pair<std::string, unsigned short>& at) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address(at.first), at.second));
  const std::string command = "*3\r\n$4\r\nINFO\r\n$3\r\ncpu\r\n$5\r\nstats\r\n";
  net::write(socket, net::buffer(command));
  std::string reply;
  char buf[4096];
  for (;;) {
    const size_t n = socket.read_some(net::buffer(buf));
    reply.append(buf, n);
    const auto header_end = reply.find("\r\n");
    if (header_end != std::string::npos && reply[0] == '$' &&
        reply.size() >= header_end + 2 + std::stoul(reply.substr(1, header_end - 1)))
      break;
  }
  auto field = [&](const char* key) {
    const auto at_key = reply.find(std::string("\n") + key);
    if (at_key == std::string::npos) throw std::runtime_error("Redis's INFO lacks " + std::string(key));
    return std::stod(reply.substr(at_key + 1 + std::strlen(key)));
  };
  return {field("used_cpu_sys:") + field("used_cpu_user:"), field("total_net_input_bytes:"),
          field("total_net_output_bytes:")};
}

std::map<std::string, double> scrape_metrics(const std::string& host, unsigned short port) {
  std::map<std::string, double> out;
  try {
    auto r = parley::tools::http_call(host, port, http::verb::get, "/metrics", "", "");
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      auto sp = line.rfind(' ');
      if (sp != std::string::npos) out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
  } catch (const std::exception&) {
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "conversation") return parley::load::run_conversations(argc, argv);
  Options o;
  try {
    if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!parse_options(argc, argv, o)) {
      std::fputs(kUsage, stderr);
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley-load: %s\n%s", e.what(), kUsage);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  auto progress = [&](const std::string& s) {
    if (!o.json || isatty(2)) std::fprintf(stderr, "parley-load: %s\n", s.c_str());
  };
  try {
    Script script;
    if (o.mode == "speech") script = load_script(o.wavs);
    Plan plan;
    plan.script = &script;
    std::vector<Session> sessions;
    if (o.target == "parley") {
      const int n = o.mode == "speech" ? o.speakers : 1;
      for (int i = 0; i < n; ++i) sessions.push_back(create_session(o, "load " + std::to_string(i + 1)));
      for (const auto& s : sessions) plan.codes.push_back(s.code);
    } else {
      plan.codes.push_back("000000");  // the baselines have one room
    }
    // A new session loads its recogniser in the background: let that settle
    // so it is not counted as listener memory.
    if (!o.server_pids.empty() && o.target == "parley") std::this_thread::sleep_for(std::chrono::seconds(3));
    const parley::core::ProcessStats before_listeners = server_stats(o.server_pids);

    // Listener processes.
    struct Child {
      pid_t pid;
      int to, from;
    };
    std::vector<Child> children;
    const int per = (o.listeners + o.procs - 1) / o.procs;
    for (int c = 0, first = 0; c < o.procs && first < o.listeners; ++c, first += per) {
      int down[2], up[2];
      if (pipe(down) != 0 || pipe(up) != 0) throw std::runtime_error("pipe failed");
      const int count = std::min(per, o.listeners - first);
      pid_t pid = fork();
      if (pid == 0) {
        close(down[1]);
        close(up[0]);
        return run_child(o, plan, first, count, c, down[0], up[1]);
      }
      close(down[0]);
      close(up[1]);
      children.push_back({pid, down[1], up[0]});
    }
    auto read_line = [](int fd, int timeout_ms) {
      std::string line;
      char c = 0;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        if (read(fd, &c, 1) != 1) break;
        if (c == '\n') return line;
        line += c;
      }
      return line;
    };
    progress("connecting " + std::to_string(o.listeners) + " listeners in " + std::to_string(children.size()) +
             " processes…");
    int joined = 0, failed = 0;
    for (auto& ch : children) {
      std::istringstream in(read_line(ch.from, 180000));
      std::string word;
      int r = 0, f = 0;
      in >> word >> r >> f;
      joined += r;
      failed += f;
    }
    progress(std::to_string(joined) + " listeners joined, " + std::to_string(failed) + " failed");
    const parley::core::ProcessStats with_listeners = server_stats(o.server_pids);
    // Several nodes: what crossed Redis, from every node's counters.
    std::vector<std::pair<std::string, unsigned short>> nodes = o.listen_on;
    if (std::find(nodes.begin(), nodes.end(), std::pair<std::string, unsigned short>{o.host, o.port}) == nodes.end())
      nodes.emplace_back(o.host, o.port);
    double bus_received = 0;
    auto bus_published = [&] {
      double published = 0;
      bus_received = 0;
      for (const auto& [host, port] : nodes) {
        auto m = scrape_metrics(host, port);
        published += m["parley_bus_published_total"];
        bus_received += m["parley_bus_received_total"];
      }
      return published;
    };
    // Redis while nothing is said, as long as the run: the nodes' heartbeats
    // (lease renewals, audience summaries).
    RedisFigures redis_idle;
    double published_idle = 0;
    if (o.redis.second != 0) {
      progress("measuring Redis with nothing said for " + std::to_string(o.duration + o.drain) + " s…");
      const RedisFigures before = redis_figures(o.redis);
      const double published_before = bus_published();
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>((o.duration + o.drain) * 1000)));
      redis_idle = redis_figures(o.redis) - before;
      published_idle = bus_published() - published_before;
    }

    // Speakers.
    const int64_t t0 = now_ns() + 500000000;  // everyone starts in 0.5 s
    for (auto& ch : children) dprintf(ch.to, "go %lld\n", static_cast<long long>(t0));
    const parley::core::ProcessStats start = server_stats(o.server_pids);
    const double bus_published_start = o.redis.second != 0 ? bus_published() : 0;
    const double bus_received_start = bus_received;
    std::vector<double> node_cpu_start;
    for (int pid : o.server_pids) node_cpu_start.push_back(parley::core::read_process_stats(pid).cpu_seconds);
    const RedisFigures redis_start = o.redis.second != 0 ? redis_figures(o.redis) : RedisFigures{};
    uint64_t sent = 0;
    if (o.mode == "captions") {
      std::unique_ptr<SpeakerSocket> sp;
      if (o.target == "socketio") {
        sp = std::make_unique<SpeakerSocket>(o, "/socket.io/?EIO=4&transport=websocket");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // open + namespace connect
      } else {
        sp = std::make_unique<SpeakerSocket>(o, "/ws");
        const Session s = sessions.empty() ? Session{"000000", ""} : sessions[0];
        sp->send(json({{"type", "join"}, {"protocol", 1}, {"role", "speaker"}, {"code", s.code}, {"token", s.token}}).dump());
        if (!sessions.empty()) control(o, sessions[0], "start");
      }
      const auto n = static_cast<uint64_t>(o.duration * o.rate);
      const int64_t period = static_cast<int64_t>(1e9 / o.rate);
      progress("sending " + std::to_string(n) + " captions at " + std::to_string(o.rate) + "/s…");
      for (uint64_t i = 0; i < n; ++i) {
        sleep_until_ns(t0 + static_cast<int64_t>(i) * period);
        const std::string text = "load #" + std::to_string(i) + " @" + std::to_string(now_ns());
        if (o.target == "socketio") {
          sp->send("42" + json::array({"caption", {{"text", text}}}).dump());
        } else {
          sp->send(json({{"type", "text"}, {"text", text}}).dump());
        }
        ++sent;
      }
      progress("draining for " + std::to_string(o.drain) + " s…");
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(o.drain * 1000)));
    } else {
      std::vector<std::thread> speakers;
      std::atomic<uint64_t> frames{0};
      for (const auto& s : sessions) {
        speakers.emplace_back([&, s] {
          SpeakerSocket sp(o, "/ws");
          sp.send(json({{"type", "join"}, {"protocol", 1}, {"role", "speaker"}, {"code", s.code}, {"token", s.token},
                        {"sampleRate", 16000}}).dump());
          control(o, s, "start");
          const size_t frame = 320;  // 20 ms
          // Stop in a pause, 1 s after a true end of speech, never mid-utterance:
          // a cut utterance would be measured from an earlier end.
          int64_t stop_ms = static_cast<int64_t>(o.duration * 1000);
          for (int64_t l = 0;; ++l) {
            bool found = false;
            for (auto e : script.speech_ends_ms) {
              if (l * script.length_ms + e + 1000 >= stop_ms) {
                stop_ms = l * script.length_ms + e + 1000;
                found = true;
                break;
              }
            }
            if (found) break;
          }
          const auto total = static_cast<size_t>(stop_ms * 16);
          std::string bytes(4 + frame * 2, '\0');
          for (size_t pos = 0, seq = 1; pos < total; pos += frame, ++seq) {
            sleep_until_ns(t0 + static_cast<int64_t>(pos) * 1000000000LL / 16000);
            const auto s32 = static_cast<uint32_t>(seq);
            std::memcpy(bytes.data(), &s32, 4);  // little-endian on every platform parley runs on
            for (size_t i = 0; i < frame; ++i) {
              const float x = script.samples[(pos + i) % script.samples.size()];
              const auto v = static_cast<int16_t>(std::lrint(std::clamp(x, -1.0F, 1.0F) * 32767));
              std::memcpy(bytes.data() + 4 + 2 * i, &v, 2);
            }
            sp.send_binary(bytes);
            ++frames;
          }
          control(o, s, "pause");  // finishes the utterance in flight
        });
      }
      progress("streaming " + std::to_string(o.duration) + " s of speech from " + std::to_string(sessions.size()) +
               " speaker(s)…");
      for (auto& t : speakers) t.join();
      sent = frames.load();
      progress("draining for " + std::to_string(o.drain) + " s…");
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(o.drain * 1000)));
    }
    const parley::core::ProcessStats end = server_stats(o.server_pids);
    const auto server_metrics = o.target == "parley" ? scrape_metrics(o.host, o.port) : std::map<std::string, double>{};
    const double bus_published_end = bus_published();
    const double bus_received_end = bus_received;
    std::vector<double> node_cpu_end;
    for (int pid : o.server_pids) node_cpu_end.push_back(parley::core::read_process_stats(pid).cpu_seconds);
    const RedisFigures redis_end = o.redis.second != 0 ? redis_figures(o.redis) : RedisFigures{};

    // Results.
    Histogram caption, first_audio, caption_late;
    std::map<size_t, Histogram> caption_late_by_session;
    uint64_t connected = 0, failed_total = 0, closed = 0, messages = 0, captions = 0, duplicates = 0, audio = 0,
             bytes = 0, complete_listeners = 0;
    double load_cpu = 0;
    for (auto& ch : children) {
      dprintf(ch.to, "stop\n");
      for (;;) {
        std::string line = read_line(ch.from, 60000);
        if (line.empty() || line == "end") break;
        std::istringstream in(line);
        std::string key;
        in >> key;
        if (key == "caption") caption.merge_line(in);
        if (key == "first_audio") first_audio.merge_line(in);
        if (key == "caption_late") caption_late.merge_line(in);
        if (key == "caption_late_session") {
          size_t session = 0;
          in >> session;
          caption_late_by_session[session].merge_line(in);
        }
        if (key == "per_listener") {
          for (uint64_t n = 0; in >> n;) {
            if (o.mode == "captions" && n == sent) ++complete_listeners;
          }
        }
        if (key == "cpu") {
          double v = 0;
          in >> v;
          load_cpu += v;
        }
        if (key == "counts") {
          uint64_t v[8] = {};
          for (auto& x : v) in >> x;
          connected += v[0];
          failed_total += v[1];
          closed += v[2];
          messages += v[3];
          captions += v[4];
          duplicates += v[5];
          audio += v[6];
          bytes += v[7];
        }
      }
      close(ch.to);
      close(ch.from);
      waitpid(ch.pid, nullptr, 0);
    }
    for (const auto& s : sessions) {
      try {
        control(o, s, "end");
      } catch (const std::exception&) {
      }
    }
    const double cpu = end.cpu_seconds - start.cpu_seconds;
    const double expected = o.mode == "captions" ? static_cast<double>(sent) * o.listeners : 0;
    const double lost = o.mode == "captions" ? expected - static_cast<double>(captions) : 0;
    json report = {
        {"mode", o.mode},
        {"target", o.target},
        {"listeners", o.listeners},
        {"connected", connected},
        {"connectFailures", failed_total},
        {"closedByServer", closed},
        {"durationS", o.duration},
        {"messagesReceived", messages},
        {"bytesReceived", bytes},
    };
    auto q = [](const Histogram& h) {
      return json{{"count", h.count()}, {"p50Ms", h.quantile_ms(0.5)}, {"p95Ms", h.quantile_ms(0.95)},
                  {"p99Ms", h.quantile_ms(0.99)}, {"maxMs", h.quantile_ms(1.0)}};
    };
    if (o.mode == "captions") {
      report["captionsSent"] = sent;
      report["rate"] = o.rate;
      report["deliveries"] = captions;
      report["lost"] = lost;
      report["duplicates"] = duplicates;
      report["listenersWithEveryCaption"] = complete_listeners;
      report["delivery"] = q(caption);
      // The listener processes share the server's cores: their cost is part of every latency figure.
      report["loadGenerator"] = {{"cpuSeconds", load_cpu},
                                 {"cpuMicrosecondsPerDelivery", captions > 0 ? 1e6 * load_cpu / static_cast<double>(captions) : 0.0}};
    } else {
      report["speakers"] = o.speakers;
      report["languages"] = o.languages;
      report["framesSent"] = sent;
      report["finalCaption"] = q(caption);
      report["finalCaptionSecondHalf"] = q(caption_late);
      report["finalCaptionSecondHalfBySession"] = json::array();
      for (auto& [session, h] : caption_late_by_session) report["finalCaptionSecondHalfBySession"].push_back(q(h));
      report["firstTranslatedAudio"] = q(first_audio);
      report["speechMessages"] = audio;
    }
    if (!o.server_pids.empty()) {
      report["server"] = {
          {"cpuSeconds", cpu},
          {"cpuPercent", 100.0 * cpu / (o.duration + o.drain)},
          {"kernelShareOfCpu", cpu > 0 ? (end.system_seconds - start.system_seconds) / cpu : 0.0},
          {"rssBytesBeforeListeners", before_listeners.resident_bytes},
          {"rssBytesWithListeners", with_listeners.resident_bytes},
          {"rssBytesEnd", end.resident_bytes},
          {"bytesPerListener", (with_listeners.resident_bytes - before_listeners.resident_bytes) / std::max(1, o.listeners)},
      };
      if (o.mode == "captions" && captions > 0) report["server"]["cpuMicrosecondsPerDelivery"] = 1e6 * cpu / static_cast<double>(captions);
      report["server"]["cpuSecondsByProcess"] = json::array();
      for (size_t i = 0; i < node_cpu_start.size(); ++i)
        report["server"]["cpuSecondsByProcess"].push_back(node_cpu_end[i] - node_cpu_start[i]);
    }
    if (o.redis.second != 0) {
      const RedisFigures run = redis_end - redis_start;
      const double published = bus_published_end - bus_published_start;
      const double said = published - published_idle;  // the messages the run added
      report["redis"] = {{"cpuSeconds", run.cpu_seconds},
                         {"cpuSecondsIdle", redis_idle.cpu_seconds},
                         {"bytesIn", run.bytes_in},
                         {"bytesOut", run.bytes_out},
                         {"bytesInIdle", redis_idle.bytes_in},
                         {"bytesOutIdle", redis_idle.bytes_out},
                         {"messagesPublished", published},
                         {"messagesPublishedIdle", published_idle},
                         {"messagesReceivedByNodes", bus_received_end - bus_received_start},
                         {"cpuMicrosecondsPerPublished",
                          said > 0 ? 1e6 * (run.cpu_seconds - redis_idle.cpu_seconds) / said : 0.0},
                         {"bytesInPerPublished", said > 0 ? (run.bytes_in - redis_idle.bytes_in) / said : 0.0},
                         {"bytesOutPerPublished", said > 0 ? (run.bytes_out - redis_idle.bytes_out) / said : 0.0}};
    }
    if (!server_metrics.empty()) {
      auto m = [&](const char* k) { auto it = server_metrics.find(k); return it == server_metrics.end() ? 0.0 : it->second; };
      report["serverCounters"] = {{"evictions", m("parley_evictions_total")},
                                  {"droppedSpeech", m("parley_dropped_speech_total")},
                                  {"droppedPartials", m("parley_dropped_partials_total")},
                                  {"audioFramesDropped", m("parley_audio_frames_dropped_total")}};
    }
    if (o.json) {
      std::printf("%s\n", report.dump(2).c_str());
    } else {
      auto row = [](const char* name, const json& h) {
        std::printf("  %-26s n=%-9llu p50 %8.1f ms  p95 %8.1f ms  p99 %8.1f ms  max %8.1f ms\n", name,
                    static_cast<unsigned long long>(h["count"].get<uint64_t>()), h["p50Ms"].get<double>(),
                    h["p95Ms"].get<double>(), h["p99Ms"].get<double>(), h["maxMs"].get<double>());
      };
      std::printf("parley-load %s against %s: %d listeners (%llu connected, %llu failed, %llu closed by the server)\n",
                  o.mode.c_str(), o.target.c_str(), o.listeners, static_cast<unsigned long long>(connected),
                  static_cast<unsigned long long>(failed_total), static_cast<unsigned long long>(closed));
      if (o.mode == "captions") {
        std::printf("  captions sent %llu at %.1f/s; deliveries %llu of %.0f; lost %.0f; duplicates %llu\n",
                    static_cast<unsigned long long>(sent), o.rate, static_cast<unsigned long long>(captions), expected,
                    lost, static_cast<unsigned long long>(duplicates));
        row("delivery latency", report["delivery"]);
        std::printf("  load generator: %.2f CPU-s, %.1f µs CPU per delivery received\n", load_cpu,
                    report["loadGenerator"]["cpuMicrosecondsPerDelivery"].get<double>());
      } else {
        row("end of speech → final", report["finalCaption"]);
        row("  (second half only)", report["finalCaptionSecondHalf"]);
        if (o.speakers > 1) {
          int i = 0;
          for (const auto& h : report["finalCaptionSecondHalfBySession"]) {
            const std::string name = "    session " + std::to_string(++i);
            row(name.c_str(), h);
          }
        }
        row("end of speech → audio", report["firstTranslatedAudio"]);
      }
      if (!o.server_pids.empty()) {
        const auto& s = report["server"];
        std::printf("  server: %.2f CPU-s (%.0f%% of one core), RSS %.1f MB → %.1f MB (%.1f KB per listener)",
                    cpu, s["cpuPercent"].get<double>(), with_listeners.resident_bytes / 1e6, end.resident_bytes / 1e6,
                    s["bytesPerListener"].get<double>() / 1e3);
        if (s.contains("cpuMicrosecondsPerDelivery")) {
          std::printf(", %.1f µs CPU per delivery", s["cpuMicrosecondsPerDelivery"].get<double>());
          std::printf(" (%.0f%% in the kernel)", 100.0 * s["kernelShareOfCpu"].get<double>());
        }
        std::printf("\n");
      }
      if (report.contains("serverCounters")) std::printf("  server counters: %s\n", report["serverCounters"].dump().c_str());
      if (report.contains("redis")) {
        const auto& r = report["redis"];
        std::printf("  redis: %.3f CPU-s (%.3f over as long with nothing said) for %.0f messages published "
                    "(%.1f µs, %.0f bytes in and %.0f out each), %.0f received by the nodes\n",
                    r["cpuSeconds"].get<double>(), r["cpuSecondsIdle"].get<double>(), r["messagesPublished"].get<double>(),
                    r["cpuMicrosecondsPerPublished"].get<double>(), r["bytesInPerPublished"].get<double>(),
                    r["bytesOutPerPublished"].get<double>(), r["messagesReceivedByNodes"].get<double>());
      }
    }
    return failed_total == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley-load: %s\n", e.what());
    return 1;
  }
}

// SPDX-License-Identifier: GPL-3.0-or-later
// parley-load conversation: N two-person conversations against a running
// server. In each, A speaks --lang-a and B types --lang-b:
//   --input typed   both type, each a sentence every --interval seconds
//                   (staggered), every sentence different (no cache hits);
//   --input spoken  A streams --wav in real time as a microphone (the
//                   tool knows where its speech truly ends); B types.
// Per direction it measures, at the partner's socket, the time from the
// true end of speech (or the moment a sentence is sent) to the partner's
// caption and to the first byte of the partner's translated speech: what
// the seed's "< 1.5 s end to end" is about. One thread, every socket on it;
// bounded by --duration (plus a drain).
#include "load/conversations.h"

#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "common/http_client.h"
#include "load/measure.h"

namespace parley::load {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

const char* kUsage = R"(usage: parley-load conversation [options]
  --server HOST:PORT     the parley server (default 127.0.0.1:8080)
  --conversations N      two-person conversations at once (default 10)
  --input typed|spoken   typed: both participants type; spoken: A streams
                         --wav as a microphone, B types (default typed)
  --wav FILE             spoken input: a recording of speech in --lang-a
  --lang-a L, --lang-b L the two languages (default en and es); spoken
                         input needs a recogniser for --lang-a
  --interval S           typed input: each participant says a sentence every
                         S seconds (default 8)
  --duration S           seconds of conversation (default 60)
  --warmup S             spoken input: A speaks this long before anything is
                         measured (a fresh recogniser's first sentences are
                         slow to come; default 0: everything is measured)
  --server-pid PID       read the server's CPU time and memory from /proc
  --json                 print the report as JSON
Per direction (A→B, B→A): p50/p95/p99 from the end of speech (or a typed
sentence's sending) to the partner's caption and to the partner's first audio.
example:
  parley-load conversation --conversations 50 --input typed --duration 60
  parley-load conversation --conversations 4 --input spoken --wav talk.wav
)";

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  int conversations = 10;
  std::string input = "typed";
  std::vector<std::string> wavs;
  std::string lang_a = "en", lang_b = "es";
  double interval = 8, duration = 60, warmup = 0;
  std::vector<int> server_pids;
  bool json = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--server") {
      std::tie(o.host, o.port) = host_port(a, value());
    } else if (a == "--conversations") {
      o.conversations = std::stoi(value());
    } else if (a == "--input") {
      o.input = value();
    } else if (a == "--wav") {
      o.wavs.push_back(value());
    } else if (a == "--lang-a") {
      o.lang_a = value();
    } else if (a == "--lang-b") {
      o.lang_b = value();
    } else if (a == "--interval") {
      o.interval = std::stod(value());
    } else if (a == "--duration") {
      o.duration = std::stod(value());
    } else if (a == "--warmup") {
      o.warmup = std::stod(value());
    } else if (a == "--server-pid") {
      o.server_pids.push_back(std::stoi(value()));
    } else if (a == "--json") {
      o.json = true;
    } else {
      throw std::runtime_error("unknown option " + a);
    }
  }
  if (o.conversations < 1 || o.conversations > 5000) throw std::runtime_error("--conversations is 1…5000");
  if (o.input != "typed" && o.input != "spoken") throw std::runtime_error("--input is typed or spoken");
  if (o.input == "spoken" && o.wavs.empty()) throw std::runtime_error("spoken input needs --wav FILE");
  if (o.interval < 0.5 || o.interval > 600) throw std::runtime_error("--interval is 0.5…600 s");
  if (o.duration <= 0 || o.duration > 3600) throw std::runtime_error("--duration is (0, 3600]");
  return o;
}

// Sentences people say across a table; a running number keeps every one
// distinct, so no translation comes from the cache.
const std::map<std::string, std::vector<std::string>> kSentences = {
    {"en",
     {"Where is the nearest train station?", "I would like a coffee with milk, please.",
      "My flight leaves tomorrow morning at seven.", "Could you speak a little more slowly?",
      "We are looking for a quiet hotel near the centre.", "How much does this cost?",
      "The meeting starts after lunch.", "Thank you very much for your help."}},
    {"es",
     {"¿Dónde está la estación de tren más cercana?", "Quisiera un café con leche, por favor.",
      "Mi vuelo sale mañana a las siete de la mañana.", "¿Puede hablar un poco más despacio?",
      "Buscamos un hotel tranquilo cerca del centro.", "¿Cuánto cuesta esto?",
      "La reunión empieza después de comer.", "Muchas gracias por su ayuda."}},
    {"fr",
     {"Où est la gare la plus proche ?", "Je voudrais un café au lait, s'il vous plaît.",
      "Mon vol part demain matin à sept heures.", "Pouvez-vous parler un peu plus lentement ?",
      "Nous cherchons un hôtel calme près du centre.", "Combien ça coûte ?",
      "La réunion commence après le déjeuner.", "Merci beaucoup pour votre aide."}},
};

std::string sentence(const std::string& lang, uint64_t n) {
  auto it = kSentences.find(lang);
  const auto& list = it == kSentences.end() ? kSentences.at("en") : it->second;
  return std::to_string(n) + ". " + list[n % list.size()];
}

struct Direction {
  Histogram caption, audio;
  uint64_t sent = 0, captions = 0, audios = 0;
};

class Run;

// One participant's WebSocket.
class Participant : public std::enable_shared_from_this<Participant> {
 public:
  Participant(Run& run, net::io_context& ioc, std::string language, bool speaks)
      : run_(run), ws_(ioc), timer_(ioc), language_(std::move(language)), speaks_(speaks) {}
  void connect(const Options& o, const std::string& code, const json& joined);
  void start(int64_t offset_ms);
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }
  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }
  std::shared_ptr<Participant> partner;
  std::string id;
  const std::string& language() const { return language_; }
  bool welcomed = false;
  bool speaks() const { return speaks_; }
  // When each of this participant's finals truly ended (typed: sent), by seq.
  std::map<int64_t, int64_t> truth_ns;
  int64_t stream_t0_ns = 0;  // spoken: when the recording started

 private:
  void read();
  void on_text(std::string_view m);
  void on_binary(std::string_view m);
  void type_next();
  void send_frame();
  void write(std::string bytes, bool binary);
  void write_next();

  Run& run_;
  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  const std::string language_;
  const bool speaks_;
  bool stopped_ = false;
  uint64_t typed_ = 0;
  int64_t next_due_ns_ = 0;
  size_t position_ = 0;  // spoken: samples sent
  uint32_t frame_seq_ = 0;
  std::map<int64_t, bool> heard_;  // partner's seq → audio measured
  std::vector<std::pair<std::string, bool>> out_;
  bool writing_ = false;
};

class Run {
 public:
  Run(const Options& options, const Script* recording) : o(options), script(recording) {}
  const Options& o;
  const Script* script;
  int64_t measure_from_ns = 0;  // speech that ended before this (the warm-up) is not counted
  std::map<std::string, Direction> directions;  // "en>es"
  uint64_t errors = 0;
  Direction& direction(const Participant& from, const Participant& to) {
    return directions[from.language() + ">" + to.language()];
  }
};

void Participant::connect(const Options& o, const std::string& code, const json& joined) {
  id = joined["participant"]["id"];
  tcp::resolver resolver(ws_.get_executor());
  beast::get_lowest_layer(ws_).connect(resolver.resolve(o.host, std::to_string(o.port)));
  ws_.handshake(o.host + ":" + std::to_string(o.port), "/ws");
  ws_.write(net::buffer(json({{"type", "join"}, {"role", "participant"}, {"protocol", 1}, {"code", code},
                              {"participant", id}, {"token", joined["token"]}})
                            .dump()));
  // A recording speaks on whatever it would hear: it takes captions only,
  // so the server has no playback of its own to keep out of its microphone.
  if (speaks_) ws_.write(net::buffer(json({{"type", "speech"}, {"mode", "none"}}).dump()));
  read();
}

void Participant::read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return;
    const std::string_view data(static_cast<const char*>(self->buffer_.data().data()), self->buffer_.size());
    if (self->ws_.got_text()) {
      self->on_text(data);
    } else {
      self->on_binary(data);
    }
    self->buffer_.consume(self->buffer_.size());
    self->read();
  });
}

void Participant::on_text(std::string_view m) {
  const int64_t now = now_ns();
  if (m.find("\"type\":\"conversation\"") != std::string_view::npos) {
    welcomed = true;
    return;
  }
  if (m.find("\"type\":\"error\"") != std::string_view::npos) {
    ++run_.errors;
    return;
  }
  if (m.find("\"type\":\"final\"") == std::string_view::npos || !partner) return;
  auto j = json::parse(m, nullptr, false);
  if (j.is_discarded() || j.value("history", false) || j.value("from", "") != partner->id ||
      j.value("language", "") != language_) {
    return;
  }
  const int64_t seq = j.value("seq", int64_t{0});
  int64_t truth = 0;
  if (partner->speaks()) {
    // The server may end an utterance in a short pause inside a sentence:
    // its speech ended where that pause began.
    const int64_t end = pause_start_before(*run_.script, j.value("endMs", int64_t{0}));
    if (end < 0 || partner->stream_t0_ns == 0) return;
    truth = partner->stream_t0_ns + end * 1000000;
  } else {
    auto it = partner->truth_ns.find(seq);
    if (it == partner->truth_ns.end()) return;
    truth = it->second;
  }
  if (heard_.count(seq) != 0) return;
  heard_[seq] = false;
  partner->truth_ns[seq] = truth;
  if (truth < run_.measure_from_ns) return;
  auto& d = run_.direction(*partner, *this);
  ++d.captions;
  d.caption.add(now - truth);
  if (std::getenv("PARLEY_LOAD_TRACE") != nullptr) {
    std::fprintf(stderr, "trace %s>%s seq %lld endMs %lld caption %.0f ms: %s\n", partner->language().c_str(),
                 language_.c_str(), static_cast<long long>(seq), static_cast<long long>(j.value("endMs", int64_t{0})),
                 static_cast<double>(now - truth) / 1e6, j.value("source", "").c_str());
  }
}

void Participant::on_binary(std::string_view m) {
  const int64_t now = now_ns();
  // 'P', 3, 1, id length, id, then the speech message ('P', 1, 2, 0, seq…).
  if (m.size() < 4 || m[0] != 'P' || m[1] != 3 || !partner) return;
  const size_t n = static_cast<unsigned char>(m[3]);
  if (m.size() < 4 + n + 8 || m.substr(4, n) != partner->id) return;
  const auto inner = m.substr(4 + n);
  int64_t seq = 0;
  for (size_t i = 4; i < 8; ++i) seq = (seq << 8) | static_cast<unsigned char>(inner[i]);
  auto it = heard_.find(seq);
  if (it == heard_.end() || it->second) return;  // no caption first, or measured
  it->second = true;
  auto truth = partner->truth_ns.find(seq);
  if (truth == partner->truth_ns.end() || truth->second < run_.measure_from_ns) return;
  auto& d = run_.direction(*partner, *this);
  ++d.audios;
  d.audio.add(now - truth->second);
}

void Participant::start(int64_t offset_ms) {
  next_due_ns_ = now_ns() + offset_ms * 1000000;
  if (speaks_) {
    stream_t0_ns = next_due_ns_;
    send_frame();
  } else {
    type_next();
  }
}

void Participant::type_next() {
  if (stopped_) return;
  timer_.expires_after(std::chrono::nanoseconds(std::max<int64_t>(0, next_due_ns_ - now_ns())));
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->stopped_) return;
    const uint64_t n = ++self->typed_;
    self->truth_ns[static_cast<int64_t>(n)] = now_ns();  // a typed participant's finals are 1, 2, 3, …
    ++self->run_.direction(*self, *self->partner).sent;
    self->write(json({{"type", "text"}, {"text", sentence(self->language_, n)}}).dump(), false);
    self->next_due_ns_ += static_cast<int64_t>(self->run_.o.interval * 1e9);
    self->type_next();
  });
}

void Participant::send_frame() {
  if (stopped_) return;
  timer_.expires_after(std::chrono::nanoseconds(std::max<int64_t>(0, next_due_ns_ - now_ns())));
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->stopped_) return;
    const auto& samples = self->run_.script->samples;
    std::string frame(4 + 320 * 2, '\0');
    const uint32_t seq = ++self->frame_seq_;
    for (int i = 0; i < 4; ++i) frame[static_cast<size_t>(i)] = static_cast<char>((seq >> (8 * i)) & 0xff);
    for (size_t i = 0; i < 320; ++i) {
      const float v = samples[(self->position_ + i) % samples.size()];
      const auto s = static_cast<int16_t>(std::clamp(v, -1.0F, 1.0F) * 32767.0F);
      frame[4 + 2 * i] = static_cast<char>(s & 0xff);
      frame[5 + 2 * i] = static_cast<char>((s >> 8) & 0xff);
    }
    // A speech end the tool knows of counts as sent once its audio has gone.
    const int64_t before_ms = static_cast<int64_t>(self->position_ / 16);
    self->position_ += 320;
    for (int64_t end : self->run_.script->speech_ends_ms) {
      const int64_t loop = before_ms / self->run_.script->length_ms;
      const int64_t at = loop * self->run_.script->length_ms + end;
      if (at > before_ms && at <= static_cast<int64_t>(self->position_ / 16) &&
          self->stream_t0_ns + at * 1000000 >= self->run_.measure_from_ns) {
        ++self->run_.direction(*self, *self->partner).sent;
      }
    }
    self->write(std::move(frame), true);
    self->next_due_ns_ += 20'000'000;
    self->send_frame();
  });
}

void Participant::write(std::string bytes, bool binary) {
  if (out_.size() > 500) return;  // the server stopped reading: counted as lost by the report
  out_.emplace_back(std::move(bytes), binary);
  if (!writing_) write_next();
}

void Participant::write_next() {
  if (out_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  ws_.binary(out_.front().second);
  ws_.async_write(net::buffer(out_.front().first), [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) {
      self->writing_ = false;
      return;
    }
    self->out_.erase(self->out_.begin());
    self->write_next();
  });
}


}  // namespace

int run_conversations(int argc, char** argv) {
  Options o;
  try {
    if (argc >= 3 && (std::string(argv[2]) == "--help" || std::string(argv[2]) == "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley-load: %s\n%s", e.what(), kUsage);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  auto progress = [&](const std::string& s) { std::fprintf(stderr, "parley-load: %s\n", s.c_str()); };
  try {
    Script script;
    if (o.input == "spoken") script = load_script(o.wavs);
    Run run(o, &script);
    net::io_context ioc;
    auto call = [&](const std::string& target, const json& body) {
      auto r = parley::tools::http_call(o.host, static_cast<unsigned short>(o.port), http::verb::post, target,
                                        body.dump());
      if (r.status != 201) throw std::runtime_error("POST " + target + ": HTTP " + std::to_string(r.status) + " " + r.body);
      return json::parse(r.body);
    };
    progress("starting " + std::to_string(o.conversations) + " conversation(s), " + o.input + " input…");
    std::vector<std::shared_ptr<Participant>> everyone;
    std::vector<std::pair<std::string, std::string>> made;  // code, a participant's token: ended at the end
    for (int i = 0; i < o.conversations; ++i) {
      const json c = call("/api/conversations", {{"title", "load " + std::to_string(i + 1)}});
      const std::string code = c["code"];
      auto a = std::make_shared<Participant>(run, ioc, o.lang_a, o.input == "spoken");
      auto b = std::make_shared<Participant>(run, ioc, o.lang_b, false);
      a->partner = b;
      b->partner = a;
      const json joined_a = call("/api/conversations/" + code + "/participants", {{"name", "A" + std::to_string(i)}, {"language", o.lang_a}});
      made.emplace_back(code, joined_a["token"]);
      a->connect(o, code, joined_a);
      b->connect(o, code, call("/api/conversations/" + code + "/participants", {{"name", "B" + std::to_string(i)}, {"language", o.lang_b}}));
      everyone.push_back(a);
      everyone.push_back(b);
    }
    // Everyone welcomed (bounded), then the conversations start, staggered.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline &&
           std::any_of(everyone.begin(), everyone.end(), [](const auto& p) { return !p->welcomed; })) {
      ioc.run_for(std::chrono::milliseconds(50));
    }
    if (std::any_of(everyone.begin(), everyone.end(), [](const auto& p) { return !p->welcomed; })) {
      throw std::runtime_error("not every participant was welcomed within 30 s");
    }
    // People join, then talk: each session's pipeline (and recogniser) has
    // started before the first sentence, as it has for anyone who joined a
    // few seconds earlier.
    ioc.run_for(std::chrono::seconds(3));
    const auto interval_ms = static_cast<int64_t>(o.interval * 1000);
    for (size_t i = 0; i < everyone.size(); ++i) {
      const int64_t spread = interval_ms * static_cast<int64_t>(i / 2) / o.conversations;
      // Staggered; a speaker's recording starts at once (the warm-up), a typist after it.
      const int64_t offset = i % 2 == 0 ? spread : spread + interval_ms / 2;
      everyone[i]->start(everyone[i]->speaks() ? offset : offset + static_cast<int64_t>(o.warmup * 1000));
    }
    if (o.warmup > 0) {
      progress("warming up for " + std::to_string(static_cast<int>(o.warmup)) + " s…");
      ioc.run_for(std::chrono::milliseconds(static_cast<int64_t>(o.warmup * 1000)));
    }
    run.measure_from_ns = now_ns();
    const auto before = server_stats(o.server_pids);
    const int64_t t0 = now_ns();
    progress("talking for " + std::to_string(static_cast<int>(o.duration)) + " s…");
    ioc.run_for(std::chrono::milliseconds(static_cast<int64_t>(o.duration * 1000)));
    for (auto& p : everyone) p->stop();
    const auto after = server_stats(o.server_pids);
    const double seconds = static_cast<double>(now_ns() - t0) / 1e9;
    ioc.run_for(std::chrono::seconds(4));  // what was said last arrives
    for (auto& p : everyone) p->close();
    ioc.run_for(std::chrono::milliseconds(200));
    for (const auto& [code, token] : made) {  // the next run starts from an empty server
      parley::tools::http_call(o.host, static_cast<unsigned short>(o.port), http::verb::post,
                               "/api/conversations/" + code + "/end", "", token);
    }

    json report = {{"mode", "conversation"},
                   {"input", o.input},
                   {"conversations", o.conversations},
                   {"durationS", seconds},
                   {"errors", run.errors}};
    for (auto& [dir, d] : run.directions) {
      auto q = [](const Histogram& h) {
        return json{{"count", h.count()}, {"p50", h.quantile_ms(0.5)}, {"p95", h.quantile_ms(0.95)},
                    {"p99", h.quantile_ms(0.99)}};
      };
      report["directions"][dir] = {{"sent", d.sent},
                                   {"captions", d.captions},
                                   {"audio", d.audios},
                                   {"captionMs", q(d.caption)},
                                   {"audioMs", q(d.audio)}};
    }
    if (!o.server_pids.empty() && before.ok && after.ok) {
      const double cpu = after.cpu_seconds - before.cpu_seconds;
      report["server"] = {{"cpuPercent", 100 * cpu / seconds},
                          {"cpuPercentPerConversation", 100 * cpu / seconds / o.conversations},
                          {"rssMB", static_cast<double>(after.resident_bytes) / 1e6}};
    }
    if (o.json) {
      std::printf("%s\n", report.dump(2).c_str());
      return 0;
    }
    std::printf("%d conversation(s), %s input, %.0f s; %llu error message(s)\n", o.conversations, o.input.c_str(),
                seconds, static_cast<unsigned long long>(run.errors));
    std::printf("%-8s %6s %8s %6s | %-26s | %-26s\n", "", "sent", "captions", "audio", "end → caption p50/p95/p99 ms",
                "end → audio p50/p95/p99 ms");
    for (auto& [dir, d] : run.directions) {
      std::printf("%-8s %6llu %8llu %6llu | %7.0f %8.0f %8.0f  | %7.0f %8.0f %8.0f\n", dir.c_str(),
                  static_cast<unsigned long long>(d.sent), static_cast<unsigned long long>(d.captions),
                  static_cast<unsigned long long>(d.audios), d.caption.quantile_ms(0.5), d.caption.quantile_ms(0.95),
                  d.caption.quantile_ms(0.99), d.audio.quantile_ms(0.5), d.audio.quantile_ms(0.95),
                  d.audio.quantile_ms(0.99));
    }
    if (report.contains("server")) {
      std::printf("server: %.1f %% CPU (%.2f %% per conversation), %.0f MB resident\n",
                  report["server"]["cpuPercent"].get<double>(), report["server"]["cpuPercentPerConversation"].get<double>(),
                  report["server"]["rssMB"].get<double>());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley-load: %s\n", e.what());
    return 1;
  }
}

}  // namespace parley::load

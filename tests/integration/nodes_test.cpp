// SPDX-License-Identifier: GPL-3.0-or-later
// Three `parley serve` nodes and a real redis-server (Debian's, started here
// on a free loopback port without persistence). The session runs on the
// node its speaker joined; listeners on the other nodes, each in its own
// language, read every final once and in order — while a listener node is
// killed (-9) and its listeners reconnect elsewhere, while the speaker's
// node is killed and the speaker carries on through another, and across a
// restart of Redis.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "support/librivox.h"
#include "support/postgres_process.h"
#include "support/server_process.h"
#include "support/sessions.h"
#include "support/ws_client.h"

namespace parley {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::Created;
using testing::eventually;
using testing::metric;
using testing::ServerProcess;
using testing::temp_db;
using testing::WsClient;

using testing::accepts;
using testing::free_port;

// A redis-server of the test's own, on loopback, writing its append-only
// file to a temporary directory (fsync on every write) as a production
// Redis would: a restart keeps the sessions' logs and the directory.
class Redis {
 public:
  // `password`: Redis asks every client for it (requirepass).
  explicit Redis(std::string password = "")
      : password_(std::move(password)),
        port_(free_port()),
        dir_(std::filesystem::temp_directory_path() /
             ("parley-redis-" + std::to_string(::getpid()) + "-" + std::to_string(port_))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    start();
  }
  ~Redis() {
    stop(SIGKILL);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_);
      const std::string dir = dir_.string();
      if (FILE* log = std::fopen((dir_ / "redis.log").c_str(), "a")) {
        ::dup2(::fileno(log), 1);
        ::dup2(::fileno(log), 2);
      }
      std::vector<const char*> argv{"redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--dir",
                                    dir.c_str(), "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                                    "--loglevel", "warning"};
      if (!password_.empty()) {
        argv.push_back("--requirepass");
        argv.push_back(password_.c_str());
      }
      argv.push_back(nullptr);
      ::execvp("redis-server", const_cast<char* const*>(argv.data()));
      std::_Exit(127);
    }
    // Redis accepts before it has read its append-only file back (it answers
    // -LOADING meanwhile): ready is when it answers PONG.
    if (!eventually([&] { return accepts(port_) && cli("PING").find("PONG") != std::string::npos; }, 10s)) {
      throw std::runtime_error("redis-server did not start");
    }
  }
  void stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // redis-cli's answer to `args` (one line each).
  std::string cli(const std::string& args) const {
    const std::string auth = password_.empty() ? "" : " --no-auth-warning -a '" + password_ + "'";
    FILE* p = ::popen(("redis-cli -p " + std::to_string(port_) + auth + " " + args).c_str(), "r");
    if (p == nullptr) return "";
    std::string out;
    char line[512];
    while (std::fgets(line, sizeof line, p) != nullptr) out += line;
    ::pclose(p);
    return out;
  }
  // The keys this Redis holds that start with `prefix`.
  size_t count_keys(const std::string& prefix) const {
    const std::string auth = password_.empty() ? "" : " --no-auth-warning -a '" + password_ + "'";
    const std::string cmd = "redis-cli -p " + std::to_string(port_) + auth + " --scan --pattern '" + prefix + "*'";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return 0;
    size_t n = 0;
    char line[512];
    while (std::fgets(line, sizeof line, p) != nullptr) ++n;
    ::pclose(p);
    return n;
  }

 private:
  std::string password_;
  unsigned short port_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

class NodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a", "b", "c"}) start(name);
  }
  void start(const std::string& name) {
    nodes[name] = std::make_unique<ServerProcess>(
        postgres.address(),
        std::vector<std::string>{"--redis", redis.address(), "--node-id", name, "--rtc", "off", "--trusted-proxies",
                                 "127.0.0.1"});
  }
  unsigned short port(const std::string& name) { return nodes.at(name)->port(); }

  Redis redis;
  testing::PostgresProcess postgres;  // the store every node shares
  std::map<std::string, std::unique_ptr<ServerProcess>> nodes;
};

std::vector<int64_t> final_seqs(const WsClient& c) {
  std::vector<int64_t> out;
  for (const auto& f : c.of_type("final")) out.push_back(f["seq"].get<int64_t>());
  return out;
}

std::vector<int64_t> one_to(int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

void type(WsClient& speaker, const std::string& text) { speaker.send_json({{"type", "text"}, {"text", text}}); }

const std::vector<std::string> kLines = {
    "Good morning and welcome.", "The train to the city leaves at nine.", "Please keep your tickets with you.",
    "Lunch is served in the main hall.", "The museum opens at ten.", "Thank you for listening.",
    "We will start again after the break.", "Questions are welcome at the end.", "The library is on the left.",
    "Have a good day."};

TEST_F(NodesTest, ASpeakerOnOneNodeIsHeardOnTheOthersEachInItsLanguage) {
  const Created s = testing::create_session(port("a"), {{"name", "Three nodes"}, {"sourceLanguage", "en"}});
  // Any node finds the code.
  ASSERT_TRUE(eventually([&] { return testing::http_request(port("c"), "GET", "/api/sessions/" + s.code).status == 200; }, 5s));
  WsClient speaker(port("a"));
  ASSERT_TRUE(testing::join_speaker(speaker, s));
  WsClient es(port("b")), fr(port("c"));
  testing::join_listener(es, s.code, "es");
  testing::join_listener(fr, s.code, "fr");
  ASSERT_TRUE(es.wait_for_type("welcome", 10s));
  ASSERT_TRUE(fr.wait_for_type("welcome", 10s));
  ASSERT_EQ(testing::control(port("a"), s, "start"), 200);

  // Real speech, streamed in real time, on node a.
  uint32_t seq = 0;
  testing::stream_real_time(speaker, testing::recording_pcm(0, 1.5), seq);
  ASSERT_TRUE(speaker.wait_for_type("final", 20s));
  const size_t n = speaker.of_type("final").size();
  ASSERT_TRUE(es.wait_for_type("final", 20s, n));
  ASSERT_TRUE(fr.wait_for_type("final", 20s, n));
  EXPECT_EQ(final_seqs(es), one_to(static_cast<int64_t>(n)));
  EXPECT_EQ(final_seqs(fr), one_to(static_cast<int64_t>(n)));
  EXPECT_EQ(es.of_type("final")[0]["language"], "es");
  EXPECT_NE(es.of_type("final")[0]["text"], speaker.of_type("final")[0]["text"]);  // translated on a
  EXPECT_EQ(fr.of_type("final")[0]["source"], speaker.of_type("final")[0]["text"]);
  // Translated speech crossed too (one copy per node).
  EXPECT_TRUE(es.wait_for([](const auto& ms) {
    for (const auto& m : ms) if (m.binary) return true;
    return false;
  }, 20s));

  // The end, asked on c, is said everywhere.
  ASSERT_EQ(testing::control(port("c"), s, "end"), 200);
  ASSERT_TRUE(es.wait_for_type("sessionEnded", 10s));
  ASSERT_TRUE(speaker.wait_for_type("sessionEnded", 10s));
  // Redis carried one copy of each event per node, not one per listener.
  EXPECT_GT(metric(port("b"), "parley_bus_received_total"), 0);
}

TEST_F(NodesTest, SessionsSpreadOverTwoRedisServersAreHeardOnEveryNode) {
  // Two more nodes listing two Redis servers, in the same order: each
  // session's traffic goes to one of them, by its code.
  Redis second;
  const std::string both = redis.address() + "," + second.address();
  for (const char* name : {"d", "e"}) {
    nodes[name] = std::make_unique<ServerProcess>(
        postgres.address(), std::vector<std::string>{"--redis", both, "--node-id", name, "--rtc", "off"});
  }
  std::vector<Created> sessions;
  std::vector<std::unique_ptr<WsClient>> speakers, listeners;
  // Codes are random: sessions are made until each server has some (four
  // at least; one in 2^15 that sixteen all land on one).
  auto both_used = [&] {
    return redis.count_keys("parley:events:") > 0 && second.count_keys("parley:events:") > 0;
  };
  while (sessions.size() < 16 && (sessions.size() < 4 || !eventually(both_used, 1s))) {
    sessions.push_back(testing::create_session(port("d"), {{"name", "Shard " + std::to_string(sessions.size())}, {"sourceLanguage", "en"}}));
    speakers.push_back(std::make_unique<WsClient>(port("d")));
    ASSERT_TRUE(testing::join_speaker(*speakers.back(), sessions.back()));
    ASSERT_EQ(testing::control(port("d"), sessions.back(), "start"), 200);
    ASSERT_TRUE(eventually([&] {
      return testing::http_request(port("e"), "GET", "/api/sessions/" + sessions.back().code).status == 200;
    }, 5s));
    listeners.push_back(std::make_unique<WsClient>(port("e")));
    testing::join_listener(*listeners.back(), sessions.back().code, "en");
    ASSERT_TRUE(listeners.back()->wait_for_type("welcome", 10s));
  }
  const size_t n = sessions.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < 3; ++k) type(*speakers[i], kLines[(i + k) % kLines.size()]);
  }
  for (size_t i = 0; i < n; ++i) {
    auto& l = *listeners[i];
    ASSERT_TRUE(l.wait_for_type("final", 20s, 3)) << "session " << i;
    EXPECT_EQ(final_seqs(l), one_to(3));
    EXPECT_EQ(l.of_type("final")[2]["text"], kLines[(i + 2) % kLines.size()]);
  }
  // Both servers carry sessions' logs, each session's on one; the
  // directory is on the first.
  EXPECT_TRUE(both_used());
  EXPECT_EQ(redis.count_keys("parley:events:") + second.count_keys("parley:events:"), n);
  EXPECT_EQ(second.count_keys("parley:sessions"), 0U);
}

TEST_F(NodesTest, ARedisThatAsksForAPasswordIsSpokenToWithIt) {
  Redis locked("correct horse");
  const std::string redis_port = locked.address().substr(locked.address().rfind(':') + 1);
  for (const char* name : {"d", "e"}) {
    nodes[name] = std::make_unique<ServerProcess>(
        postgres.address(), std::vector<std::string>{"--redis", "redis://:correct horse@127.0.0.1:" + redis_port,
                                                     "--node-id", name, "--rtc", "off"});
  }
  const Created s = testing::create_session(port("d"), {{"name", "Locked Redis"}, {"sourceLanguage", "en"}});
  WsClient speaker(port("d"));
  ASSERT_TRUE(testing::join_speaker(speaker, s));
  ASSERT_EQ(testing::control(port("d"), s, "start"), 200);
  ASSERT_TRUE(eventually([&] { return testing::http_request(port("e"), "GET", "/api/sessions/" + s.code).status == 200; }, 5s));
  WsClient listener(port("e"));
  testing::join_listener(listener, s.code, "en");
  ASSERT_TRUE(listener.wait_for_type("welcome", 10s));
  type(speaker, kLines[0]);
  ASSERT_TRUE(listener.wait_for_type("final", 20s, 1));
  EXPECT_EQ(listener.of_type("final")[0]["text"], kLines[0]);
  EXPECT_GT(locked.count_keys("parley:events:"), 0U);
  EXPECT_EQ(metric(port("e"), "parley_bus_connected"), 1);
}

TEST_F(NodesTest, ANodeWhoseSessionWasTakenMeanwhileCannotAddToItsLog) {
  // As if node a had been cut off and another node had taken the session:
  // the lease and its fencing counter move on in Redis behind a's back.
  const Created s = testing::create_session(port("a"), {{"name", "Taken behind its back"}, {"sourceLanguage", "en"}});
  WsClient speaker(port("a"));
  ASSERT_TRUE(testing::join_speaker(speaker, s));
  ASSERT_EQ(testing::control(port("a"), s, "start"), 200);
  type(speaker, kLines[0]);
  ASSERT_TRUE(speaker.wait_for_type("final", 20s, 1));
  const std::string log = "parley:events:" + s.code + ":log";
  ASSERT_TRUE(eventually([&] { return redis.cli("XLEN " + log) == "2\n"; }, 5s)) << redis.cli("XLEN " + log);  // state, final
  const std::string newer = std::to_string(std::stoll(redis.cli("GET parley:lease:" + s.code + ":fence")) + 1);
  redis.cli("SET parley:lease:" + s.code + ":fence " + newer);
  redis.cli("SET parley:lease:" + s.code + " 'elsewhere " + newer + "' PX 60000");
  const double dropped = metric(port("a"), "parley_bus_dropped_total");
  type(speaker, kLines[1]);
  // Refused by Redis (counted), never in the log; a's next renewal fails,
  // and a lets its speaker go.
  EXPECT_TRUE(eventually([&] { return metric(port("a"), "parley_bus_dropped_total") > dropped; }, 5s));
  EXPECT_EQ(redis.cli("XLEN " + log), "2\n");
  EXPECT_TRUE(eventually([&] { return speaker.closed(); }, 10s));
  EXPECT_TRUE(eventually([&] {
    return metric(port("a"), "parley_session_moves_total{how=\"lease_lost\"}") == 1;
  }, 5s));
}

TEST_F(NodesTest, ListenersOfAKilledNodeReconnectElsewhereAndMissNothing) {
  const Created s = testing::create_session(port("a"), {{"name", "Listener node dies"}, {"sourceLanguage", "en"}});
  WsClient speaker(port("a"));
  ASSERT_TRUE(testing::join_speaker(speaker, s));
  ASSERT_EQ(testing::control(port("a"), s, "start"), 200);
  auto on_b = std::make_unique<WsClient>(port("b"));
  testing::join_listener(*on_b, s.code, "es");
  ASSERT_TRUE(on_b->wait_for_type("welcome", 10s));
  for (size_t i = 0; i < 4; ++i) type(speaker, kLines[i]);
  ASSERT_TRUE(on_b->wait_for_type("final", 20s, 4));
  const auto before = final_seqs(*on_b);

  nodes.at("b")->stop(SIGKILL);
  ASSERT_TRUE(on_b->wait_for([&](const auto&) { return on_b->closed(); }, 10s));
  // Captions go on while the listener finds another node.
  for (size_t i = 4; i < 7; ++i) type(speaker, kLines[i]);
  WsClient on_c(port("c"));
  testing::join_listener(on_c, s.code, "es", before.back());
  for (size_t i = 7; i < kLines.size(); ++i) type(speaker, kLines[i]);
  ASSERT_TRUE(on_c.wait_for_type("final", 20s, kLines.size() - before.size()));
  auto all = before;
  for (auto q : final_seqs(on_c)) all.push_back(q);
  EXPECT_EQ(all, one_to(static_cast<int64_t>(kLines.size())));  // complete, in order, none twice
}

TEST_F(NodesTest, WhenTheSpeakersNodeIsKilledTheSpeakerCarriesOnThroughAnother) {
  const Created s = testing::create_session(port("a"), {{"name", "Speaker node dies"}, {"sourceLanguage", "en"}});
  auto speaker = std::make_unique<WsClient>(port("a"));
  ASSERT_TRUE(testing::join_speaker(*speaker, s));
  ASSERT_EQ(testing::control(port("a"), s, "start"), 200);
  WsClient on_c(port("c"));
  testing::join_listener(on_c, s.code, "fr");
  ASSERT_TRUE(on_c.wait_for_type("welcome", 10s));
  for (size_t i = 0; i < 4; ++i) type(*speaker, kLines[i]);
  ASSERT_TRUE(on_c.wait_for_type("final", 20s, 4));

  nodes.at("a")->stop(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  // The speaker page reconnects every second (here to node b) until a join is welcomed.
  std::unique_ptr<WsClient> again;
  const auto give_up = killed + 20s;
  bool joined = false;
  while (!joined && std::chrono::steady_clock::now() < give_up) {
    again = std::make_unique<WsClient>(port("b"));
    again->send_json({{"type", "join"}, {"role", "speaker"}, {"code", s.code}, {"token", s.token},
                      {"sampleRate", 16000}, {"takeover", true}});
    again->wait_for([](const auto& ms) {
      for (const auto& m : ms) {
        if (!m.binary && (m.json["type"] == "welcome" || m.json["type"] == "error")) return true;
      }
      return false;
    }, 5s);
    joined = !again->of_type("welcome").empty();
    if (!joined) std::this_thread::sleep_for(1s);
  }
  ASSERT_TRUE(joined);
  const auto moved_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed).count();
  std::printf("[ info ] the speaker was back on another node %lld ms after its node died\n",
              static_cast<long long>(moved_ms));
  EXPECT_EQ(again->of_type("welcome").at(0)["lastSeq"], 4);
  for (size_t i = 4; i < kLines.size(); ++i) type(*again, kLines[i]);
  ASSERT_TRUE(on_c.wait_for_type("final", 20s, kLines.size()));
  EXPECT_EQ(final_seqs(on_c), one_to(static_cast<int64_t>(kLines.size())));
  EXPECT_EQ(on_c.of_type("final").back()["language"], "fr");
  // The history is one, whichever node stored which final and whichever is asked.
  std::string last_history;
  ASSERT_TRUE(eventually([&] {
    auto r = testing::http_request(port("c"), "GET", "/api/sessions/" + s.code + "/history?after=0");
    last_history = std::to_string(r.status);
    if (r.status != 200) return false;
    auto items = json::parse(r.body)["items"];
    for (const auto& i : items) last_history += " " + i["seq"].dump() + ":" + i["source"].get<std::string>().substr(0, 8);
    if (items.size() != kLines.size()) return false;
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i]["seq"] != static_cast<int64_t>(i + 1) || items[i]["source"] != kLines[i]) return false;
    }
    return true;
  }, 10s)) << last_history;
}

TEST_F(NodesTest, ANodeStoppedForAnUpgradeLeavesItsSessionToTheOthersInsteadOfEndingIt) {
  const Created s = testing::create_session(port("a"), {{"name", "Rolling upgrade"}, {"sourceLanguage", "en"}});
  auto speaker = std::make_unique<WsClient>(port("a"));
  ASSERT_TRUE(testing::join_speaker(*speaker, s));
  ASSERT_EQ(testing::control(port("a"), s, "start"), 200);
  WsClient on_b(port("b"));
  testing::join_listener(on_b, s.code, "es");
  ASSERT_TRUE(on_b.wait_for_type("welcome", 10s));
  for (size_t i = 0; i < 3; ++i) type(*speaker, kLines[i]);
  ASSERT_TRUE(on_b.wait_for_type("final", 20s, 3));

  EXPECT_EQ(nodes.at("a")->stop(SIGTERM), 0);  // a clean stop, as systemd does
  ASSERT_TRUE(speaker->wait_for([&](const auto&) { return speaker->closed(); }, 10s));
  EXPECT_TRUE(speaker->of_type("sessionEnded").empty());  // the talk goes on
  const auto stopped = std::chrono::steady_clock::now();
  std::unique_ptr<WsClient> again;
  ASSERT_TRUE(eventually([&] {
    again = std::make_unique<WsClient>(port("c"));
    again->send_json({{"type", "join"}, {"role", "speaker"}, {"code", s.code}, {"token", s.token},
                      {"sampleRate", 16000}, {"takeover", true}});
    return again->wait_for_type("welcome", 2s);
  }, 15s));
  std::printf("[ info ] after a clean stop the speaker was back %lld ms later\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - stopped).count()));
  EXPECT_EQ(again->of_type("welcome").at(0)["state"], "ACTIVE");
  for (size_t i = 3; i < 6; ++i) type(*again, kLines[i]);
  ASSERT_TRUE(on_b.wait_for_type("final", 20s, 6));
  EXPECT_EQ(final_seqs(on_b), one_to(6));
  EXPECT_TRUE(on_b.of_type("sessionEnded").empty());
}

TEST_F(NodesTest, ARedisRestartLosesNoFinal) {
  const Created s = testing::create_session(port("a"), {{"name", "Redis restarts"}, {"sourceLanguage", "en"}});
  WsClient speaker(port("a"));
  ASSERT_TRUE(testing::join_speaker(speaker, s));
  ASSERT_EQ(testing::control(port("a"), s, "start"), 200);
  WsClient on_b(port("b"));
  testing::join_listener(on_b, s.code, "en");
  ASSERT_TRUE(on_b.wait_for_type("welcome", 10s));
  for (size_t i = 0; i < 3; ++i) type(speaker, kLines[i]);
  ASSERT_TRUE(on_b.wait_for_type("final", 20s, 3));

  redis.stop(SIGKILL);
  for (size_t i = 3; i < 6; ++i) type(speaker, kLines[i]);
  ASSERT_TRUE(speaker.wait_for_type("final", 20s, 6));  // node a carries on alone meanwhile
  redis.start();
  for (size_t i = 6; i < kLines.size(); ++i) type(speaker, kLines[i]);
  ASSERT_TRUE(on_b.wait_for_type("final", 30s, kLines.size()));
  EXPECT_EQ(final_seqs(on_b), one_to(static_cast<int64_t>(kLines.size())));
  // A node that never saw the session finds it again (the directory was rebuilt).
  ASSERT_TRUE(eventually([&] { return testing::http_request(port("c"), "GET", "/api/sessions/" + s.code).status == 200; }, 10s));
  WsClient on_c(port("c"));
  testing::join_listener(on_c, s.code, "en");
  ASSERT_TRUE(on_c.wait_for_type("final", 20s, kLines.size()));
  EXPECT_EQ(final_seqs(on_c), one_to(static_cast<int64_t>(kLines.size())));
  EXPECT_GT(metric(port("b"), "parley_bus_reconnects_total"), 0);
}

// nginx in front, configured from deploy/nginx/parley.conf with this test's ports.
class Nginx {
 public:
  Nginx(const std::vector<unsigned short>& nodes)
      : port_(free_port()), dir_(std::filesystem::temp_directory_path() / ("parley-nginx-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/deploy/nginx/parley.conf");
    std::stringstream site;
    site << in.rdbuf();
    std::string conf = site.str();
    // The documented file, with this test's nodes and port.
    std::string servers;
    for (auto p : nodes) servers += "    server 127.0.0.1:" + std::to_string(p) + " max_fails=1 fail_timeout=5s;\n";
    const auto first = conf.find("    server 127.0.0.1:8081");
    const auto last = conf.find("keepalive", first);
    if (first == std::string::npos || last == std::string::npos) throw std::runtime_error("deploy/nginx/parley.conf changed");
    conf.replace(first, last - first, servers + "    ");
    const auto listen = conf.find("listen 8080;");
    if (listen == std::string::npos) throw std::runtime_error("deploy/nginx/parley.conf changed");
    conf.replace(listen, 12, "listen 127.0.0.1:" + std::to_string(port_) + ";");
    std::ofstream(dir_ / "parley.conf") << conf;
    const auto d = dir_.string();
    std::ofstream(dir_ / "nginx.conf")
        << (::geteuid() == 0 ? "user root;\n" : "") << "daemon off;\nworker_processes 1;\npid " << d
        << "/nginx.pid;\nerror_log " << d << "/error.log warn;\nevents { worker_connections 4096; }\nhttp {\n"
        << "  access_log off;\n  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d
        << "/proxy;\n  fastcgi_temp_path " << d << "/fastcgi;\n  uwsgi_temp_path " << d << "/uwsgi;\n  scgi_temp_path "
        << d << "/scgi;\n  include " << d << "/parley.conf;\n}\n";
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string conf_path = (dir_ / "nginx.conf").string();
      ::execl("/usr/sbin/nginx", "nginx", "-c", conf_path.c_str(), "-p", d.c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    if (!eventually([&] { return accepts(port_); }, 10s)) throw std::runtime_error("nginx did not start");
  }
  ~Nginx() {
    ::kill(pid_, SIGQUIT);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    if (!::testing::Test::HasFailure()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  unsigned short port() const { return port_; }

 private:
  unsigned short port_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

// A listener page: joins through the balancer, and when its node dies,
// joins again with `since` (as listener.js does).
struct Listener {
  std::string language;
  std::unique_ptr<WsClient> ws;
  std::vector<int64_t> seen;  // every final it showed, in order
  size_t taken = 0;           // finals of `ws` already in `seen`
  void join(unsigned short port, const std::string& code) {
    ws = std::make_unique<WsClient>(port);
    taken = 0;
    testing::join_listener(*ws, code, language, seen.empty() ? 0 : seen.back());
  }
  // Takes what came; rejoins when the connection dropped.
  void sync(unsigned short port, const std::string& code) {
    auto finals = ws->of_type("final");
    for (; taken < finals.size(); ++taken) seen.push_back(finals[taken]["seq"].get<int64_t>());
    if (ws->closed()) join(port, code);
  }
};

// The speaker page: joins through the balancer with its session in the URL,
// again every second until welcomed.
std::unique_ptr<WsClient> join_speaker_through(unsigned short port, const Created& s, std::chrono::seconds within) {
  const auto give_up = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < give_up) {
    auto ws = std::make_unique<WsClient>(port, true, 0, "/ws?speaker=" + s.code);
    ws->send_json({{"type", "join"}, {"role", "speaker"}, {"code", s.code}, {"token", s.token},
                   {"sampleRate", 16000}, {"takeover", true}});
    ws->wait_for([](const auto& ms) {
      for (const auto& m : ms) {
        if (!m.binary && (m.json["type"] == "welcome" || m.json["type"] == "error")) return true;
      }
      return false;
    }, 5s);
    if (!ws->of_type("welcome").empty()) return ws;
    std::this_thread::sleep_for(1s);
  }
  return nullptr;
}

TEST_F(NodesTest, BehindNginxListenersAndTheSpeakerSurviveTheirNodesDying) {
  Nginx nginx({port("a"), port("b"), port("c")});
  const auto lb = nginx.port();
  const Created s = testing::create_session(lb, {{"name", "Behind nginx"}, {"sourceLanguage", "en"}});
  auto speaker = join_speaker_through(lb, s, 20s);
  ASSERT_NE(speaker, nullptr);
  std::vector<Listener> listeners;
  for (const char* lang : {"es", "fr", "es", "fr", "en", "es"}) listeners.push_back({lang, nullptr, {}, 0});
  for (auto& l : listeners) l.join(lb, s.code);
  for (auto& l : listeners) ASSERT_TRUE(l.ws->wait_for_type("welcome", 10s));
  ASSERT_EQ(testing::control(lb, s, "start"), 200);  // through any node
  size_t typed = 0;
  auto say = [&](size_t n) {
    for (size_t i = 0; i < n; ++i, ++typed) type(*speaker, kLines[typed % kLines.size()] + " (" + std::to_string(typed + 1) + ")");
  };
  auto everyone_has = [&](size_t n) {
    return eventually([&] {
      bool all = true;
      for (auto& l : listeners) {
        l.sync(lb, s.code);
        all = all && l.seen.size() >= n;
      }
      return all;
    }, 30s);
  };
  say(5);
  ASSERT_TRUE(everyone_has(5));

  // The listeners spread over the nodes; one node that runs no session dies.
  std::string runs, other;
  for (const auto& [name, node] : nodes) {
    if (metric(node->port(), "parley_sessions_running_here") == 1) runs = name;
  }
  ASSERT_FALSE(runs.empty());
  other = runs == "a" ? "b" : "a";
  nodes.at(other)->stop(SIGKILL);
  say(5);
  ASSERT_TRUE(everyone_has(10));

  // Now the speaker's node dies: the speaker page comes back through the
  // balancer, on the next node, once the lease has lapsed.
  nodes.at(runs)->stop(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  speaker = join_speaker_through(lb, s, 30s);
  ASSERT_NE(speaker, nullptr);
  std::printf("[ info ] behind nginx: the speaker was back %lld ms after its node died\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - killed).count()));
  say(5);
  ASSERT_TRUE(everyone_has(15));
  for (const auto& l : listeners) EXPECT_EQ(l.seen, one_to(15)) << l.language;  // complete, in order, none twice
}

}  // namespace
}  // namespace parley

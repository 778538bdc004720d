// SPDX-License-Identifier: GPL-3.0-or-later
// Attacks and faults against a real `parley serve` on loopback: each test
// is one defect an outside audit found (docs/reliability.md lists them all).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <set>
#include <thread>

#include "support/server_process.h"
#include "support/sessions.h"
#include "support/ws_client.h"

namespace parley {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::control;
using testing::create_session;
using testing::Created;
using testing::eventually;
using testing::http_request;
using testing::join_listener;
using testing::join_speaker;
using testing::metric;
using testing::ServerProcess;
using testing::temp_db;
using testing::WsClient;

// Types `n` captions of about `bytes` bytes each and waits until the speaker
// has seen every one come back as a final.
void type_captions(WsClient& speaker, size_t n, size_t bytes) {
  size_t sent = 0;
  while (sent < n) {
    // Small batches: the server holds at most 64 waiting, and the speaker's
    // own queue (it receives every final) stays well inside a small bound.
    const size_t batch = std::min<size_t>(16, n - sent);
    for (size_t i = 0; i < batch; ++i, ++sent) {
      std::string text = "Caption " + std::to_string(sent + 1) + ".";
      while (text.size() + 6 < bytes) text += " word";
      speaker.send_json({{"type", "text"}, {"text", text}});
    }
    ASSERT_TRUE(speaker.wait_for_type("final", 30s, sent)) << "typed captions came back as finals";
  }
}

double ws_connections(unsigned short port) { return metric(port, "parley_ws_connections"); }

// Starts session `s` with `speaker` joined and `listener` joined in English.
void start_with_listener(unsigned short port, const Created& s, WsClient& speaker, WsClient& listener) {
  ASSERT_TRUE(join_speaker(speaker, s));
  ASSERT_EQ(control(port, s, "start"), 200);
  join_listener(listener, s.code, "en");
  ASSERT_TRUE(listener.wait_for_type("welcome", 5s));
}

size_t listeners_of(unsigned short port, const std::string& code) {
  auto j = json::parse(http_request(port, "GET", "/api/sessions/" + code).body);
  return j["listeners"]["total"].get<size_t>();
}

// A session whose history is larger than a listener's queue: every join
// used to replay all of it, overflow the queue, be evicted, and stay
// registered anyway (the socket closed, the memory and the count kept).
TEST(Hardening, JoiningALongSessionNeitherLeaksNorInflatesCounts) {
  ServerProcess server(temp_db("long-history"), {"--listener-queue-bytes", "65536"});
  const auto port = server.port();
  Created s = create_session(port);
  WsClient speaker(port);
  ASSERT_TRUE(join_speaker(speaker, s));
  ASSERT_EQ(control(port, s, "start"), 200);
  constexpr size_t kCaptions = 120;
  type_captions(speaker, kCaptions, 1000);  // ~120 KB of history, twice the queue
  ASSERT_EQ(ws_connections(port), 1);

  {
    // Listeners that join from the start and never read.
    std::vector<std::unique_ptr<WsClient>> idle;
    for (int i = 0; i < 20; ++i) {
      idle.push_back(std::make_unique<WsClient>(port, /*read=*/false, /*receive_buffer_bytes=*/4096));
      join_listener(*idle.back(), s.code, "en", 0);
    }
    // One that reads: the newest finals come on the socket, the welcome
    // names the older ones, and REST has them.
    WsClient reader(port);
    join_listener(reader, s.code, "en", 0);
    ASSERT_TRUE(reader.wait_for_type("welcome", 5s));
    const auto welcome = reader.of_type("welcome")[0];
    ASSERT_TRUE(welcome.contains("olderHistory")) << welcome.dump();
    EXPECT_EQ(welcome["olderHistory"]["after"], 0);
    const int64_t before = welcome["olderHistory"]["before"];
    ASSERT_GT(before, 1);
    ASSERT_TRUE(reader.wait_for_type("final", 5s, static_cast<size_t>(kCaptions + 1 - before)));
    std::set<int64_t> seen;
    for (const auto& f : reader.of_type("final")) EXPECT_TRUE(seen.insert(f["seq"].get<int64_t>()).second);
    // The store is written behind the live stream: wait until it has them all.
    ASSERT_TRUE(eventually([&] {
      auto last = json::parse(http_request(port, "GET", "/api/sessions/" + s.code + "/history?limit=1&after=" +
                                                          std::to_string(kCaptions - 1)).body);
      return last["items"].size() == 1;
    }, 10s));
    int64_t after = 0;
    for (;;) {
      auto page = json::parse(http_request(port, "GET", "/api/sessions/" + s.code + "/history?limit=50&after=" +
                                                          std::to_string(after)).body);
      for (const auto& item : page["items"]) {
        if (item["seq"].get<int64_t>() < before) {
          EXPECT_TRUE(seen.insert(item["seq"].get<int64_t>()).second);
        }
      }
      if (!page["more"].get<bool>()) break;
      after = page["nextAfter"];
    }
    EXPECT_EQ(seen.size(), kCaptions) << "every final once: on the socket or over REST";
    EXPECT_TRUE(eventually([&] { return listeners_of(port, s.code) == 21; }, 5s))
        << "every listener that joined is counted, and none was evicted by its own history";
    EXPECT_EQ(metric(port, "parley_evictions_total"), 0);
  }
  // They all left: the server holds none of them any more.
  EXPECT_TRUE(eventually([&] { return ws_connections(port) == 1; }, 10s))
      << "open WebSocket connections: " << ws_connections(port);
  EXPECT_EQ(listeners_of(port, s.code), 0u);
}

// A refused join used to cancel the join timer and then wait forever for a
// close frame from a client that never sends one.
TEST(Hardening, RefusedJoinsReleaseTheirSockets) {
  ServerProcess server(temp_db("refused"));
  const auto port = server.port();
  Created s = create_session(port);
  {
    const auto sent = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<WsClient>> clients;  // they never read, so they never answer a close
    for (int i = 0; i < 10; ++i) {
      auto wrong_token = std::make_unique<WsClient>(port, false);
      wrong_token->send_json({{"type", "join"}, {"role", "speaker"}, {"code", s.code}, {"token", "nope"}});
      auto bad_role = std::make_unique<WsClient>(port, false);
      bad_role->send_json({{"type", "join"}, {"role", "king"}, {"code", s.code}});
      auto bad_language = std::make_unique<WsClient>(port, false);
      join_listener(*bad_language, s.code, "zz");
      clients.push_back(std::move(wrong_token));
      clients.push_back(std::move(bad_role));
      clients.push_back(std::move(bad_language));
    }
    const auto last_sent = std::chrono::steady_clock::now();
    EXPECT_TRUE(eventually([&] { return ws_connections(port) == 30; }, 3s));
    // Well before the 10 s join timer (which would close them too): the
    // close of a refused join gives up after 5 s, counted from each one's
    // refusal (connecting 30 clients takes a while on a loaded machine).
    const auto by = std::min(sent + 9500ms, last_sent + 8500ms);
    EXPECT_TRUE(eventually([&] { return ws_connections(port) == 0; },
                           std::chrono::duration_cast<std::chrono::milliseconds>(by - std::chrono::steady_clock::now())))
        << "still open: " << ws_connections(port);
    EXPECT_LT(std::chrono::steady_clock::now(), sent + 9900ms);
  }
}

// A binary first message is not a join: closed at once, not at the join timeout.
TEST(Hardening, AGarbageBinaryFirstMessageIsClosedAtOnce) {
  ServerProcess server(temp_db("garbage"));
  WsClient c(server.port());
  const auto sent = std::chrono::steady_clock::now();
  c.send_binary(std::string("\x00\x01\x02\x03garbage", 11));
  ASSERT_TRUE(c.wait_for_type("error", 5s));
  EXPECT_EQ(c.of_type("error")[0]["code"], "bad_message");
  ASSERT_TRUE(c.wait_for([&](const auto&) { return c.closed(); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 3s);
}

// The whole answer to a raw request, headers included (up to 64 KiB).
std::string raw_response(unsigned short port, const std::string& request) {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  sock.connect({net::ip::make_address("127.0.0.1"), port});
  boost::system::error_code ec;
  net::write(sock, net::buffer(request), ec);
  std::string got;
  std::array<char, 4096> buf{};
  while (got.size() < 65536) {
    size_t n = sock.read_some(net::buffer(buf), ec);
    if (ec || n == 0) break;
    got.append(buf.data(), n);
    if (got.find("\r\n\r\n") != std::string::npos) break;
  }
  return got;
}

// The status line of the answer to a raw request (empty when the server
// closed without one).
std::string raw_status_line(unsigned short port, const std::string& request) {
  const std::string answer = raw_response(port, request);
  return answer.substr(0, answer.find("\r\n"));
}

TEST(Hardening, ScanningCodesIsSlowedToMonths) {
  ServerProcess server(temp_db("scan"));
  const auto port = server.port();
  Created real = create_session(port);
  // The default: 10 misses a minute in bursts of 5, so a million codes take
  // 100,000 minutes (69 days) from one address.
  std::vector<int> statuses;
  for (int i = 0; i < 8; ++i) {
    statuses.push_back(http_request(port, "GET", "/api/sessions/90000" + std::to_string(i)).status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{404, 404, 404, 404, 404, 429, 429, 429}));
  const auto limited = raw_response(port, "GET /api/sessions/900009 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(limited.substr(0, 12), "HTTP/1.1 429") << limited;
  EXPECT_NE(limited.find("Retry-After: "), std::string::npos) << limited;
  // While limited, a real code is refused too, and so are the other doors.
  EXPECT_EQ(http_request(port, "GET", "/api/sessions/" + real.code).status, 429);
  EXPECT_EQ(http_request(port, "GET", "/listener/" + real.code).status, 429);
  EXPECT_EQ(http_request(port, "GET", "/listen/" + real.code + "/es.ogg").status, 429);
  WsClient ws(port);
  join_listener(ws, real.code, "en");
  ASSERT_TRUE(ws.wait_for_type("error", 5s));
  EXPECT_EQ(ws.of_type("error")[0]["code"], "rate_limited");
  EXPECT_GE(ws.of_type("error")[0]["retryAfterS"].get<int>(), 1);
  EXPECT_TRUE(ws.wait_for([&](const auto&) { return ws.closed(); }, 8s));
  EXPECT_GE(metric(port, "parley_rate_limited_total{action=\"unknown_code\"}"), 6);
}

TEST(Hardening, OperatorKeysAndRateLimitsGuardSessionCreation) {
  ServerProcess server(temp_db("keys"), {"--api-keys", "alpha-key, beta-key", "--rate-create-per-min", "4"});
  const auto port = server.port();
  const std::string body = json{{"name", "Keyed"}, {"sourceLanguage", "en"}}.dump();
  EXPECT_EQ(http_request(port, "POST", "/api/sessions", body).status, 401);
  EXPECT_EQ(http_request(port, "POST", "/api/sessions", body, "gamma-key").status, 403);
  EXPECT_EQ(http_request(port, "POST", "/api/sessions", body, "beta-key").status, 201);
  EXPECT_EQ(http_request(port, "POST", "/api/sessions", body, "alpha-key").status, 201);
  EXPECT_EQ(http_request(port, "POST", "/api/sessions", body, "alpha-key").status, 429) << "4 a minute, 2 at once";
  // Guessing keys is throttled like guessing codes.
  int refused = 0;
  for (int i = 0; i < 8; ++i) refused += http_request(port, "POST", "/api/sessions", body, "guess").status == 429;
  EXPECT_GE(refused, 4);
}

TEST(Hardening, OneAddressHoldsAtMostItsConnectionCap) {
  ServerProcess server(temp_db("cap"), {"--max-connections-per-address", "5"});
  const auto port = server.port();
  {
    std::vector<std::unique_ptr<WsClient>> held;
    for (int i = 0; i < 5; ++i) held.push_back(std::make_unique<WsClient>(port));  // throws if refused
    EXPECT_EQ(raw_response(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), "") << "the sixth is closed unread";
  }
  EXPECT_TRUE(eventually([&] { return http_request(port, "GET", "/healthz").status == 200; }, 5s));
  EXPECT_GE(metric(port, "parley_connections_refused_total"), 1);
}

// Another process holds the database's write lock for longer than SQLite's
// busy timeout: captions keep flowing, joins and health checks stay fast,
// /readyz says the store is stuck, and the history is written once the lock
// goes.
TEST(Hardening, ALockedDatabaseNeitherStallsTheServerNorLosesHistory) {
  const std::string db = temp_db("locked");
  ServerProcess server(db);
  const auto port = server.port();
  Created s = create_session(port);
  WsClient speaker(port), listener(port);
  ASSERT_NO_FATAL_FAILURE(start_with_listener(port, s, speaker, listener));
  ASSERT_EQ(http_request(port, "GET", "/readyz").status, 200);

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  sqlite3_busy_timeout(other, 5000);  // the server may be writing just now
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto locked_at = std::chrono::steady_clock::now();
  speaker.send_json({{"type", "text"}, {"text", "Written while the database was locked."}});
  // Waiting for the disk would take SQLite's 5 s busy timeout: 3 s bounds
  // leave room for a loaded machine and still tell the two apart.
  EXPECT_TRUE(listener.wait_for_type("final", 3s)) << "captions do not wait for the disk";
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
    WsClient late(port);
    join_listener(late, s.code, "en");
    EXPECT_TRUE(late.wait_for_type("final", 3s)) << "a join replays from memory";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  }
  EXPECT_TRUE(eventually([&] { return http_request(port, "GET", "/readyz").status == 503; }, 6s))
      << "readiness reports a store that cannot write";
  std::this_thread::sleep_until(locked_at + 7s);  // past SQLite's 5 s busy timeout
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE(eventually([&] { return http_request(port, "GET", "/readyz").status == 200; }, 10s));
  EXPECT_TRUE(eventually([&] {
    auto h = json::parse(http_request(port, "GET", "/api/sessions/" + s.code + "/history").body);
    return h["items"].size() == 1 && h["items"][0]["source"] == "Written while the database was locked.";
  }, 10s)) << "the write was retried, not lost";
}

TEST(Hardening, OneSpeakerAtATimeUnlessItTakesOver) {
  ServerProcess server(temp_db("speakers"));
  const auto port = server.port();
  Created s = create_session(port);
  WsClient first(port);
  ASSERT_TRUE(join_speaker(first, s));
  WsClient second(port);
  ASSERT_FALSE(join_speaker(second, s));
  ASSERT_FALSE(second.of_type("error").empty());
  EXPECT_EQ(second.of_type("error")[0]["code"], "speaker_connected");
  EXPECT_TRUE(second.wait_for([&](const auto&) { return second.closed(); }, 8s));
  WsClient third(port);
  third.send_json({{"type", "join"}, {"role", "speaker"}, {"code", s.code}, {"token", s.token}, {"takeover", true}});
  ASSERT_TRUE(third.wait_for_type("welcome", 5s));
  ASSERT_TRUE(first.wait_for_type("error", 5s));
  EXPECT_EQ(first.of_type("error")[0]["code"], "replaced");
  EXPECT_TRUE(first.wait_for([&](const auto&) { return first.closed(); }, 8s));
  // The new speaker controls the session.
  third.send_json({{"type", "control"}, {"action", "start"}});
  EXPECT_TRUE(third.wait_for_type("state", 5s));

  // Generations: the first page, reconnecting after it lost its connection,
  // resumes the generation it held. Another page took over since: it is
  // told so and the session stays with that page.
  const auto first_generation = first.of_type("welcome")[0]["speakerGeneration"].get<uint64_t>();
  const auto third_generation = third.of_type("welcome")[0]["speakerGeneration"].get<uint64_t>();
  EXPECT_GT(third_generation, first_generation);
  WsClient first_again(port);
  first_again.send_json({{"type", "join"}, {"role", "speaker"}, {"code", s.code}, {"token", s.token},
                         {"takeover", true}, {"resume", first_generation}});
  ASSERT_TRUE(first_again.wait_for_type("error", 5s));
  EXPECT_EQ(first_again.of_type("error")[0]["code"], "replaced");
  EXPECT_TRUE(first_again.of_type("welcome").empty());
  EXPECT_TRUE(third.of_type("error").empty()) << "the page in control keeps it";
  // A page resuming its own generation (its old connection not yet seen to
  // drop) takes its place.
  WsClient third_again(port);
  third_again.send_json({{"type", "join"}, {"role", "speaker"}, {"code", s.code}, {"token", s.token},
                         {"takeover", true}, {"resume", third_generation}});
  ASSERT_TRUE(third_again.wait_for_type("welcome", 5s));
  ASSERT_TRUE(third.wait_for_type("error", 5s));
  EXPECT_EQ(third.of_type("error")[0]["code"], "replaced");
}

TEST(Hardening, ListenersAndLanguagesPerSessionAreCapped) {
  ServerProcess server(temp_db("caps"), {"--max-listeners-per-session", "3", "--max-languages-per-session", "2"});
  const auto port = server.port();
  Created s = create_session(port);
  WsClient es(port), fr(port), pt(port), es2(port), es3(port);
  join_listener(es, s.code, "es");
  join_listener(fr, s.code, "fr");
  ASSERT_TRUE(es.wait_for_type("welcome", 5s));
  ASSERT_TRUE(fr.wait_for_type("welcome", 5s));
  join_listener(pt, s.code, "pt");
  ASSERT_TRUE(pt.wait_for_type("error", 5s));
  EXPECT_EQ(pt.of_type("error")[0]["code"], "resource_exhausted");
  EXPECT_NE(pt.of_type("error")[0]["message"].get<std::string>().find("2 languages"), std::string::npos);
  join_listener(es2, s.code, "es");
  ASSERT_TRUE(es2.wait_for_type("welcome", 5s)) << "a language already translated costs nothing new";
  join_listener(es3, s.code, "es");
  ASSERT_TRUE(es3.wait_for_type("error", 5s));
  EXPECT_NE(es3.of_type("error")[0]["message"].get<std::string>().find("maximum of 3 listeners"), std::string::npos);
  EXPECT_EQ(http_request(port, "GET", "/listen/" + s.code + "/es.ogg").status, 429) << "audio streams count too";
}

TEST(Hardening, PagesAndAnswersCarrySecurityHeaders) {
  ServerProcess server(temp_db("headers"));
  const auto page = raw_response(server.port(), "GET /speaker HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(page.find("Content-Security-Policy: default-src 'self'"), std::string::npos) << page;
  EXPECT_NE(page.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(page.find("X-Content-Type-Options: nosniff"), std::string::npos);
  EXPECT_NE(page.find("Referrer-Policy: no-referrer"), std::string::npos) << "listener links carry a key";
  const auto api = raw_response(server.port(), "GET /api/languages HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(api.find("X-Content-Type-Options: nosniff"), std::string::npos) << api;
}

TEST(Hardening, EndedTranscriptsAreReadWithTheListenerLinkOnly) {
  ServerProcess server(temp_db("private"));
  const auto port = server.port();
  Created s = create_session(port);
  ASSERT_EQ(s.listener_key.size(), 32u);
  WsClient speaker(port);
  ASSERT_TRUE(join_speaker(speaker, s));
  ASSERT_EQ(control(port, s, "start"), 200);
  speaker.send_json({{"type", "text"}, {"text", "Only the audience may read this later."}});
  ASSERT_TRUE(speaker.wait_for_type("final", 10s));
  const std::string transcript = "/api/sessions/" + s.code + "/transcript?format=json";
  EXPECT_EQ(http_request(port, "GET", transcript).status, 200) << "while live, anyone with the code";
  ASSERT_EQ(control(port, s, "end"), 200);
  // At once, although the store learns of the end a moment later.
  EXPECT_EQ(http_request(port, "GET", transcript).status, 403);
  EXPECT_NE(http_request(port, "GET", transcript).body.find("listener link"), std::string::npos);
  EXPECT_EQ(http_request(port, "GET", "/api/sessions/" + s.code + "/history").status, 403);
  EXPECT_EQ(http_request(port, "GET", transcript + "&key=0123456789abcdef0123456789abcdef").status, 403);
  // (The store's writer may still hold the final's row: asked until it is there.)
  EXPECT_TRUE(eventually([&] {
    auto with_key = http_request(port, "GET", transcript + "&key=" + s.listener_key);
    return with_key.status == 200 && with_key.body.find("Only the audience may read this later.") != std::string::npos;
  }, 5s));
  EXPECT_EQ(http_request(port, "GET", transcript, "", s.token).status, 200) << "the speaker reads it";
  const std::string lower = "GET " + transcript + " HTTP/1.1\r\nHost: x\r\nAuthorization: bearer " + s.token + "\r\n\r\n";
  EXPECT_EQ(raw_status_line(port, lower), "HTTP/1.1 200 OK") << "the scheme is case-insensitive";
  // Made public, anyone reads it.
  EXPECT_EQ(http_request(port, "POST", "/api/sessions/" + s.code + "/publish", "{}", "not-the-token").status, 403);
  EXPECT_EQ(http_request(port, "POST", "/api/sessions/" + s.code + "/publish", "{}", s.token).status, 200);
  EXPECT_TRUE(eventually([&] { return http_request(port, "GET", transcript).status == 200; }, 5s));
}

// The disk fills up (no file may grow past 256 KiB): captions keep flowing,
// /readyz and /metrics say the store cannot write, and the server neither
// stops nor stalls.
TEST(Hardening, AFullDiskIsReportedNotFatal) {
  ServerProcess server(temp_db("full"), {}, 256 * 1024);
  const auto port = server.port();
  Created s = create_session(port);
  WsClient speaker(port), listener(port);
  ASSERT_NO_FATAL_FAILURE(start_with_listener(port, s, speaker, listener));
  type_captions(speaker, 400, 1000);  // ~0.4 MB of history: more than the disk holds
  EXPECT_TRUE(listener.wait_for_type("final", 10s, 400)) << "every caption reached the listener";
  EXPECT_TRUE(eventually([&] { return http_request(port, "GET", "/readyz").status == 503; }, 15s));
  EXPECT_EQ(metric(port, "parley_store_up"), 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
  WsClient late(port);
  join_listener(late, s.code, "en");
  EXPECT_TRUE(late.wait_for_type("welcome", 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(server.stop(SIGTERM), 0) << "and it shuts down cleanly";
}

// A speaker whose rate is not an integer would be heard as noise: refused.
TEST(Hardening, ASpeakerJoinWithoutAnIntegerRateIsRefused) {
  ServerProcess server(temp_db("rate"));
  Created s = create_session(server.port());
  for (const json& rate : {json("44100"), json(16000.5), json(1e20)}) {
    WsClient c(server.port());
    c.send_json({{"type", "join"}, {"role", "speaker"}, {"code", s.code}, {"token", s.token}, {"sampleRate", rate}});
    ASSERT_TRUE(c.wait_for_type("error", 5s)) << rate.dump();
    EXPECT_EQ(c.of_type("error")[0]["code"], "bad_sample_rate");
    EXPECT_TRUE(c.of_type("welcome").empty()) << rate.dump();
    EXPECT_TRUE(c.wait_for([&](const auto&) { return c.closed(); }, 8s));
  }
}

TEST(Hardening, OversizedRequestsGet413And431) {
  ServerProcess server(temp_db("oversized"));
  const auto port = server.port();
  auto big = http_request(port, "POST", "/api/sessions", std::string(70 * 1024, ' '));
  EXPECT_EQ(big.status, 413) << big.body;
  const std::string huge_header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(12 * 1024, 'a') +
                                  "\r\n\r\n";
  EXPECT_EQ(raw_status_line(port, huge_header), "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200) << "and the server carries on";
}

TEST(Hardening, QrCodesOfAnyBytesAreAnsweredNot500) {
  ServerProcess server(temp_db("qr"));
  EXPECT_EQ(http_request(server.port(), "GET", "/qr.svg?data=%00").status, 200);
  EXPECT_EQ(http_request(server.port(), "GET", "/qr.svg?data=a%00b%FF").status, 200);
  EXPECT_EQ(http_request(server.port(), "GET", "/qr.svg?data=").status, 400);
}

TEST(Hardening, AudioStreamsOfLanguagesWithoutSpeechAre404) {
  ServerProcess server(temp_db("listen-404"));
  const auto port = server.port();
  Created s = create_session(port, {{"name", "Streams"}, {"sourceLanguage", "en"}});
  for (const std::string lang : {"zz", "en", "de", "x"}) {
    auto r = http_request(port, "GET", "/listen/" + s.code + "/" + lang + ".ogg");
    EXPECT_EQ(r.status, 404) << lang << ": " << r.body;
    EXPECT_NE(r.content_type.find("application/json"), std::string::npos);
  }
  EXPECT_EQ(metric(port, "parley_audio_streams"), 0);
}

// A player that opens /listen/… and never reads used to be kept forever.
TEST(Hardening, AnAudioStreamThatStopsReadingIsEvicted) {
  ServerProcess server(temp_db("listen-evict"), {"--slow-listener-ms", "1000", "--listener-send-buffer", "4096"});
  const auto port = server.port();
  Created s = create_session(port);
  WsClient speaker(port);
  ASSERT_TRUE(join_speaker(speaker, s));
  ASSERT_EQ(control(port, s, "start"), 200);
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket player(ioc);
  player.open(net::ip::tcp::v4());
  player.set_option(net::socket_base::receive_buffer_size(4096));
  player.connect({net::ip::make_address("127.0.0.1"), port});
  const std::string get = "GET /listen/" + s.code + "/es.ogg HTTP/1.1\r\nHost: x\r\n\r\n";
  net::write(player, net::buffer(get));
  ASSERT_TRUE(eventually([&] { return metric(port, "parley_audio_streams") == 1; }, 5s));
  // Translated speech fills the socket; the player never reads.
  for (int i = 0; i < 6; ++i) {
    speaker.send_json({{"type", "text"}, {"text", "This sentence is spoken in Spanish to a player that never reads."}});
  }
  EXPECT_TRUE(eventually([&] { return metric(port, "parley_audio_streams") == 0; }, 15s));
  EXPECT_GE(metric(port, "parley_evictions_total"), 1);
}

TEST(Hardening, FrameNumbersThatGoBackOrJumpAreRefusedNotCounted) {
  ServerProcess server(temp_db("sequence"));
  const auto port = server.port();
  Created s = create_session(port);
  WsClient speaker(port);
  ASSERT_TRUE(join_speaker(speaker, s));
  ASSERT_EQ(control(port, s, "start"), 200);
  const std::vector<int16_t> frame(320, 0);
  speaker.send_frame(1, frame);
  speaker.send_frame(2, frame);
  speaker.send_frame(5, frame);  // 3 and 4 lost: counted
  speaker.send_frame(0, frame);  // back to 0: refused, not a reset
  speaker.send_frame(0xFFFFFFFFU, frame);  // a jump of four billion frames: refused
  speaker.send_frame(6, frame);
  ASSERT_TRUE(speaker.wait_for_type("error", 5s, 2));
  EXPECT_EQ(speaker.of_type("error")[0]["code"], "bad_frame");
  EXPECT_TRUE(eventually([&] { return metric(port, "parley_audio_frames_received_total") == 4; }, 5s));
  EXPECT_EQ(metric(port, "parley_audio_sequence_gaps_total"), 2);
  // Frames sent while paused are checked too, so resuming counts no false gap.
  ASSERT_EQ(control(port, s, "pause"), 200);
  for (uint32_t seq = 7; seq < 57; ++seq) speaker.send_frame(seq, frame);
  ASSERT_TRUE(eventually([&] { return metric(port, "parley_audio_frames_ignored_total") == 50; }, 5s));
  ASSERT_EQ(control(port, s, "resume"), 200);
  speaker.send_frame(57, frame);
  EXPECT_TRUE(eventually([&] { return metric(port, "parley_audio_frames_received_total") == 5; }, 5s));
  EXPECT_EQ(metric(port, "parley_audio_sequence_gaps_total"), 2);
}

}  // namespace
}  // namespace parley

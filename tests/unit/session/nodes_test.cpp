// SPDX-License-Identifier: GPL-3.0-or-later
// Two nodes in one process, joined by a LocalBus: the session runs on the
// node that created it; listeners on the other node, in a language nobody
// asked for there, read every final once, in order, and the goodbye.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "app/engine_set.h"
#include "fanout/local_bus.h"
#include "session/registry.h"

namespace parley::session {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Collect final : public fanout::Subscriber {
 public:
  void deliver(fanout::MessagePtr m) override {
    if (m->binary) return;
    std::lock_guard lock(mu_);
    messages_.push_back(json::parse(m->bytes));
    cv_.notify_all();
  }
  void close(const std::string&) override {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  std::vector<json> of_type(const std::string& type) const {
    std::lock_guard lock(mu_);
    std::vector<json> out;
    for (const auto& m : messages_) {
      if (m["type"] == type) out.push_back(m);
    }
    return out;
  }
  // Waits until `n` messages of `type` came (or 20 s passed).
  bool wait_for(const std::string& type, size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [&] {
      size_t k = 0;
      for (const auto& m : messages_) k += m["type"] == type ? 1 : 0;
      return k >= n;
    });
  }
  bool wait_closed() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return closed_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<json> messages_;
  bool closed_ = false;
};

SessionSpec spec(std::string name) {
  SessionSpec s;
  s.name = std::move(name);
  s.source_language = "en";
  return s;
}

std::vector<int64_t> seqs(const std::vector<json>& finals) {
  std::vector<int64_t> out;
  for (const auto& f : finals) out.push_back(f["seq"].get<int64_t>());
  return out;
}

// A node's heartbeat, as the server's reaper gives it (Registry::tick about
// once a second), for as long as it is in scope: a node that lives keeps
// its leases however long a step of the test takes on a loaded machine.
class Heartbeat {
 public:
  explicit Heartbeat(Registry& node)
      : thread_([this, &node] {
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_; })) {
            lock.unlock();
            node.tick();
            lock.lock();
          }
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

class Nodes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engines = app::load_engines({.need_speech_out = false});
    ASSERT_TRUE(engines.is_ok()) << engines.status().message();
    bus = std::make_shared<fanout::LocalBus>();
    for (const char* name : {"a", "b"}) {
      LiveConfig config;
      config.bus = bus;
      config.node_id = name;
      nodes.push_back(std::make_unique<Registry>(*engines, nullptr, config, 8));
    }
  }
  std::shared_ptr<fanout::LocalBus> bus;
  std::vector<std::unique_ptr<Registry>> nodes;
};

TEST_F(Nodes, ListenersOnAnotherNodeReadEveryFinalOnceInTheirLanguageAndTheGoodbye) {
  auto created = nodes[0]->create({.name = "two nodes", .source_language = "en", .default_targets = {"es"}});
  ASSERT_TRUE(created.is_ok()) << created.status().message();
  const std::string code = created->session->code();
  EXPECT_FALSE(created->session->is_view());
  Heartbeat a_lives(*nodes[0]);  // node a lives throughout: its lease is renewed

  // Node b knows the code from the directory and runs nothing of it.
  auto on_b = nodes[1]->find(code);
  ASSERT_NE(on_b, nullptr);
  EXPECT_TRUE(on_b->is_view());
  EXPECT_EQ(on_b->info().spec.name, "two nodes");
  EXPECT_TRUE(on_b->token_matches(created->speaker_token));
  EXPECT_EQ(nodes[1]->find("999999"), nullptr);

  // A listener in French on b: nobody asked for French on a.
  auto fr = std::make_shared<Collect>();
  ASSERT_TRUE(on_b->add_listener(fr, "fr", 0).is_ok());
  auto en = std::make_shared<Collect>();
  ASSERT_TRUE(on_b->add_listener(en, "en", 0).is_ok());
  // The state change asked on b is made on a, and comes back to b.
  ASSERT_TRUE(on_b->apply(Action::start).is_ok());
  ASSERT_TRUE(fr->wait_for("state", 1));
  EXPECT_EQ(created->session->info().state, State::active);
  EXPECT_EQ(on_b->info().state, State::active);

  const std::vector<std::string> said = {"Good morning, everyone.", "The train leaves at nine.",
                                         "Thank you for coming."};
  for (const auto& text : said) ASSERT_TRUE(created->session->push_text(text).is_ok());
  ASSERT_TRUE(fr->wait_for("final", said.size()));
  ASSERT_TRUE(en->wait_for("final", said.size()));
  EXPECT_EQ(seqs(fr->of_type("final")), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(en->of_type("final")[1]["text"], said[1]);
  const auto french = fr->of_type("final");
  EXPECT_EQ(french[1]["language"], "fr");
  EXPECT_NE(french[1]["text"], said[1]);  // translated on a, for b's listener
  EXPECT_EQ(french[1]["source"], said[1]);

  // A listener reconnecting to b after seq 1 gets 2 and 3, once.
  auto again = std::make_shared<Collect>();
  ASSERT_TRUE(on_b->add_listener(again, "fr", 1).is_ok());
  EXPECT_EQ(seqs(again->of_type("final")), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(again->of_type("welcome").at(0)["lastSeq"], 3);

  // A second speaker reaching b while a lives (its heartbeat renews the
  // lease) and has its speaker is told to come again.
  nodes[0]->tick();
  auto speaker_on_a = std::make_shared<Collect>();
  ASSERT_TRUE(created->session->attach_speaker(speaker_on_a, false).is_ok());
  auto speaker = std::make_shared<Collect>();
  EXPECT_EQ(on_b->attach_speaker(speaker, false).code(), core::Code::unavailable);
  EXPECT_FALSE(created->session->is_view());

  // The end, asked on b, is said on a and reaches b's listeners.
  ASSERT_TRUE(on_b->apply(Action::end).is_ok());
  ASSERT_TRUE(fr->wait_closed());
  EXPECT_EQ(fr->of_type("sessionEnded").size(), 1U);
  EXPECT_TRUE(on_b->has_ended());
  EXPECT_EQ(seqs(fr->of_type("final")), (std::vector<int64_t>{1, 2, 3}));  // nothing repeated
}

TEST_F(Nodes, AViewIgnoresANodeWhoseLeaseIsOlderThanOneItHasSeen) {
  auto created = nodes[0]->create(spec("fenced"));
  ASSERT_TRUE(created.is_ok());
  const std::string code = created->session->code();
  auto on_b = nodes[1]->find(code);
  auto en = std::make_shared<Collect>();
  ASSERT_TRUE(on_b->add_listener(en, "en", 0).is_ok());
  ASSERT_TRUE(created->session->apply(Action::start).is_ok());
  ASSERT_TRUE(created->session->push_text("First.").is_ok());
  ASSERT_TRUE(en->wait_for("final", 1));
  // A node that took the session over (a newer lease) says something…
  CaptionEvent c;
  c.seq = 2;
  c.language = "en";
  c.source = c.text = "From the new node.";
  bus->publish(LiveSession::events_topic(code), encode_fenced(1000, c), true);
  ASSERT_TRUE(en->wait_for("final", 2));
  // … and the old node, not knowing yet, is no longer heard. (LocalBus
  // delivers on the publisher's thread, in order: once a's own listener has
  // the last final, b has been handed every one before it.)
  auto on_a = std::make_shared<Collect>();
  ASSERT_TRUE(created->session->add_listener(on_a, "en", 0).is_ok());
  ASSERT_TRUE(created->session->push_text("From the old node.").is_ok());
  ASSERT_TRUE(created->session->push_text("And again.").is_ok());
  ASSERT_TRUE(created->session->push_text("Last.").is_ok());
  ASSERT_TRUE(on_a->wait_for("final", 4));
  const auto finals = en->of_type("final");
  ASSERT_EQ(finals.size(), 2U);
  EXPECT_EQ(finals[1]["text"], "From the new node.");
}

TEST_F(Nodes, ACodeIsUniqueAmongNodesAndLeasesExcludeEachOther) {
  auto created = nodes[0]->create(spec("x"));
  ASSERT_TRUE(created.is_ok());
  const std::string lease = LiveSession::lease_name(created->session->code());
  std::optional<int64_t> got = 7;
  bus->acquire(lease, "b", LiveSession::kLeaseTtlMs, [&](std::optional<int64_t> f) { got = f; });
  EXPECT_FALSE(got.has_value());  // a holds it, and renews it on every tick
  nodes[0]->tick();
  bus->renew(lease, "b", LiveSession::kLeaseTtlMs, [&](std::optional<int64_t> f) { got = f; });
  EXPECT_FALSE(got.has_value());
}

TEST_F(Nodes, WhenTheSessionsNodeStopsTheSpeakerCarriesOnThroughAnotherFromTheNextFinal) {
  auto created = nodes[0]->create(spec("moves"));
  ASSERT_TRUE(created.is_ok());
  const std::string code = created->session->code();
  auto on_b = nodes[1]->find(code);
  auto en = std::make_shared<Collect>();
  ASSERT_TRUE(on_b->add_listener(en, "en", 0).is_ok());
  ASSERT_TRUE(created->session->apply(Action::start).is_ok());
  ASSERT_TRUE(created->session->push_text("Before.").is_ok());
  ASSERT_TRUE(created->session->push_text("Still before.").is_ok());
  ASSERT_TRUE(en->wait_for("final", 2));

  // While a's node lives, its lease holds: a speaker reaching b is told to come again.
  nodes[0]->tick();
  auto speaker = std::make_shared<Collect>();
  EXPECT_EQ(on_b->attach_speaker(speaker, true).code(), core::Code::unavailable);
  EXPECT_TRUE(on_b->is_view());

  // Node a stops without a word (its lease is not released, it expires).
  created->session.reset();
  nodes[0].reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(LiveSession::kLeaseTtlMs + 3000);
  core::Status attached = core::unavailable("");
  while (!attached.is_ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);  // the speaker page's reconnect loop, faster
    attached = on_b->attach_speaker(speaker, true);
  }
  ASSERT_TRUE(attached.is_ok()) << attached.message();
  EXPECT_FALSE(on_b->is_view());
  EXPECT_EQ(speaker->of_type("welcome").at(0)["lastSeq"], 2);
  ASSERT_TRUE(on_b->push_text("After.").is_ok());
  ASSERT_TRUE(en->wait_for("final", 3));
  EXPECT_EQ(seqs(en->of_type("final")), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(en->of_type("final")[2]["text"], "After.");
  // b holds the lease now: nobody else may take it.
  std::optional<int64_t> got = 1;
  bus->acquire(LiveSession::lease_name(code), "c", LiveSession::kLeaseTtlMs, [&](std::optional<int64_t> f) { got = f; });
  EXPECT_FALSE(got.has_value());
}

TEST_F(Nodes, ASessionCreatedThroughOneNodeMovesToTheNodeItsSpeakerJoinsBeforeItStarts) {
  auto created = nodes[0]->create(spec("moves before it starts"));
  ASSERT_TRUE(created.is_ok());
  const std::string code = created->session->code();
  auto on_a = std::make_shared<Collect>();
  ASSERT_TRUE(created->session->add_listener(on_a, "en", 0).is_ok());
  auto on_b = nodes[1]->find(code);
  auto speaker = std::make_shared<Collect>();
  // The first join asks a to hand the session over; a, where nothing ran yet, does.
  EXPECT_EQ(on_b->attach_speaker(speaker, true).code(), core::Code::unavailable);
  EXPECT_TRUE(created->session->is_view());
  ASSERT_TRUE(on_b->attach_speaker(speaker, true).is_ok());  // the page's next try
  EXPECT_FALSE(on_b->is_view());
  ASSERT_TRUE(on_b->apply(Action::start).is_ok());
  ASSERT_TRUE(on_b->push_text("Spoken through b.").is_ok());
  ASSERT_TRUE(on_a->wait_for("final", 1));
  EXPECT_EQ(seqs(on_a->of_type("final")), (std::vector<int64_t>{1}));
  EXPECT_EQ(created->session->info().state, State::active);
  // Once it runs on b, a third node's speaker cannot pull it away.
  auto other = std::make_shared<Collect>();
  EXPECT_EQ(created->session->attach_speaker(other, true).code(), core::Code::unavailable);
  EXPECT_FALSE(on_b->is_view());
}

TEST_F(Nodes, ASessionNoNodeHasListedForTenMinutesIsRemovedFromTheDirectory) {
  // A node that crashed left these; one listed a minute ago stays.
  auto listing = [](const std::string& code, int64_t listed_ago_ms) {
    const int64_t listed = wall_clock_ms() - listed_ago_ms;
    return json{{"id", 0}, {"code", code}, {"name", "left behind"}, {"source", "en"}, {"avatar", ""},
                {"targets", json::array()}, {"hideStrongWords", false}, {"createdAtMs", listed},
                {"listenerKeyHash", ""}, {"public", false}, {"tokenHash", "x"}, {"listedAtMs", listed}}
        .dump();
  };
  bus->put(Registry::kDirectory, "123456", listing("123456", Registry::kDirectoryStaleMs + 1000));
  bus->put(Registry::kDirectory, "234567", listing("234567", 60'000));
  // Stale by its listing, but a node holds its lease: it runs, it stays.
  bus->put(Registry::kDirectory, "345678", listing("345678", Registry::kDirectoryStaleMs + 1000));
  bus->acquire(LiveSession::lease_name("345678"), "x", 60'000, [](std::optional<int64_t>) {});
  ASSERT_NE(nodes[1]->find("123456"), nullptr);  // seen as a view until then
  nodes[1]->reap(0);
  std::map<std::string, bool> left;
  auto w = bus->watch(Registry::kDirectory, [&](const std::string& k, const std::optional<std::string>& v) {
    left[k] = v.has_value();
  });
  EXPECT_EQ(left.count("123456"), 0U);
  EXPECT_TRUE(left["234567"]);
  EXPECT_TRUE(left["345678"]);
  // A session running on a live node is listed again by its heartbeat.
  auto created = nodes[0]->create(spec("alive"));
  ASSERT_TRUE(created.is_ok());
  nodes[0]->tick();
  nodes[1]->reap(0);
  EXPECT_NE(nodes[1]->find(created->session->code()), nullptr);
}

// The speaker page's reconnect loop, faster: joins until the node takes it.
core::Status join_until_taken(LiveSession& s, const std::shared_ptr<Collect>& speaker, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  core::Status attached = s.attach_speaker(speaker, true);
  while (!attached.is_ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    attached = s.attach_speaker(speaker, true);
  }
  return attached;
}

TEST_F(Nodes, ARunningSessionWithoutASpeakerMovesToTheNodeItsSpeakerJoinsAfterItsLastFinal) {
  auto created = nodes[0]->create(spec("moves while it runs"));
  ASSERT_TRUE(created.is_ok());
  const std::string code = created->session->code();
  auto on_a = std::make_shared<Collect>();
  ASSERT_TRUE(created->session->add_listener(on_a, "en", 0).is_ok());
  auto on_b = nodes[1]->find(code);
  auto heard_on_b = std::make_shared<Collect>();
  ASSERT_TRUE(on_b->add_listener(heard_on_b, "en", 0).is_ok());
  ASSERT_TRUE(created->session->apply(Action::start).is_ok());
  ASSERT_TRUE(created->session->push_text("Typed on a.").is_ok());
  ASSERT_TRUE(heard_on_b->wait_for("final", 1));
  // Its speaker (gone from a) joins b: a finishes, lets go of the lease and
  // of its listeners, and b runs the session from the next final.
  auto speaker = std::make_shared<Collect>();
  auto attached = join_until_taken(*on_b, speaker, 5s);
  ASSERT_TRUE(attached.is_ok()) << attached.message();
  EXPECT_FALSE(on_b->is_view());
  EXPECT_TRUE(on_a->wait_closed());  // a's listeners reconnect (to a view there)
  EXPECT_EQ(speaker->of_type("welcome").at(0)["lastSeq"], 1);
  ASSERT_TRUE(on_b->push_text("Spoken through b.").is_ok());
  ASSERT_TRUE(heard_on_b->wait_for("final", 2));
  EXPECT_EQ(seqs(heard_on_b->of_type("final")), (std::vector<int64_t>{1, 2}));
  nodes[0]->reap(0);
  auto again_on_a = nodes[0]->find(code);
  ASSERT_NE(again_on_a, nullptr);
  EXPECT_TRUE(again_on_a->is_view());
  auto reconnected = std::make_shared<Collect>();
  ASSERT_TRUE(again_on_a->add_listener(reconnected, "en", 1).is_ok());
  ASSERT_TRUE(reconnected->wait_for("final", 1));
  EXPECT_EQ(seqs(reconnected->of_type("final")), (std::vector<int64_t>{2}));
}

TEST_F(Nodes, ANodeThatLostItsLeaseStopsSendingAndLetsItsSpeakerAndListenersGo) {
  auto created = nodes[0]->create(spec("cut off"));
  ASSERT_TRUE(created.is_ok());
  const std::string code = created->session->code();
  auto speaker_a = std::make_shared<Collect>();
  ASSERT_TRUE(created->session->attach_speaker(speaker_a, false).is_ok());
  auto listener_a = std::make_shared<Collect>();
  ASSERT_TRUE(created->session->add_listener(listener_a, "en", 0).is_ok());
  auto on_b = nodes[1]->find(code);
  auto listener_b = std::make_shared<Collect>();
  ASSERT_TRUE(on_b->add_listener(listener_b, "en", 0).is_ok());
  ASSERT_TRUE(created->session->apply(Action::start).is_ok());
  ASSERT_TRUE(created->session->push_text("Before the cut.").is_ok());
  ASSERT_TRUE(listener_b->wait_for("final", 1));
  // a is cut off from the bus for longer than the lease (it lapses), and
  // its speaker reaches b meanwhile, which takes the session over.
  bus->release(LiveSession::lease_name(code), "a");
  auto speaker_b = std::make_shared<Collect>();
  auto attached = join_until_taken(*on_b, speaker_b, 5s);
  ASSERT_TRUE(attached.is_ok()) << attached.message();
  ASSERT_TRUE(on_b->push_text("After the cut, through b.").is_ok());
  ASSERT_TRUE(listener_b->wait_for("final", 2));
  // a is back: its renewal is refused, so it stops and lets go.
  nodes[0]->tick();
  EXPECT_EQ(created->session->leases_lost(), 1U);
  EXPECT_TRUE(speaker_a->wait_closed());
  EXPECT_TRUE(listener_a->wait_closed());
  (void)created->session->push_text("Never sent.");
  ASSERT_TRUE(on_b->push_text("Still b.").is_ok());
  ASSERT_TRUE(listener_b->wait_for("final", 3));
  EXPECT_EQ(seqs(listener_b->of_type("final")), (std::vector<int64_t>{1, 2, 3}));
  for (const auto& f : listener_a->of_type("final")) EXPECT_NE(f["text"], "Never sent.");
}

}  // namespace
}  // namespace parley::session

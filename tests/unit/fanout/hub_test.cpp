// SPDX-License-Identifier: GPL-3.0-or-later
#include "fanout/hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace parley::fanout {
namespace {

class Counter final : public Subscriber {
 public:
  void deliver(MessagePtr) override { ++delivered; }
  void close(const std::string&) override { ++closed; }
  std::atomic<int> delivered{0}, closed{0};
};

TEST(Hub, EverySubscriberOfALanguageGetsEachMessageOnce) {
  Hub hub;
  std::vector<std::shared_ptr<Counter>> es, fr;
  for (int i = 0; i < 500; ++i) {
    es.push_back(std::make_shared<Counter>());
    EXPECT_EQ(hub.add("es", es.back()), static_cast<size_t>(i + 1));
  }
  for (int i = 0; i < 3; ++i) {
    fr.push_back(std::make_shared<Counter>());
    hub.add("fr", fr.back());
  }
  hub.broadcast("es", make_text(Kind::final, "x"));
  hub.broadcast("de", make_text(Kind::final, "nobody"));
  for (const auto& c : es) EXPECT_EQ(c->delivered.load(), 1);
  for (const auto& c : fr) EXPECT_EQ(c->delivered.load(), 0);
  hub.broadcast_all(make_text(Kind::control, "y"));
  for (const auto& c : fr) EXPECT_EQ(c->delivered.load(), 1);
  EXPECT_EQ(hub.count("es"), 500U);
  EXPECT_EQ(hub.total(), 503U);
  EXPECT_EQ(hub.counts().at("fr"), 3U);
}

TEST(Hub, RemovingOnlyRemovesThatSubscriber) {
  Hub hub;
  auto a = std::make_shared<Counter>(), b = std::make_shared<Counter>();
  hub.add("es", a);
  hub.add("es", b);
  Counter stranger;
  EXPECT_EQ(hub.remove("es", &stranger), 2U) << "unknown subscribers change nothing";
  EXPECT_EQ(hub.remove("xx", a.get()), 0U);
  EXPECT_EQ(hub.remove("es", a.get()), 1U);
  hub.broadcast("es", make_text(Kind::final, "x"));
  EXPECT_EQ(a->delivered.load(), 0);
  EXPECT_EQ(b->delivered.load(), 1);
  EXPECT_EQ(hub.remove("es", b.get()), 0U);
  EXPECT_TRUE(hub.counts().empty()) << "an empty language is forgotten";
  hub.add("es", a);
  hub.close_all("bye");
  EXPECT_EQ(a->closed.load(), 1);
  hub.clear();
  EXPECT_EQ(hub.total(), 0U);
}

TEST(Hub, JoinsAndLeavesDuringBroadcastsAreSafe) {
  Hub hub;
  std::vector<std::shared_ptr<Counter>> stay;
  for (int i = 0; i < 100; ++i) {
    stay.push_back(std::make_shared<Counter>());
    hub.add("es", stay.back());
  }
  std::atomic<bool> done{false};
  std::thread churn([&] {
    for (int i = 0; i < 2000; ++i) {
      auto c = std::make_shared<Counter>();
      hub.add("es", c);
      hub.remove("es", c.get());
    }
    done = true;
  });
  int sent = 0;
  while (!done.load() && sent < 100000) {
    hub.broadcast("es", make_text(Kind::final, "x"));
    ++sent;
  }
  churn.join();
  for (const auto& c : stay) EXPECT_EQ(c->delivered.load(), sent) << "steady subscribers miss nothing";
  EXPECT_EQ(hub.count("es"), 100U);
}

}  // namespace
}  // namespace parley::fanout

namespace parley::fanout {
namespace {

// Runs tasks when told, lane by lane in arrival order.
class ManualDispatcher final : public Dispatcher {
 public:
  size_t lanes() const override { return 4; }
  void dispatch(size_t lane, std::function<void()> task) override { tasks.push_back({lane, std::move(task)}); }
  void run_all() {
    for (auto& [lane, t] : tasks) t();
    tasks.clear();
  }
  std::vector<std::pair<size_t, std::function<void()>>> tasks;
};

class Recorder final : public Subscriber {
 public:
  void deliver(MessagePtr m) override { got.push_back(m->bytes); }
  void close(const std::string& reason) override { got.push_back("closed: " + reason); }
  std::vector<std::string> got;
};

TEST(Hub, ADispatcherRunsShardsAsTasksAndKeepsEachSubscribersOrder) {
  Hub hub;
  auto d = std::make_shared<ManualDispatcher>();
  hub.set_dispatcher(d);
  std::vector<std::shared_ptr<Recorder>> rs;
  for (int i = 0; i < 300; ++i) {
    rs.push_back(std::make_shared<Recorder>());
    hub.add("es", rs.back());
  }
  hub.broadcast("es", make_text(Kind::final, "1"));
  hub.broadcast_all(make_text(Kind::final, "2"));
  hub.close_all("end");
  EXPECT_LE(d->tasks.size(), 3 * Hub::kShards) << "one task per shard, not per subscriber";
  for (const auto& r : rs) EXPECT_TRUE(r->got.empty()) << "nothing runs before the lanes do";
  d->run_all();
  for (const auto& r : rs) EXPECT_EQ(r->got, (std::vector<std::string>{"1", "2", "closed: end"}));
}

}  // namespace
}  // namespace parley::fanout

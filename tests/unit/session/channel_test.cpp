// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "session/events.h"
#include "session/wire.h"

namespace parley::session {
namespace {

using nlohmann::json;

class Inbox final : public fanout::Subscriber {
 public:
  void deliver(fanout::MessagePtr m) override {
    std::lock_guard lock(mu);
    got.push_back(std::move(m));
  }
  void close(const std::string&) override { closed = true; }
  // The seqs of the finals received, in order.
  std::vector<int64_t> final_seqs() const {
    std::lock_guard lock(mu);
    std::vector<int64_t> out;
    for (const auto& m : got) {
      if (m->binary) continue;
      auto j = json::parse(m->bytes);
      if (j["type"] == "final") out.push_back(j["seq"].get<int64_t>());
    }
    return out;
  }
  json first() const {
    std::lock_guard lock(mu);
    return json::parse(got.at(0)->bytes);
  }
  mutable std::mutex mu;
  std::vector<fanout::MessagePtr> got;
  std::atomic<bool> closed{false};
};

CaptionEvent caption(int64_t seq, std::string text = "hola") {
  CaptionEvent c;
  c.seq = seq;
  c.utterance_id = static_cast<uint64_t>(seq);
  c.language = "es";
  c.source = "hello";
  c.text = std::move(text);
  return c;
}

Channel::WelcomeFn welcome() {
  return [](int64_t replay_from_seq) {
    return fanout::make_text(fanout::Kind::control,
                             json{{"type", "welcome"}, {"replayFrom", replay_from_seq}}.dump());
  };
}

TEST(Channel, AJoinerGetsTheKeptFinalsAfterItsSinceThenTheLiveOnes) {
  Channel ch("es", 100, nullptr);
  for (int64_t s = 1; s <= 5; ++s) ch.publish(caption(s));
  auto a = std::make_shared<Inbox>();
  ASSERT_TRUE(ch.join(a, 2, 1 << 20, welcome()).is_ok());
  ch.publish(caption(6));
  EXPECT_EQ(a->first()["type"], "welcome");
  EXPECT_EQ(a->first()["replayFrom"], 0);  // nothing left for REST
  EXPECT_EQ(a->final_seqs(), (std::vector<int64_t>{3, 4, 5, 6}));
  // Replayed finals say they are history; the live one does not.
  EXPECT_EQ(json::parse(a->got[1]->bytes)["history"], true);
  EXPECT_EQ(json::parse(a->got.back()->bytes)["history"], false);
}

TEST(Channel, ALateTranslationIsKeptInOrderAndOnlyOnce) {
  Channel ch("es", 100, nullptr);
  ch.publish(caption(1));
  ch.publish(caption(3));
  auto late = caption(2);
  late.late = true;
  ch.publish(late);
  ch.publish(late);  // the same final again: not kept or sent twice
  auto a = std::make_shared<Inbox>();
  ASSERT_TRUE(ch.join(a, 0, 1 << 20, welcome()).is_ok());
  EXPECT_EQ(a->final_seqs(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(ch.last_seq(), 3);
}

TEST(Channel, FinalsBeyondTheBudgetOrTheKeptOnesAreLeftToRest) {
  Channel ch("es", 3, nullptr);
  for (int64_t s = 1; s <= 5; ++s) ch.publish(caption(s));
  auto a = std::make_shared<Inbox>();
  ASSERT_TRUE(ch.join(a, 0, 1 << 20, welcome()).is_ok());
  EXPECT_EQ(a->final_seqs(), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(a->first()["replayFrom"], 3);  // 1 and 2 are read over REST
  // A budget for one final: the newest, the rest over REST.
  auto b = std::make_shared<Inbox>();
  const size_t one = wire::final_caption(caption(5), true)->bytes.size();
  ASSERT_TRUE(ch.join(b, 0, one, welcome()).is_ok());
  EXPECT_EQ(b->final_seqs(), (std::vector<int64_t>{5}));
  EXPECT_EQ(b->first()["replayFrom"], 5);
}

TEST(Channel, AChannelThatStartsMidSessionSendsTheFinalsBeforeItToRest) {
  Channel ch("de", 100, nullptr);  // a language asked for late, or a view of a trimmed log
  for (int64_t s = 40; s <= 42; ++s) ch.publish(caption(s));
  auto a = std::make_shared<Inbox>();
  ASSERT_TRUE(ch.join(a, 0, 1 << 20, welcome()).is_ok());
  EXPECT_EQ(a->final_seqs(), (std::vector<int64_t>{40, 41, 42}));
  EXPECT_EQ(a->first()["replayFrom"], 40);  // 1–39: over REST
}

TEST(Channel, JoinsRacingPublishesSeeEveryFinalExactlyOnce) {
  Channel ch("es", 10000, nullptr);
  constexpr int64_t kFinals = 2000;
  std::thread publisher([&] {
    for (int64_t s = 1; s <= kFinals; ++s) ch.publish(caption(s));
  });
  std::vector<std::shared_ptr<Inbox>> joined;
  for (int i = 0; i < 50; ++i) {
    joined.push_back(std::make_shared<Inbox>());
    ASSERT_TRUE(ch.join(joined.back(), 0, SIZE_MAX, welcome()).is_ok());
  }
  publisher.join();
  for (const auto& a : joined) {
    auto seqs = a->final_seqs();
    ASSERT_EQ(seqs.size(), static_cast<size_t>(kFinals));
    for (int64_t s = 1; s <= kFinals; ++s) ASSERT_EQ(seqs[static_cast<size_t>(s - 1)], s);
  }
}

TEST(Channel, SpeechIsBuiltOnceWithItsTimelineOnlyTwinAndStreamsGetTheOgg) {
  Channel ch("es", 10, nullptr);
  auto listener = std::make_shared<Inbox>();
  auto stream = std::make_shared<Inbox>();
  ASSERT_TRUE(ch.join(listener, 0, 1 << 20, welcome()).is_ok());
  ASSERT_TRUE(ch.add_stream(stream).is_ok());
  SpeechEvent e;
  e.seq = 1;
  e.language = "es";
  e.duration_ms = 500;
  e.timeline.sample_rate_hz = 22050;
  e.timeline.entries = {{avatar::Viseme::aa, 0}, {avatar::Viseme::sil, 1000}};
  e.ogg_opus = "OggS-pretend";
  ch.publish(e);
  ASSERT_EQ(listener->got.size(), 2U);
  const auto& m = listener->got[1];
  ASSERT_TRUE(m->without_audio);
  auto full = wire::parse_speech(m->bytes);
  auto lite = wire::parse_speech(m->without_audio->bytes);
  ASSERT_TRUE(full && lite);
  EXPECT_EQ(full->ogg, "OggS-pretend");
  EXPECT_TRUE(lite->ogg.empty());
  EXPECT_EQ(lite->timeline.entries.size(), 2U);
  ASSERT_EQ(stream->got.size(), 1U);
  EXPECT_EQ(stream->got[0]->bytes, "OggS-pretend");
  // Only speech sent, and no more lag than time has passed.
  EXPECT_TRUE(ch.heard_plausibly(1, 0, 0));
  EXPECT_FALSE(ch.heard_plausibly(2, 0, 0));
  EXPECT_FALSE(ch.heard_plausibly(1, 60'000, 0));
}

TEST(Channel, CloseSaysGoodbyeOnceAndRefusesLaterJoins) {
  Channel ch("es", 10, nullptr);
  auto a = std::make_shared<Inbox>();
  ASSERT_TRUE(ch.join(a, 0, 1 << 20, welcome()).is_ok());
  auto bye = wire::session_ended("ended");
  ch.close(bye);
  ch.close(bye);
  EXPECT_TRUE(a->closed);
  EXPECT_EQ(a->got.size(), 2U);  // welcome, goodbye
  EXPECT_EQ(ch.n_listeners(), 0U);
  auto late = std::make_shared<Inbox>();
  EXPECT_EQ(ch.join(late, 0, 1 << 20, welcome()).status().code(), core::Code::failed_precondition);
  EXPECT_TRUE(late->got.empty());
}

TEST(Events, EveryKindSurvivesTheBusEncodingAndGarbageIsRefused) {
  SpeechEvent speech;
  speech.seq = 7;
  speech.utterance_id = 9;
  speech.language = "fr";
  speech.duration_ms = 1234;
  speech.since_end_ms = 321;
  speech.timeline.sample_rate_hz = 22050;
  speech.timeline.entries = {{avatar::Viseme::O, 0}, {avatar::Viseme::sil, 4410}};
  speech.ogg_opus = std::string("Ogg\0S", 5);
  auto cap = caption(3, "¿qué?");
  cap.from_script = true;
  cap.since_end_ms = 850;
  const std::vector<Event> events = {cap,
                                     PartialEvent{4, 2, "en", "hello wor", "hello wor"},
                                     DiscardEvent{5},
                                     speech,
                                     SpeechSkippedEvent{8, "de"},
                                     StateEvent{State::paused},
                                     EndEvent{"ended by the speaker"}};
  for (const auto& e : events) {
    const auto bytes = encode(e);
    auto back = decode(bytes);
    ASSERT_TRUE(back.has_value()) << e.index();
    EXPECT_EQ(back->index(), e.index());
    EXPECT_EQ(encode(*back), bytes);  // the encoding is canonical
    // Cut anywhere, or with a byte more, it is refused, never half-read.
    for (size_t n = 0; n < bytes.size(); n += std::max<size_t>(1, bytes.size() / 17)) {
      EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n)).has_value()) << e.index() << " cut at " << n;
    }
    EXPECT_FALSE(decode(bytes + "x").has_value());
  }
  auto s = std::get<SpeechEvent>(*decode(encode(speech)));
  EXPECT_EQ(s.ogg_opus, speech.ogg_opus);
  EXPECT_EQ(s.timeline.entries[1].sample, 4410);
  EXPECT_EQ(event_language(Event{speech}), "fr");
  EXPECT_EQ(event_language(Event{StateEvent{}}), "");
  // On the bus, behind the lease's fencing token; the log keeps captions, states and the end.
  const std::string on_bus = encode_fenced(42, Event{cap});
  auto fenced = split_fenced(on_bus);
  ASSERT_TRUE(fenced.has_value());
  EXPECT_EQ(fenced->fence, 42);
  EXPECT_EQ(encode(*decode(fenced->event)), encode(Event{cap}));
  EXPECT_FALSE(split_fenced("1234567").has_value());
  EXPECT_TRUE(is_kept(Event{cap}));
  EXPECT_TRUE(is_kept(Event{StateEvent{}}));
  EXPECT_FALSE(is_kept(Event{speech}));
  EXPECT_FALSE(is_kept(Event{DiscardEvent{}}));
  EXPECT_FALSE(decode("").has_value());
  EXPECT_FALSE(decode(std::string("\x02\x00", 2)).has_value());  // a version this build cannot read
}

}  // namespace
}  // namespace parley::session

// SPDX-License-Identifier: GPL-3.0-or-later
// Conversations: who may join, what everyone is told, and which microphone
// audio is not recognised (echo, the floor). Real engines, no network.
#include "session/conversation.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <thread>

#include "app/engine_set.h"
#include "session/registry.h"
#include "store/sqlite/sqlite_store.h"

namespace parley::session {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A participant's connection, as the conversation sees it.
class Member final : public ConversationMember {
 public:
  void on_participant(const ParticipantInfo& p, std::shared_ptr<LiveSession>) override {
    std::lock_guard lock(mu_);
    new_participants.push_back(p.id);
  }
  void on_conversation_event(fanout::MessagePtr m) override {
    std::lock_guard lock(mu_);
    events.push_back(json::parse(m->bytes));
  }
  void on_conversation_end(const std::string& reason) override {
    std::lock_guard lock(mu_);
    ended = reason;
  }
  void on_replaced() override {
    std::lock_guard lock(mu_);
    replaced = true;
  }
  std::vector<json> of_type(const std::string& type) {
    std::lock_guard lock(mu_);
    std::vector<json> out;
    for (const auto& e : events) {
      if (e["type"] == type) out.push_back(e);
    }
    return out;
  }
  std::mutex mu_;
  std::vector<std::string> new_participants;
  std::vector<json> events;
  std::string ended;
  bool replaced = false;
};

std::vector<int16_t> loud(size_t n) { return std::vector<int16_t>(n, 1000); }
bool silent(const std::vector<int16_t>& pcm) {
  return std::all_of(pcm.begin(), pcm.end(), [](int16_t s) { return s == 0; });
}
size_t zeros(const std::vector<int16_t>& pcm) {
  return static_cast<size_t>(std::count(pcm.begin(), pcm.end(), int16_t{0}));
}
// `frames` loud 20 ms frames (16 kHz) through `id`'s gate: how many samples were zeroed.
size_t zeroed_over(Conversation& c, const std::string& id, int frames) {
  size_t zeroed = 0;
  for (int i = 0; i < frames; ++i) {
    auto pcm = loud(320);
    c.gate(id, pcm, 16000);
    zeroed += zeros(pcm);
  }
  return zeroed;
}

class Conversations_ : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engines = app::load_engines({.need_speech_out = false});
    ASSERT_TRUE(engines.is_ok()) << engines.status().message();
    registry = std::make_unique<Registry>(*engines, nullptr, LiveConfig{}, 32);
    conversations = std::make_unique<Conversations>(*registry, 4);
  }
  void TearDown() override {
    conversations->end_all("test over");
    registry->end_all("test over");
    registry->reap(0);
  }
  std::shared_ptr<Conversation> make(bool half_duplex = false) {
    auto c = conversations->create({.title = "Test", .half_duplex = half_duplex});
    EXPECT_TRUE(c.is_ok()) << c.status().message();
    return *c;
  }
  std::unique_ptr<Registry> registry;
  std::unique_ptr<Conversations> conversations;
};

TEST_F(Conversations_, EachParticipantGetsASessionInTheirLanguageAndALanguageWithoutARecogniserTypes) {
  auto c = make();
  auto en = c->join("Ana", "en");
  ASSERT_TRUE(en.is_ok()) << en.status().message();
  auto es = c->join("  Bea\x01  ", "es-ES");
  ASSERT_TRUE(es.is_ok()) << es.status().message();
  EXPECT_EQ(en->participant.language, "en");
  EXPECT_FALSE(en->participant.typed);
  EXPECT_EQ(es->participant.language, "es");
  EXPECT_TRUE(es->participant.typed) << "no Spanish recogniser here: Bea types";
  EXPECT_EQ(es->participant.name, "Bea") << "trimmed, control characters dropped";
  EXPECT_NE(en->participant.id, es->participant.id);
  EXPECT_EQ(en->session->source_language(), "en");
  EXPECT_EQ(es->session->source_language(), "es");
  EXPECT_TRUE(en->session->in_conversation());
  EXPECT_EQ(en->session->info().state, State::active);
  // Bea's session takes text, not audio.
  std::vector<int16_t> frame = loud(320);
  auto refused = es->session->push_audio(1, frame, 16000, nullptr);
  EXPECT_EQ(refused.code(), core::Code::failed_precondition);
  EXPECT_TRUE(es->session->push_text("Hola").is_ok());
  // The same person comes back with their token; a wrong one is refused.
  auto back = c->rejoin(es->participant.id, es->token);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->session, es->session);
  EXPECT_TRUE(back->token.empty()) << "the token is shown once";
  EXPECT_EQ(c->rejoin(es->participant.id, en->token).status().code(), core::Code::permission_denied);
  EXPECT_EQ(c->rejoin("nobody", es->token).status().code(), core::Code::permission_denied);
  EXPECT_EQ(c->token_left_at(en->token), 0) << "a participant's token, still in";
  EXPECT_FALSE(c->token_left_at("x").has_value());
}

TEST_F(Conversations_, ALanguageNobodyCanBeTranslatedIntoOrFromIsRefusedWithTheReason) {
  auto c = make();
  ASSERT_TRUE(c->join("Ana", "en").is_ok());
  auto de = c->join("Dieter", "de");
  ASSERT_FALSE(de.is_ok());
  EXPECT_EQ(de.status().code(), core::Code::invalid_argument);
  EXPECT_NE(de.status().message().find("German"), std::string::npos) << de.status().message();
  EXPECT_EQ(c->join("X", "not a language").status().code(), core::Code::invalid_argument);
  EXPECT_EQ(c->participants().size(), 1u);
  // Nor can the first person speak a language nothing here translates.
  auto alone = make();
  EXPECT_EQ(alone->join("Dieter", "de").status().code(), core::Code::invalid_argument);
  EXPECT_TRUE(alone->participants().empty());
}

TEST_F(Conversations_, EightPeopleAtMostAndTheNinthIsToldItIsFull) {
  auto c = make();
  ASSERT_TRUE(c->join("Ana", "en").is_ok());
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(c->join("P" + std::to_string(i), "es").is_ok()) << i;
  auto ninth = c->join("Late", "es");
  EXPECT_EQ(ninth.status().code(), core::Code::resource_exhausted);
  // Someone leaving for good makes room.
  c->leave(c->participants()[1].id);
  EXPECT_TRUE(c->join("Late", "es").is_ok());
}

TEST_F(Conversations_, EveryoneHearsWhoJoinsComesBackAndLeavesButNotOfThemselves) {
  auto c = make();
  auto a = *c->join("Ana", "en");
  auto b = *c->join("Bea", "es");
  auto ma = std::make_shared<Member>(), mb = std::make_shared<Member>();
  auto roster = c->connect(a.participant.id, ma);
  EXPECT_EQ(roster.participants.size(), 2u);
  EXPECT_EQ(roster.sessions.size(), 1u) << "the others' sessions, to listen to";
  EXPECT_EQ(roster.sessions.begin()->second, b.session);
  c->connect(b.participant.id, mb);
  auto joined = ma->of_type("partnerJoined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0]["participant"]["name"], "Bea");
  EXPECT_EQ(joined[0]["returning"], false);
  EXPECT_TRUE(mb->of_type("partnerJoined").empty()) << "Ana connected before Bea";
  // A third person joins: the connected ones start listening to them.
  auto f = *c->join("Fleur", "fr");
  EXPECT_EQ(ma->new_participants, std::vector<std::string>{f.participant.id});
  EXPECT_EQ(mb->new_participants, std::vector<std::string>{f.participant.id});
  // Bea's connection drops, then she is back, then she leaves for good.
  c->disconnect(b.participant.id, mb.get());
  auto gone = ma->of_type("partnerLeft");
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0]["forGood"], false);
  EXPECT_EQ(c->n_online(), 1u);
  auto mb2 = std::make_shared<Member>();
  c->connect(b.participant.id, mb2);
  EXPECT_EQ(ma->of_type("partnerJoined").back()["returning"], true);
  // A second page of Bea's replaces the first.
  auto mb3 = std::make_shared<Member>();
  c->connect(b.participant.id, mb3);
  EXPECT_TRUE(mb2->replaced);
  c->disconnect(b.participant.id, mb2.get());  // the replaced page's late goodbye changes nothing
  EXPECT_EQ(c->n_online(), 2u);
  c->leave(b.participant.id);
  EXPECT_EQ(ma->of_type("partnerLeft").back()["forGood"], true);
  EXPECT_EQ(c->rejoin(b.participant.id, b.token).status().code(), core::Code::failed_precondition);
  // Ending tells everyone connected and ends every session.
  c->end("done");
  EXPECT_EQ(ma->ended, "done");
  EXPECT_TRUE(a.session->has_ended());
  EXPECT_TRUE(f.session->has_ended());
  EXPECT_EQ(c->join("Late", "en").status().code(), core::Code::failed_precondition);
}

TEST_F(Conversations_, AMicrophoneIsNotRecognisedWhileItsOwnDeviceSpeaksAndForTheEchoMarginAfter) {
  auto c = make();
  auto a = *c->join("Ana", "en");
  const auto& id = a.participant.id;
  auto pcm = loud(320);  // 20 ms at 16 kHz
  c->gate(id, pcm, 16000);
  EXPECT_EQ(zeros(pcm), 0u) << "nothing plays: every sample goes on";
  c->playback(id, true);
  for (int i = 0; i < 50; ++i) {  // a second of speech playing
    pcm = loud(320);
    c->gate(id, pcm, 16000);
    ASSERT_TRUE(silent(pcm)) << i;
  }
  c->playback(id, false);
  // The margin is counted in audio, whenever the frames arrive: 400 ms.
  EXPECT_EQ(zeroed_over(*c, id, 30), static_cast<size_t>(Conversation::kEchoMarginMs * 16));
  pcm = loud(480);  // at 24 kHz too
  c->gate(id, pcm, 24000);
  EXPECT_EQ(zeros(pcm), 0u);
  EXPECT_GE(conversations->counters().echo_muted_ms.load(), 1000u + Conversation::kEchoMarginMs - 20);
  // Another participant's microphone is not affected.
  auto b = *c->join("Ben", "en");
  c->playback(id, true);
  pcm = loud(320);
  c->gate(b.participant.id, pcm, 16000);
  EXPECT_EQ(zeros(pcm), 0u);
}

TEST_F(Conversations_, SpeechSentToAPageMutesItsMicrophoneBeforeThePageSaysItPlaysAndNotForEver) {
  auto c = make();
  auto a = *c->join("Ana", "en");
  const auto& id = a.participant.id;
  c->speech_sent(id, 200);  // on its way to Ana's page, which has not said it plays yet
  auto pcm = loud(320);
  c->gate(id, pcm, 16000);
  EXPECT_TRUE(silent(pcm));
  // The page plays it (200 ms), and says it stopped: the echo margin
  // follows, then Ana is heard.
  c->playback(id, true);
  std::this_thread::sleep_for(300ms);
  c->playback(id, false);
  EXPECT_EQ(zeroed_over(*c, id, 40), static_cast<size_t>(Conversation::kEchoMarginMs * 16));
  // A page that never says anything (its sound is off): muted for the
  // speech's length and the slack, then heard again.
  const auto sent_at = std::chrono::steady_clock::now();  // before the call: a pause after it only adds
  c->speech_sent(id, 100);
  bool heard = false;
  while (!heard && std::chrono::steady_clock::now() - sent_at < 5s) {
    pcm = loud(320);
    c->gate(id, pcm, 16000);
    heard = zeros(pcm) == 0;
    if (!heard) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(heard);
  EXPECT_GE(std::chrono::steady_clock::now() - sent_at, std::chrono::milliseconds(100 + Conversation::kSentSpeechSlackMs - 30));
  // Speech sent just as the page said it stopped (the two crossed) stays gated.
  c->playback(id, true);
  c->speech_sent(id, 1000);
  c->playback(id, false);
  pcm = loud(320);
  c->gate(id, pcm, 16000);
  EXPECT_TRUE(silent(pcm));
  // A replaced page's late word changes nothing.
  auto m1 = std::make_shared<Member>(), m2 = std::make_shared<Member>();
  c->connect(id, m1);
  c->connect(id, m2);
  c->playback(id, true, m1.get());
  pcm = loud(320);
  c->gate(id, pcm, 16000);
  EXPECT_EQ(zeros(pcm), 0u) << "the new page plays nothing";
}

TEST_F(Conversations_, OneAtATimeTheFirstToSpeakHoldsTheFloorUntilTheirFinalAndAMomentAfter) {
  auto c = make(/*half_duplex=*/true);
  auto a = *c->join("Ana", "en");
  auto b = *c->join("Ben", "en");
  auto watch = std::make_shared<Member>();
  c->connect(a.participant.id, watch);
  c->utterance_opened(a.participant.id);
  auto floors = watch->of_type("floor");
  ASSERT_EQ(floors.size(), 1u);
  EXPECT_EQ(floors[0]["holder"], a.participant.id);
  EXPECT_EQ(watch->of_type("speaking").size(), 1u);
  auto pcm = loud(320);
  c->gate(b.participant.id, pcm, 16000);
  EXPECT_TRUE(silent(pcm)) << "Ben waits while Ana has the floor";
  pcm = loud(320);
  c->gate(a.participant.id, pcm, 16000);
  EXPECT_EQ(zeros(pcm), 0u) << "Ana is heard";
  c->utterance_opened(b.participant.id);  // Ben started in the same instant: the floor stays Ana's
  EXPECT_EQ(watch->of_type("floor").size(), 1u);
  c->utterance_closed(b.participant.id);
  const auto closed_at = std::chrono::steady_clock::now();  // before the call: a pause after it only adds
  c->utterance_closed(a.participant.id);
  EXPECT_TRUE(watch->of_type("floor").back()["holder"].is_null()) << "the pages see it free at once";
  // Ben is still not heard for the margin, then is.
  bool heard = false;
  while (!heard && std::chrono::steady_clock::now() - closed_at < 3s) {
    pcm = loud(320);
    c->gate(b.participant.id, pcm, 16000);
    heard = zeros(pcm) == 0;
    if (!heard) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(heard);
  EXPECT_GE(std::chrono::steady_clock::now() - closed_at, std::chrono::milliseconds(Conversation::kFloorMarginMs - 30));
  // Switched off, nobody waits.
  c->utterance_opened(a.participant.id);
  c->set_half_duplex(false);
  pcm = loud(320);
  c->gate(b.participant.id, pcm, 16000);
  EXPECT_EQ(zeros(pcm), 0u);
  EXPECT_EQ(watch->of_type("floor").back()["halfDuplex"], false);
}

TEST_F(Conversations_, AtMostMaxConversationsAndIdleOnesEnd) {
  std::vector<std::shared_ptr<Conversation>> held;
  for (int i = 0; i < 4; ++i) held.push_back(make());
  auto fifth = conversations->create({});
  EXPECT_EQ(fifth.status().code(), core::Code::resource_exhausted);
  auto a = *held[0]->join("Ana", "en");
  auto member = std::make_shared<Member>();
  held[0]->connect(a.participant.id, member);
  // Nobody was ever connected to three of them; one has Ana online.
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(conversations->reap(10), 3u);
  EXPECT_EQ(conversations->size(), 1u);
  EXPECT_NE(conversations->find(held[0]->code()), nullptr);
  EXPECT_TRUE(held[1]->has_ended());
  // A conversation's sessions are never ended by the registry's idle reaper.
  EXPECT_EQ(registry->reap(1), 0u);
  EXPECT_FALSE(a.session->has_ended());
}

}  // namespace
}  // namespace parley::session

namespace parley::session {
namespace {

TEST_F(Conversations_, WhoLeavesHasTheirSessionEndedAndAConversationEveryoneLeftEnds) {
  auto c = make();
  auto a = *c->join("Ana", "en");
  auto b = *c->join("Bea", "es");
  c->leave(a.participant.id);
  EXPECT_GT(c->token_left_at(a.token).value_or(0), 0) << "who left reads what was said until then, no more";
  EXPECT_EQ(c->token_left_at(b.token), 0);
  EXPECT_EQ(conversations->reap(0), 0u);
  EXPECT_TRUE(a.session->has_ended()) << "their session stops (its history stays in the store)";
  EXPECT_FALSE(b.session->has_ended());
  EXPECT_FALSE(c->has_ended());
  c->leave(b.participant.id);
  EXPECT_EQ(conversations->reap(0), 1u);
  EXPECT_TRUE(c->has_ended());
  EXPECT_TRUE(b.session->has_ended());
  EXPECT_EQ(conversations->find(c->code()), nullptr);
}

// Who took part is kept beside their words, so the conversation can be
// exported after it has ended and left memory: each participant's session,
// name, language and token, and who left before the end.
TEST(ConversationStore, EachParticipantIsKeptWithTheirSessionAndWhoLeftIsMarked) {
  auto engines = app::load_engines({.need_speech_out = false});
  ASSERT_TRUE(engines.is_ok()) << engines.status().message();
  std::shared_ptr<store::Store> store = std::move(*store::open_sqlite_store(":memory:"));
  Registry registry(*engines, store, LiveConfig{}, 8);
  Conversations conversations(registry, 2);
  auto c = *conversations.create({.title = "Market"});
  auto a = *c->join("Ana", "en");
  auto b = *c->join("Bea", "es");
  c->leave(b.participant.id);

  auto kept = store->find_conversation(c->code());
  ASSERT_TRUE(kept.is_ok()) << kept.status().message();
  ASSERT_TRUE(kept->has_value());
  const auto& k = **kept;
  EXPECT_EQ(k.title, "Market");
  EXPECT_EQ(k.created_at_ms, c->created_at_ms());
  ASSERT_EQ(k.members.size(), 2u);
  EXPECT_EQ(k.members[0].participant_id, a.participant.id);
  EXPECT_EQ(k.members[0].session_id, a.session->info().id);
  EXPECT_EQ(k.members[0].name, "Ana");
  EXPECT_EQ(k.members[0].token_hash, hash_token(a.token));
  EXPECT_EQ(k.members[0].left_at_ms, 0);
  EXPECT_EQ(k.members[1].language, "es");
  EXPECT_TRUE(k.members[1].typed);
  EXPECT_GT(k.members[1].left_at_ms, 0) << "who left exports what was said until then, no more";
  EXPECT_FALSE(k.ended());
  auto row = store->find_session(a.session->info().code);
  ASSERT_TRUE(row.is_ok() && row->has_value());
  EXPECT_EQ((*row)->info.spec.conversation, c->code()) << "the session's row says whose it is";

  c->end("test over");
  conversations.reap(0);
  registry.reap(0);
  EXPECT_TRUE((*store->find_conversation(c->code()))->ended());
  registry.end_all("test over");
  registry.reap(0);
}

}  // namespace
}  // namespace parley::session

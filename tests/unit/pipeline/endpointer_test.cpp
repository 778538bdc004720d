// SPDX-License-Identifier: GPL-3.0-or-later
// The endpointer's decisions, frame by frame: no audio, no clock.
#include "pipeline/endpointer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::pipeline {
namespace {

// A recogniser that answers from a script: the hypothesis for each look.
class ScriptedHypotheses final : public HypothesisSource {
 public:
  std::vector<std::string> answers;
  std::string last;
  int looks = 0;
  std::string hypothesis_now() override {
    ++looks;
    if (!answers.empty()) {
      last = answers.front();
      if (answers.size() > 1) answers.erase(answers.begin());
    }
    return last;
  }
};

EndpointConfig adaptive() { return {.policy = EndpointPolicy::adaptive, .min_silence_ms = 150, .max_silence_ms = 500}; }

// Feeds voice, then silence until the endpointer ends the utterance; returns
// the silence it waited, in ms (or -1 after 2 s).
int silence_until_end(Endpointer& e, int voice_ms = 300) {
  for (int i = 0; i < voice_ms / 10; ++i) EXPECT_FALSE(e.end_after_frame(true));
  for (int ms = 10; ms <= 2000; ms += 10) {
    if (e.end_after_frame(false)) return ms;
  }
  return -1;
}

// A speaker whose pauses between words are `pause_ms` long.
void learn_pauses(Endpointer& e, int n, int pause_ms) {
  for (int i = 0; i < n; ++i) {
    for (int f = 0; f < 20; ++f) e.end_after_frame(true);
    for (int f = 0; f < pause_ms / 10; ++f) ASSERT_FALSE(e.end_after_frame(false));
  }
  e.end_after_frame(true);
}

TEST(Endpointer, FixedPolicyWaitsTheWholeHangover) {
  ScriptedHypotheses h;
  h.answers = {"we went to the park"};
  Endpointer e({.policy = EndpointPolicy::fixed, .min_silence_ms = 150, .max_silence_ms = 500}, "en", &h);
  e.begin_utterance();
  EXPECT_EQ(silence_until_end(e), 500);
  EXPECT_EQ(e.evidence(), PauseEvidence::none);
  EXPECT_EQ(h.looks, 0) << "a fixed hangover never asks the recogniser";
}

TEST(Endpointer, AKnownSpeakersStableSentenceEndsAtTheShortestPause) {
  ScriptedHypotheses h;
  h.answers = {"we went to the park"};
  Endpointer e(adaptive(), "en", &h);
  e.begin_utterance();
  learn_pauses(e, 10, 60);  // brisk: 60 ms between words
  EXPECT_EQ(e.usual_pause_ms(), 60);
  EXPECT_EQ(silence_until_end(e), 150);
  EXPECT_EQ(e.evidence(), PauseEvidence::speaker_pause);
}

TEST(Endpointer, ASpeakerWhoPausesLongerGetsLongerToContinue) {
  ScriptedHypotheses h;
  h.answers = {"we went to the"};  // mid-sentence while the pauses are learnt
  Endpointer e(adaptive(), "en", &h);
  e.begin_utterance();
  learn_pauses(e, 10, 300);
  EXPECT_EQ(e.usual_pause_ms(), 300);
  h.answers = {"we went to the park"};
  EXPECT_EQ(silence_until_end(e), 360);  // the usual pause + 60 ms
}

TEST(Endpointer, AnUnknownSpeakerGetsTheShortestPausePlus100Ms) {
  ScriptedHypotheses h;
  h.answers = {"we went to the park"};
  Endpointer e(adaptive(), "en", &h);
  e.begin_utterance();
  EXPECT_EQ(e.usual_pause_ms(), 0);
  EXPECT_EQ(silence_until_end(e), 250);
}

TEST(Endpointer, AWordThatCannotEndASentenceWaitsTheWholeHangover) {
  for (std::string hypothesis : {"we went to the", "bread and", "the sound of"}) {
    ScriptedHypotheses h;
    h.answers = {hypothesis};
    Endpointer e(adaptive(), "en-US", &h);
    e.begin_utterance();
    learn_pauses(e, 10, 60);
    EXPECT_EQ(silence_until_end(e), 500) << hypothesis;
    EXPECT_EQ(e.evidence(), PauseEvidence::none);
  }
}

TEST(Endpointer, FewerThanThreeWordsWaitTheWholeHangover) {
  ScriptedHypotheses h;
  h.answers = {"front"};
  Endpointer e(adaptive(), "en", &h);
  e.begin_utterance();
  learn_pauses(e, 10, 60);
  EXPECT_EQ(silence_until_end(e), 500);
}

TEST(Endpointer, NothingRecognisedWaitsTheWholeHangover) {
  ScriptedHypotheses h;
  h.answers = {""};
  Endpointer e(adaptive(), "en", &h);
  e.begin_utterance();
  learn_pauses(e, 10, 60);
  EXPECT_EQ(silence_until_end(e), 500);
}

TEST(Endpointer, AHypothesisStillChangingIsNotAnEnd) {
  ScriptedHypotheses h;
  // Each look revises the last word; it settles on the fourth.
  h.answers = {"we saw the cat", "we saw the cats", "we saw the catalogue", "we saw the catalogue"};
  Endpointer e(adaptive(), "en", &h);
  e.begin_utterance();
  learn_pauses(e, 10, 60);
  const int waited = silence_until_end(e);
  // Looks at 100, 150, 200, 250 ms: the first two that agree are at 200 and 250.
  EXPECT_EQ(waited, 250);
  EXPECT_EQ(e.evidence(), PauseEvidence::speaker_pause);
}

TEST(Endpointer, SentencePunctuationFromTheEngineEndsAtTheShortestPause) {
  ScriptedHypotheses h;
  h.answers = {"Is it raining?"};
  Endpointer e(adaptive(), "en", &h);
  e.begin_utterance();
  EXPECT_EQ(silence_until_end(e), 150);
  EXPECT_EQ(e.evidence(), PauseEvidence::punctuation);
}

TEST(Endpointer, WithoutARecogniserOnlyPausesCount) {
  Endpointer e(adaptive(), "en", nullptr);
  e.begin_utterance();
  learn_pauses(e, 10, 100);
  EXPECT_EQ(silence_until_end(e), 160);
}

TEST(Endpointer, VoiceInThePauseStartsTheCountAgain) {
  ScriptedHypotheses h;
  h.answers = {"we went to the park"};
  Endpointer e({.policy = EndpointPolicy::fixed, .min_silence_ms = 150, .max_silence_ms = 500}, "en", &h);
  e.begin_utterance();
  for (int i = 0; i < 45; ++i) ASSERT_FALSE(e.end_after_frame(false));
  ASSERT_FALSE(e.end_after_frame(true));
  EXPECT_EQ(silence_until_end(e, 10), 500);
}

TEST(Endpointer, ContinuationWordsAreKnownForSeveralLanguages) {
  EXPECT_TRUE(Endpointer::continues_sentence("es", "de"));
  EXPECT_TRUE(Endpointer::continues_sentence("fr-CA", "les"));
  EXPECT_TRUE(Endpointer::continues_sentence("de", "und"));
  EXPECT_FALSE(Endpointer::continues_sentence("en", "park"));
  EXPECT_FALSE(Endpointer::continues_sentence("xx", "the"));
}

}  // namespace
}  // namespace parley::pipeline

// SPDX-License-Identifier: GPL-3.0-or-later
#include "words/script.h"

#include <gtest/gtest.h>

namespace parley::words {
namespace {

const char* kSpeech =
    "Good morning, everyone. Thank you for coming to the annual meeting of the Riverside Garden Club. "
    "This year we planted four hundred tulips along the north path. "
    "The committee would like to thank Mrs. Abernathy for her tireless work. "
    "Next spring, we hope to open the greenhouse to the public on weekends. "
    "Please remember that membership fees are due by the end of March.";

TEST(Script, AFinalReadFromTheScriptIsShownInTheScriptsWords) {
  ScriptFollower f{Script(kSpeech)};
  auto m = f.follow("good morning everyone thank you for coming to the annual meeting of the riverside garden club",
                    "Good morning everyone thank you for coming to the annual meeting of the riverside garden club.");
  EXPECT_EQ(m.text(), "Good morning, everyone. Thank you for coming to the annual meeting of the Riverside Garden Club.");
  EXPECT_TRUE(m.any_from_script());
  EXPECT_EQ(f.position_sentence(), 2U);
}

TEST(Script, RecognitionErrorsInsideAPassageStillShowTheScript) {
  ScriptFollower f{Script(kSpeech)};
  // "tulips" misheard, "four" dropped, "the" inserted.
  auto m = f.follow("this year we planted hundred to lips along the the north path",
                    "This year we planted hundred to lips along the the north path.");
  EXPECT_EQ(m.text(), "This year we planted four hundred tulips along the north path.");
}

TEST(Script, SkippedSentencesAreNotShown) {
  ScriptFollower f{Script(kSpeech)};
  f.follow("good morning everyone", "Good morning everyone.");
  // The speaker skips two sentences.
  auto m = f.follow("the committee would like to thank missus abernathy for her tireless work",
                    "The committee would like to thank missus abernathy for her tireless work.");
  EXPECT_EQ(m.text(), "The committee would like to thank Mrs. Abernathy for her tireless work.");
  auto next = f.follow("next spring we hope to open the greenhouse", "Next spring we hope to open the greenhouse.");
  EXPECT_EQ(next.text(), "Next spring, we hope to open the greenhouse");
}

TEST(Script, AnAdLibIsShownAsRecognisedNeverAsScript) {
  ScriptFollower f{Script(kSpeech)};
  f.follow("good morning everyone", "Good morning everyone.");
  auto m = f.follow("sorry about the parking situation outside today",
                    "Sorry about the parking situation outside today.");
  EXPECT_FALSE(m.any_from_script());
  EXPECT_EQ(m.text(), "Sorry about the parking situation outside today.");
  EXPECT_EQ(f.position_sentence(), 1U) << "an ad-lib does not move the position";
}

TEST(Script, AnAdLibInsideAScriptedFinalKeepsItsWords) {
  ScriptFollower f{Script(kSpeech)};
  auto m = f.follow("this year we planted and i counted them myself four hundred tulips along the north path",
                    "");
  ASSERT_EQ(m.pieces.size(), 3U) << m.text();
  EXPECT_TRUE(m.pieces[0].from_script);
  EXPECT_FALSE(m.pieces[1].from_script);
  EXPECT_EQ(m.pieces[1].text, "and i counted them myself");
  EXPECT_TRUE(m.pieces[2].from_script);
  EXPECT_EQ(m.pieces[2].text, "four hundred tulips along the north path.");
}

TEST(Script, SomethingElseSaidInTheScriptsPlaceIsShownAsHeard) {
  ScriptFollower f{Script(kSpeech)};
  // "four hundred tulips" became "a great many roses": three wrong words in
  // a row are not the recogniser's slip. (One or two are taken for its
  // errors, and shown as the script's.)
  auto m = f.follow("this year we planted a great many roses along the north path", "");
  ASSERT_EQ(m.pieces.size(), 3U) << m.text();
  EXPECT_EQ(m.pieces[1].text, "a great many roses");
  EXPECT_FALSE(m.pieces[1].from_script);
  // A word that is the opposite of the script's is not a near match.
  ScriptFollower g{Script("It is possible to join the club online today.")};
  auto n = g.follow("it is impossible to join the club online today", "");
  EXPECT_EQ(n.text().find("It is possible"), std::string::npos) << n.text();
}

TEST(Script, TheSpeakerCanGoBackAndSeek) {
  ScriptFollower f{Script(kSpeech)};
  f.seek_sentence(4);
  EXPECT_EQ(f.position_sentence(), 4U);
  auto m = f.follow("next spring we hope to open the greenhouse to the public on weekends", "");
  EXPECT_EQ(m.text(), "Next spring, we hope to open the greenhouse to the public on weekends.");
  // Back to the start: a well-matched passage is found wherever it is.
  auto back = f.follow("thank you for coming to the annual meeting", "");
  EXPECT_EQ(back.text(), "Thank you for coming to the annual meeting");
}

TEST(Script, TextPastedWhileLiveIsFollowedToo) {
  ScriptFollower f{Script("First part ends here.")};
  f.follow("first part ends here", "");
  f.append("The second part was pasted later.");
  auto m = f.follow("the second part was pasted later", "");
  EXPECT_EQ(m.text(), "The second part was pasted later.");
  EXPECT_EQ(f.script().n_sentences(), 2U);
}

TEST(Script, ShortAndEmptyFinalsAreLeftAsRecognised) {
  ScriptFollower f{Script(kSpeech)};
  EXPECT_EQ(f.follow("", "").text(), "");
  EXPECT_FALSE(f.follow("yes", "Yes.").any_from_script());
  ScriptFollower empty{Script("")};
  EXPECT_EQ(empty.follow("hello there", "Hello there.").text(), "Hello there.");
}

}  // namespace
}  // namespace parley::words

// SPDX-License-Identifier: GPL-3.0-or-later
// Apertium through its persistent null-flush pipelines, the pivot router
// (on fake engines and on the installed pairs) and the glossary.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engines/mt/apertium/apertium_mt.h"
#include "engines/mt/glossary.h"
#include "engines/mt/router.h"
#include "engines/mt/translator.h"

namespace parley::engines::mt {
namespace {

std::shared_ptr<const Model> apertium() {
  static auto m = make_apertium_mt();
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? *m : nullptr;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

TEST(Apertium, FindsInstalledPairsAsNormalisedDirections) {
  auto dirs = apertium()->directions();
  auto has = [&](const char* f, const char* t) {
    return std::find(dirs.begin(), dirs.end(), Direction{f, t}) != dirs.end();
  };
  EXPECT_TRUE(has("en", "es"));
  EXPECT_TRUE(has("en", "ca"));
  EXPECT_TRUE(has("en", "gl"));
  EXPECT_TRUE(has("es", "fr"));
  EXPECT_TRUE(has("es", "pt"));
  EXPECT_TRUE(has("es", "it"));
  EXPECT_FALSE(has("en", "fr")) << "Debian has no direct English-French pair";
}

TEST(Apertium, TranslatesSentencesThroughOnePersistentPipeline) {
  auto s = apertium()->open_stream({"en", "es"});
  ASSERT_TRUE(s.is_ok());
  auto a = (*s)->translate("The house is red.");
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_EQ(*a, "La casa es roja.");
  auto b = (*s)->translate("Hello world.");
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(*b, "Hola Mundo.") << "the final full stop must survive the segment end";
}

// The process groups of this process's Apertium pipelines (bash children).
std::vector<pid_t> apertium_children() {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid() && line.find("(bash)") != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

// A pipeline killed between sentences (or under one) is replaced, and the
// sentence is still translated.
TEST(Apertium, AKilledPipelineIsReplacedAndTheSentenceStillTranslated) {
  ApertiumConfig c;
  c.pipelines_per_direction = 1;
  auto model = make_apertium_mt(c);
  ASSERT_TRUE(model.is_ok());
  auto s = (*model)->open_stream({"en", "es"});
  ASSERT_TRUE(s.is_ok());
  ASSERT_EQ(*(*s)->translate("The house is red."), "La casa es roja.");
  const auto before = apertium_children();
  ASSERT_FALSE(before.empty());
  for (pid_t pid : before) ::kill(-pid, SIGKILL);  // the whole pipeline: bash and every tool
  auto after = (*s)->translate("Hello world.");
  ASSERT_TRUE(after.is_ok()) << after.status().message();
  EXPECT_EQ(*after, "Hola Mundo.");
  EXPECT_EQ(*(*s)->translate("The house is red."), "La casa es roja.") << "and the new pipeline stays";
}

TEST(Apertium, SpecialCharactersAndControlBytesDoNotDesyncThePipeline) {
  auto s = apertium()->open_stream({"en", "es"});
  ASSERT_TRUE(s.is_ok());
  std::string nasty = std::string("a [b] ^c$ /d\\ @e <f> {g} *h #i ~j") + '\0' + "k\x01";
  auto r = (*s)->translate(nasty);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_NE(r->find("[b]"), std::string::npos) << *r;
  // The next sentence still gets its own answer.
  auto next = (*s)->translate("I have a small house.");
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(*next, "Tengo una casa pequeña.");
}

// An outside audit: U+FFFF (valid JSON, and what lttoolbox uses as a
// marker) or bytes that are not UTF-8 put the pipeline one answer behind,
// for every later sentence of every session.
TEST(Apertium, NoncharactersAndBrokenUtf8DoNotPutThePipelineOutOfStep) {
  auto s = apertium()->open_stream({"en", "es"});
  ASSERT_TRUE(s.is_ok());
  for (const std::string& bad : {std::string("\xEF\xBF\xBF"), std::string("Green \xC3tree"), std::string("x \xEF\xB7\x90 y"),
                                 std::string("\xED\xA0\x80 surrogate"), std::string("\xF0\x8F\xBF\xBF overlong")}) {
    (void)(*s)->translate(bad);
    auto next = (*s)->translate("I have a small house.");
    ASSERT_TRUE(next.is_ok()) << next.status().message();
    EXPECT_EQ(*next, "Tengo una casa pequeña.") << "after " << ::testing::PrintToString(bad);
  }
}

TEST(Apertium, OversizedInputIsRefused) {
  auto s = apertium()->open_stream({"en", "es"});
  ASSERT_TRUE(s.is_ok());
  auto r = (*s)->translate(std::string(20000, 'a'));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), core::Code::invalid_argument);
}

TEST(Apertium, ConcurrentSessionsGetTheirOwnAnswers) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"The house is red.", "La casa es roja."}, {"I have a small house.", "Tengo una casa pequeña."}};
  std::vector<std::thread> threads;
  std::atomic<int> n_wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto s = apertium()->open_stream({"en", "es"});
      if (!s) {
        ++n_wrong;
        return;
      }
      for (int i = 0; i < 20; ++i) {
        const auto& [in, want] = cases[static_cast<size_t>(t + i) % cases.size()];
        auto r = (*s)->translate(in);
        if (!r || *r != want) ++n_wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(n_wrong.load(), 0);
}

TEST(Apertium, CleansMarksAndEscapes) {
  EXPECT_EQ(apertium_escape("a[b]"), "a\\[b\\]");
  EXPECT_EQ(apertium_clean_output("*Dashwood tiene @casa #perro \\[x\\]\n"), "Dashwood tiene casa perro [x]");
}

// A fake engine: knows a fixed set of directions and tags its output.
class FakeModel final : public Model {
 public:
  FakeModel(std::string name, std::vector<Direction> dirs) : name_(std::move(name)), dirs_(std::move(dirs)) {}
  std::string name() const override { return name_; }
  std::vector<Direction> directions() const override { return dirs_; }
  core::Result<std::unique_ptr<Stream>> open_stream(const Direction& d) const override {
    class S final : public Stream {
     public:
      explicit S(std::string tag) : tag_(std::move(tag)) {}
      core::Result<std::string> translate(std::string_view text) override {
        return std::string(text) + "|" + tag_;
      }
      std::string tag_;
    };
    return std::unique_ptr<Stream>(std::make_unique<S>(d.from + ">" + d.to));
  }

 private:
  std::string name_;
  std::vector<Direction> dirs_;
};

TEST(Router, PrefersDirectThenPreferredPivot) {
  auto m = std::make_shared<FakeModel>(
      "fake", std::vector<Direction>{{"en", "es"}, {"en", "ca"}, {"es", "it"}, {"ca", "it"},
                                     {"es", "fr"}, {"en", "de"}});
  Router router({m});
  auto direct = router.route("en", "es");
  ASSERT_TRUE(direct.is_ok());
  EXPECT_FALSE(direct->pivoted());
  auto it = router.route("en", "it");
  ASSERT_TRUE(it.is_ok());
  EXPECT_EQ(it->describe(), "en→es→it") << "es is preferred over ca as a pivot";
  auto stream = router.open(*it);
  ASSERT_TRUE(stream.is_ok());
  EXPECT_EQ(*(*stream)->translate("x"), "x|en>es|es>it");

  Router ca_first({m}, {"ca", "es"});
  EXPECT_EQ(ca_first.route("en", "it")->describe(), "en→ca→it");
}

TEST(Router, MissingDirectionSaysWhatIsInstalled) {
  auto m = std::make_shared<FakeModel>("fake", std::vector<Direction>{{"en", "es"}});
  Router router({m});
  auto r = router.route("en", "ja");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), core::Code::not_found);
  EXPECT_NE(r.status().message().find("es"), std::string::npos) << r.status().message();
  auto none = router.route("zz", "es");
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("nothing translates from 'zz'"), std::string::npos);
}

TEST(Router, InstalledPairsPivotEnglishToFrenchPortugueseItalian) {
  Router router({apertium()});
  EXPECT_FALSE(router.route("en", "es")->pivoted());
  EXPECT_FALSE(router.route("en", "ca")->pivoted());
  EXPECT_FALSE(router.route("en", "gl")->pivoted());
  for (const char* to : {"fr", "pt", "it"}) {
    auto r = router.route("en", to);
    ASSERT_TRUE(r.is_ok()) << to;
    EXPECT_TRUE(r->pivoted()) << to;
  }
  auto tr = Translator::open(router, "en", "fr", nullptr, nullptr);
  ASSERT_TRUE(tr.is_ok());
  auto out = (*tr)->translate("The house is red.");
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->text, "La maison est rouge.");
}

TEST(Glossary, ParsesAndReportsBadLines) {
  auto g = Glossary::parse("# names\nen\tes\ttown hall\tayuntamiento\n\nen\t*\tDashwood\tDashwood\n", "g.tsv");
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_EQ(g->size(), 2U);
  auto bad = Glossary::parse("en\tes\tonly three\n", "g.tsv");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("g.tsv:1"), std::string::npos);
  auto bad_lang = Glossary::parse("english\tes\ta\tb\n", "g.tsv");
  EXPECT_FALSE(bad_lang.is_ok());
  EXPECT_FALSE(Glossary::load("/nonexistent/glossary.tsv").is_ok());
}

TEST(Glossary, ProtectsWholeWordsCaseInsensitivelyLongestFirst) {
  Glossary g({{"en", "es", "hall", "sala"}, {"en", "es", "town hall", "ayuntamiento"}});
  auto p = g.protect("Meet at the Town Hall, not the hallway or the hall.", "en", "es");
  EXPECT_EQ(p.targets, (std::vector<std::string>{"ayuntamiento", "sala"}));
  EXPECT_EQ(p.text, "Meet at the Xq1, not the hallway or the Xq2.");
  size_t missing = 99;
  EXPECT_EQ(Glossary::restore("Xq2 y Xq1", p, &missing), "sala y ayuntamiento");
  EXPECT_EQ(missing, 0U);
  auto other = g.protect("the town hall", "en", "fr");
  EXPECT_TRUE(other.targets.empty()) << "entries for es do not apply to fr";
}

TEST(Glossary, TermsAreHonouredThroughRealTranslationDirectAndPivoted) {
  auto g = std::make_shared<const Glossary>(std::vector<GlossaryEntry>{
      {"en", "es", "town hall", "ayuntamiento"},
      {"en", "fr", "town hall", "mairie"},
      {"en", "*", "Dashwood", "Dashwood"},
      {"en", "es", "meeting", "asamblea"},
      {"en", "fr", "meeting", "assemblée"}});
  Router router({apertium()});
  auto cache = std::make_shared<TranslationCache>(100);
  const std::vector<std::string> sentences = {
      "The meeting is in the town hall.",
      "Mister Dashwood went to the town hall yesterday.",
      "We will have a meeting after the meeting.",
      "Dashwood said the town hall was cold."};
  for (const char* to : {"es", "fr"}) {
    auto tr = Translator::open(router, "en", to, g, cache);
    ASSERT_TRUE(tr.is_ok());
    for (const auto& s : sentences) {
      auto out = (*tr)->translate(s);
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      const std::string text = lower(out->text);
      EXPECT_EQ(text.find("xq"), std::string::npos) << "placeholder leaked: " << out->text;
      if (s.find("town hall") != std::string::npos) {
        EXPECT_NE(text.find(std::string(to) == "es" ? "ayuntamiento" : "mairie"), std::string::npos)
            << to << ": " << out->text;
      }
      if (s.find("Dashwood") != std::string::npos) {
        EXPECT_NE(out->text.find("Dashwood"), std::string::npos) << out->text;
      }
      if (s.find("meeting") != std::string::npos) {
        EXPECT_NE(text.find(std::string(to) == "es" ? "asamblea" : "assemblée"), std::string::npos)
            << to << ": " << out->text;
      }
    }
  }
}

TEST(TranslationCache, SecondRequestIsAHit) {
  Router router({apertium()});
  auto cache = std::make_shared<TranslationCache>(10);
  auto tr = Translator::open(router, "en", "es", nullptr, cache);
  ASSERT_TRUE(tr.is_ok());
  auto a = (*tr)->translate("The dog runs.");
  auto b = (*tr)->translate("The dog runs.");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_FALSE(a->cache_hit);
  EXPECT_TRUE(b->cache_hit);
  EXPECT_EQ(a->text, b->text);
  EXPECT_EQ(cache->n_hits(), 1U);
}

}  // namespace
}  // namespace parley::engines::mt

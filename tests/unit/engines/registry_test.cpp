// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/registry.h"

#include <gtest/gtest.h>

#include "engines/stt/chain.h"

namespace parley::engines {
namespace {

TEST(EngineList, ParsesNamesAndSettingsInOrder) {
  auto list = parse_engine_list(" remote-stt(url=http://gpu:8080/v1, languages=es+fr ), pocketsphinx ,x_2()");
  ASSERT_TRUE(list.is_ok()) << list.status().message();
  ASSERT_EQ(list->size(), 3U);
  EXPECT_EQ((*list)[0].name, "remote-stt");
  EXPECT_EQ((*list)[0].settings.get_or("url", ""), "http://gpu:8080/v1");
  EXPECT_EQ((*list)[0].settings.languages(), (std::vector<std::string>{"es", "fr"}));
  EXPECT_EQ((*list)[1].name, "pocketsphinx");
  EXPECT_TRUE((*list)[1].settings.values().empty());
  EXPECT_EQ((*list)[2].name, "x_2");
}

TEST(EngineList, RefusesWhatItCannotRead) {
  for (const char* bad : {"", " , ", "a,", "a(b)", "a(b=1", "a(b=1,b=2)", "a(b=(1))", "A", "a b", "a(b=1)c",
                          "a(=1)"}) {
    auto list = parse_engine_list(bad);
    EXPECT_FALSE(list.is_ok()) << "'" << bad << "' was accepted";
    if (!list.is_ok()) {
      EXPECT_EQ(list.status().code(), core::Code::invalid_argument) << bad;
    }
  }
}

TEST(EngineSettings, NumbersAreCheckedAgainstTheirRange) {
  Settings s({{"n", "12"}, {"bad", "12x"}, {"big", "99999"}});
  EXPECT_EQ(*s.get_long("n", 1, 0, 100), 12);
  EXPECT_EQ(*s.get_long("missing", 7, 0, 100), 7);
  EXPECT_FALSE(s.get_long("bad", 1, 0, 100).is_ok());
  auto big = s.get_long("big", 1, 0, 100);
  ASSERT_FALSE(big.is_ok());
  EXPECT_NE(big.status().message().find("big=99999"), std::string::npos) << big.status().message();
}

// A recogniser that only says which language and engine it was opened for.
class FakeStt final : public stt::Model {
 public:
  FakeStt(std::string name, std::vector<std::string> langs) : name_(std::move(name)), langs_(std::move(langs)) {}
  std::string name() const override { return name_; }
  std::vector<std::string> languages() const override { return langs_; }
  core::Result<std::unique_ptr<stt::Stream>> open_stream(const std::string& language) const override {
    for (const auto& l : langs_) {
      if (l == language) return std::unique_ptr<stt::Stream>();
    }
    return core::not_found(name_ + " has no " + language);
  }

 private:
  std::string name_;
  std::vector<std::string> langs_;
};

TEST(Registry, BuildsTheListedEnginesAndNamesWhatExists) {
  std::vector<Factory<stt::Model>> table;
  table.push_back({"small", "test engine", {"size"}, [](const Settings& s) -> core::Result<std::shared_ptr<const stt::Model>> {
                     auto size = s.get_long("size", 1, 1, 10);
                     if (!size) return size.status();
                     return std::shared_ptr<const stt::Model>(std::make_shared<FakeStt>("small", std::vector<std::string>{"en"}));
                   }});
  auto ok = build(table, *parse_engine_list("small(size=3, languages=en)"), "stt");
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  ASSERT_EQ(ok->size(), 1U);
  EXPECT_EQ(ok->front().first->name(), "small");

  auto unknown = build(table, *parse_engine_list("large"), "stt");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("available: small"), std::string::npos);
  auto setting = build(table, *parse_engine_list("small(colour=red)"), "stt");
  ASSERT_FALSE(setting.is_ok());
  EXPECT_NE(setting.status().message().find("settings: languages, size"), std::string::npos);
  EXPECT_FALSE(build(table, *parse_engine_list("small(size=11)"), "stt").is_ok()) << "the factory's own check";
}

TEST(SttChain, EachLanguageGoesToTheFirstEngineAllowedIt) {
  auto embedded = std::make_shared<FakeStt>("embedded", std::vector<std::string>{"en"});
  auto remote = std::make_shared<FakeStt>("remote", std::vector<std::string>{"en", "es", "fr", "de"});
  // English embedded; Spanish and French remote; German not configured.
  stt::Chain chain({{embedded, {}}, {remote, {"es", "fr"}}});
  EXPECT_EQ(chain.languages(), (std::vector<std::string>{"en", "es", "fr"}));
  EXPECT_EQ(chain.engine_for("en"), "embedded");
  EXPECT_EQ(chain.engine_for("es"), "remote");
  EXPECT_EQ(chain.engine_for("de"), "");
  EXPECT_TRUE(chain.open_stream("fr").is_ok());
  auto de = chain.open_stream("de");
  ASSERT_FALSE(de.is_ok());
  EXPECT_EQ(de.status().code(), core::Code::not_found);
  EXPECT_EQ(chain.name(), "embedded, remote");
}

}  // namespace
}  // namespace parley::engines

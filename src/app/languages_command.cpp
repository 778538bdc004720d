// SPDX-License-Identifier: GPL-3.0-or-later
// `parley languages`: what this machine can recognise, translate and speak.
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "app/args.h"
#include "core/utf8.h"
#include "app/commands.h"
#include "app/engine_set.h"
#include "engines/language.h"

namespace parley::app {
namespace {


}  // namespace

int run_languages(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {{}, {"json", "help"}});
  if (!args) {
    print_error(args.status().message());
    return 2;
  }
  if (args->has("help")) {
    std::puts("usage: parley languages [--json]\n\n"
              "Lists the languages parley can recognise in speech, every translation target\n"
              "reachable from each source (direct, or pivoted through another language),\n"
              "and the voices installed for speech synthesis.");
    return 0;
  }
  auto engines = load_engines({});
  if (!engines) {
    print_error(engines.status().message());
    return 1;
  }
  std::set<std::string> voiced;
  for (const auto& v : engines->tts->voices()) voiced.insert(v.language);
  auto has_voice = [&](const std::string& l) {
    return voiced.count(l) != 0 || voiced.count(l.substr(0, l.find('-'))) != 0;
  };
  auto speech_sources = engines->stt->languages();

  nlohmann::json j;
  j["speech_sources"] = speech_sources;
  j["text_sources"] = engines->router->sources();
  j["routes"] = nlohmann::json::object();
  for (const auto& from : engines->router->sources()) {
    for (const auto& [to, route] : engines->router->targets_from(from)) {
      j["routes"][from][to] = {{"route", route.describe()},
                               {"pivoted", route.pivoted()},
                               {"voice", has_voice(to)}};
    }
  }
  j["voices"] = nlohmann::json::array();
  for (const auto& v : engines->tts->voices()) j["voices"].push_back({{"language", v.language}, {"voice", v.name}});
  if (args->has("json")) {
    std::puts(j.dump(2).c_str());
    return 0;
  }

  std::printf("Speech recognition (%s):\n", engines->stt->languages().empty() ? "none" : "source languages");
  for (const auto& l : speech_sources) {
    std::printf("  %-6s %s\n", l.c_str(), engines::language_name(l).c_str());
  }
  std::printf("\nTranslation (%s), by source language:\n", "apertium");
  for (const auto& from : engines->router->sources()) {
    bool speech = std::find(speech_sources.begin(), speech_sources.end(), from) != speech_sources.end();
    std::printf("  from %s (%s)%s\n", from.c_str(), engines::language_name(from).c_str(),
                speech ? " — speech and text" : " — text only");
    for (const auto& [to, route] : engines->router->targets_from(from)) {
      std::string how = route.pivoted() ? "pivot  " + route.describe() : "direct";
      std::printf("    %s %s %s %s\n", core::pad_to_width(from + "→" + to, 9).c_str(),
                  core::pad_to_width(engines::language_name(to), 22).c_str(), core::pad_to_width(how, 22).c_str(),
                  has_voice(to) ? "voice" : "captions only");
    }
  }
  std::printf("\nVoices (%s, %zu):\n ", "espeak-ng", engines->tts->voices().size());
  int col = 1;
  for (const auto& v : engines->tts->voices()) {
    if (col + v.language.size() + 1 > 78) {
      std::printf("\n ");
      col = 1;
    }
    std::printf(" %s", v.language.c_str());
    col += static_cast<int>(v.language.size()) + 1;
  }
  std::printf("\n");
  return 0;
}

}  // namespace parley::app

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
  auto args = Args::parse(argv, {{"vad", "stt", "mt", "tts"}, {"json", "help"}});
  if (!args) {
    print_error(args.status().message());
    return 2;
  }
  if (args->has("help")) {
    std::puts("usage: parley languages [--json]\n\n"
              "Lists the languages parley can recognise in speech, every translation target\n"
              "reachable from each source (direct, or pivoted through another language),\n"
              "and the voices installed for speech synthesis, each with the engine that\n"
              "serves it. --stt, --mt and --tts choose engines as parley serve does.");
    return 0;
  }
  EngineOptions eo;
  for (auto [flag, field] : {std::pair{"vad", &eo.vad}, {"stt", &eo.stt}, {"mt", &eo.mt}, {"tts", &eo.tts}}) {
    if (auto v = args->get(flag)) *field = *v;
  }
  auto engines = load_engines(eo);
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
                               {"mt_engines", route.engines()},
                               {"voice", has_voice(to)}};
    }
  }
  j["voices"] = nlohmann::json::array();
  for (const auto& v : engines->tts->voices()) {
    j["voices"].push_back({{"language", v.language}, {"voice", v.name}, {"engine", engines->tts->engine_for(v.language)}});
  }
  j["stt_engines"] = nlohmann::json::object();
  for (const auto& l : speech_sources) j["stt_engines"][l] = engines->stt->engine_for(l);
  if (args->has("json")) {
    std::puts(j.dump(2).c_str());
    return 0;
  }

  std::printf("Speech recognition (%s):\n", engines->stt->languages().empty() ? "none" : "source languages");
  for (const auto& l : speech_sources) {
    std::printf("  %-6s %-24s %s\n", l.c_str(), engines::language_name(l).c_str(),
                engines->stt->engine_for(l).c_str());
  }
  std::printf("\nTranslation (%s), by source language:\n", engines->router->describe_engines().c_str());
  for (const auto& from : engines->router->sources()) {
    bool speech = std::find(speech_sources.begin(), speech_sources.end(), from) != speech_sources.end();
    std::printf("  from %s (%s)%s\n", from.c_str(), engines::language_name(from).c_str(),
                speech ? " — speech and text" : " — text only");
    for (const auto& [to, route] : engines->router->targets_from(from)) {
      std::string how = route.pivoted() ? "pivot  " + route.describe() : "direct";
      std::string by;
      for (const auto& name : route.engines()) {
        if (by.find(name) == std::string::npos) by += (by.empty() ? "" : "+") + name;
      }
      how += " (" + by + ")";
      std::printf("    %s %s %s %s\n", core::pad_to_width(from + "→" + to, 9).c_str(),
                  core::pad_to_width(engines::language_name(to), 22).c_str(), core::pad_to_width(how, 36).c_str(),
                  has_voice(to) ? "voice" : "captions only");
    }
  }
  std::printf("\nVoices (%s, %zu):\n ", engines->tts->name().c_str(), engines->tts->voices().size());
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

int run_engines(const std::vector<std::string>& argv) {
  if (!argv.empty()) {
    std::puts(argv.front() == "--help" || argv.front() == "-h"
                  ? "usage: parley engines\n\nLists every engine parley can use, per kind, with its settings."
                  : "parley engines takes no arguments");
    return argv.front() == "--help" || argv.front() == "-h" ? 0 : 2;
  }
  std::puts("Engines are chosen per kind with --vad, --stt, --mt and --tts (or the config file\n"
            "and PARLEY_VAD, PARLEY_STT, ...): a list in priority order, each entry a name\n"
            "with optional settings, e.g.\n"
            "  --stt 'pocketsphinx(decoders=4, languages=en)'\n"
            "For a language, the first entry that serves it is used; languages=a+b limits one.\n");
  for (const auto& [kind, title] : {std::pair{"vad", "Voice activity (--vad, exactly one)"},
                                    {"stt", "Speech recognition (--stt)"},
                                    {"mt", "Translation (--mt)"},
                                    {"tts", "Speech synthesis (--tts)"}}) {
    std::printf("%s:\n", title);
    for (const auto& line : describe_engines(kind)) std::printf("  %s\n", line.c_str());
  }
  return 0;
}

}  // namespace parley::app

// SPDX-License-Identifier: GPL-3.0-or-later
// `parley translate-text --from en --to fr`: stdin lines → translated lines.
#include <cstdio>
#include <iostream>
#include <string>

#include "app/args.h"
#include "app/commands.h"
#include "app/engine_set.h"
#include "engines/language.h"
#include "engines/mt/translator.h"

namespace parley::app {

int run_translate_text(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {{"from", "to", "glossary"}, {"help"}});
  if (!args) {
    print_error(args.status().message());
    return 2;
  }
  if (args->has("help")) {
    std::puts("usage: parley translate-text --from LANG --to LANG [--glossary FILE]\n\n"
              "Translates standard input line by line to standard output through the same\n"
              "translation path as live sessions (pivots, cache, glossary). Each output line\n"
              "is flushed as soon as it is ready, so it can run as a co-process.");
    return 0;
  }
  if (!args->positionals().empty()) {
    print_error("translate-text reads standard input; unexpected '" + args->positionals()[0] + "'");
    return 2;
  }
  auto from = engines::normalize_language(args->get_or("from", "en"));
  auto to = engines::normalize_language(args->get_or("to", ""));
  if (!from || !to) {
    print_error("give --from and --to as language codes, e.g. --from en --to fr");
    return 2;
  }
  std::shared_ptr<const engines::mt::Glossary> glossary;
  if (auto g = args->get("glossary")) {
    auto loaded = engines::mt::Glossary::load(*g);
    if (!loaded) {
      print_error(loaded.status().message());
      return 2;
    }
    glossary = std::make_shared<const engines::mt::Glossary>(std::move(*loaded));
  }
  EngineOptions eo;
  eo.need_speech_in = false;
  eo.need_speech_out = false;
  auto engines = load_engines(eo);
  if (!engines) {
    print_error(engines.status().message());
    return 1;
  }
  auto tr = engines::mt::Translator::open(*engines->router, *from, *to, glossary, engines->mt_cache);
  if (!tr) {
    print_error(tr.status().message());
    return 2;
  }
  std::string line;
  int n_failed = 0;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto out = (*tr)->translate(line);
    if (out) {
      std::fwrite(out->text.data(), 1, out->text.size(), stdout);
    } else {
      ++n_failed;
      print_error(out.status().message());
    }
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  return n_failed > 0 ? 1 : 0;
}

}  // namespace parley::app

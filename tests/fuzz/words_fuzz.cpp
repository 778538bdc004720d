// SPDX-License-Identifier: GPL-3.0-or-later
// A session's words from the API (any UTF-8 or not): the script and
// vocabulary tokeniser, names, the trigram model, and script following with
// recognised words taken from the same input. Invariants: every token's
// span lies inside the text, the shown text of a final is built only from
// the script and the recognised words, and the position stays in the script.
// The same bytes as a typed caption go through the caption spacing: no
// double space is left, and (outside French) only whitespace changes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/spacing.h"
#include "words/ngram.h"
#include "words/script.h"
#include "words/spoken.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::words;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // "script \x01 recognised words"
  const size_t cut = in.find('\x01');
  const std::string script(in.substr(0, cut));
  const std::string heard(cut == std::string_view::npos ? "" : in.substr(cut + 1));
  for (const auto& t : spoken_tokens(script)) {
    if (t.begin > t.end || t.end > script.size() || t.word.empty()) std::abort();
  }
  (void)names_in(script);
  NgramBuilder b;
  for (const auto& s : spoken_sentences(script)) b.add_sentence(s);
  (void)b.arpa();
  ScriptFollower f{Script(script)};
  std::string words;
  for (const auto& t : spoken_tokens(heard)) words += (words.empty() ? "" : " ") + t.word;
  for (int round = 0; round < 2; ++round) {
    auto m = f.follow(words, heard);
    if (f.position() > f.script().tokens().size()) std::abort();
    if (m.any_from_script() && m.end_token > f.script().tokens().size()) std::abort();
    (void)m.text();
  }
  auto squeezed = [](std::string_view t) {
    std::string out;
    for (char c : t) {
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') out += c;
    }
    return out;
  };
  for (const char* lang : {"en", "fr"}) {
    const std::string tidy = parley::core::tidy_spacing(heard, lang);
    if (tidy.find("  ") != std::string::npos) std::abort();
    if (!tidy.empty() && (tidy.front() == ' ' || tidy.back() == ' ')) std::abort();
    if (std::string_view(lang) == "en" && squeezed(tidy) != squeezed(heard)) std::abort();
  }
  f.seek_sentence(f.script().n_sentences() / 2);
  f.append(heard.substr(0, 64));
  (void)f.follow(words, heard);
  return 0;
}

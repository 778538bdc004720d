// SPDX-License-Identifier: GPL-3.0-or-later
// Glossary files (--glossary): parse, then protect and restore a sentence.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engines/mt/glossary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using parley::engines::mt::Glossary;
  auto g = Glossary::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!g) return 0;
  const std::string_view sample(reinterpret_cast<const char*>(data), size < 200 ? size : 200);
  auto p = g->protect(sample, "en", "es");
  size_t n_missing = 0;
  (void)Glossary::restore(p.text, p, &n_missing);
  if (n_missing != 0) std::abort();  // every placeholder of an untranslated text comes back
  return 0;
}

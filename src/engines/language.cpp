// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/language.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace parley::engines {
namespace {

struct LangRow {
  std::string_view iso1;
  std::string_view iso3;   // ISO 639-2/T or 639-3 as Apertium uses it
  std::string_view alt3;   // ISO 639-2/B where it differs, else empty
  std::string_view name;
};

// The languages that have an Apertium pair or an espeak-ng voice in Debian
// and a two-letter code. Others pass through as their own code.
constexpr std::array kLanguages = {
    LangRow{"af", "afr", "", "Afrikaans"},   LangRow{"an", "arg", "", "Aragonese"},
    LangRow{"ar", "ara", "", "Arabic"},      LangRow{"ast", "ast", "", "Asturian"},
    LangRow{"be", "bel", "", "Belarusian"},  LangRow{"bg", "bul", "", "Bulgarian"},
    LangRow{"br", "bre", "", "Breton"},      LangRow{"bs", "bos", "", "Bosnian"},
    LangRow{"ca", "cat", "", "Catalan"},     LangRow{"cs", "ces", "cze", "Czech"},
    LangRow{"cy", "cym", "wel", "Welsh"},    LangRow{"da", "dan", "", "Danish"},
    LangRow{"de", "deu", "ger", "German"},   LangRow{"el", "ell", "gre", "Greek"},
    LangRow{"en", "eng", "", "English"},     LangRow{"eo", "epo", "", "Esperanto"},
    LangRow{"es", "spa", "", "Spanish"},     LangRow{"et", "est", "", "Estonian"},
    LangRow{"eu", "eus", "baq", "Basque"},   LangRow{"fa", "fas", "per", "Persian"},
    LangRow{"fi", "fin", "", "Finnish"},     LangRow{"fr", "fra", "fre", "French"},
    LangRow{"ga", "gle", "", "Irish"},       LangRow{"gl", "glg", "", "Galician"},
    LangRow{"he", "heb", "", "Hebrew"},      LangRow{"hi", "hin", "", "Hindi"},
    LangRow{"hr", "hrv", "", "Croatian"},    LangRow{"hu", "hun", "", "Hungarian"},
    LangRow{"id", "ind", "", "Indonesian"},  LangRow{"is", "isl", "ice", "Icelandic"},
    LangRow{"it", "ita", "", "Italian"},     LangRow{"ja", "jpn", "", "Japanese"},
    LangRow{"kk", "kaz", "", "Kazakh"},      LangRow{"ko", "kor", "", "Korean"},
    LangRow{"lt", "lit", "", "Lithuanian"},  LangRow{"lv", "lav", "", "Latvian"},
    LangRow{"mk", "mkd", "mac", "Macedonian"}, LangRow{"ms", "msa", "may", "Malay"},
    LangRow{"mt", "mlt", "", "Maltese"},     LangRow{"nb", "nob", "", "Norwegian Bokmål"},
    LangRow{"nl", "nld", "dut", "Dutch"},    LangRow{"nn", "nno", "", "Norwegian Nynorsk"},
    LangRow{"oc", "oci", "", "Occitan"},     LangRow{"pl", "pol", "", "Polish"},
    LangRow{"pt", "por", "", "Portuguese"},  LangRow{"ro", "ron", "rum", "Romanian"},
    LangRow{"ru", "rus", "", "Russian"},     LangRow{"sc", "srd", "", "Sardinian"},
    LangRow{"sk", "slk", "slo", "Slovak"},   LangRow{"sl", "slv", "", "Slovenian"},
    LangRow{"sq", "sqi", "alb", "Albanian"}, LangRow{"sr", "srp", "", "Serbian"},
    LangRow{"sv", "swe", "", "Swedish"},     LangRow{"sw", "swa", "", "Swahili"},
    LangRow{"ta", "tam", "", "Tamil"},       LangRow{"tr", "tur", "", "Turkish"},
    LangRow{"uk", "ukr", "", "Ukrainian"},   LangRow{"ur", "urd", "", "Urdu"},
    LangRow{"vi", "vie", "", "Vietnamese"},  LangRow{"zh", "zho", "chi", "Chinese"},
};

const LangRow* find_row(std::string_view primary) {
  for (const auto& row : kLanguages) {
    if (row.iso1 == primary || row.iso3 == primary || (!row.alt3.empty() && row.alt3 == primary)) {
      return &row;
    }
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> normalize_language(std::string_view code) {
  if (code.empty() || code.size() > 16) return std::nullopt;
  std::string primary, region;
  size_t sep = code.find_first_of("-_");
  std::string_view p = code.substr(0, sep);
  std::string_view r = sep == std::string_view::npos ? std::string_view{} : code.substr(sep + 1);
  if (p.size() < 2 || p.size() > 3) return std::nullopt;
  for (char c : p) {
    if (!std::isalpha(static_cast<unsigned char>(c))) return std::nullopt;
    primary.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (sep != std::string_view::npos) {
    if (r.empty() || r.size() > 8) return std::nullopt;
    for (char c : r) {
      if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
      region.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  if (const LangRow* row = find_row(primary)) primary = std::string(row->iso1);
  return region.empty() ? primary : primary + "-" + region;
}

std::string language_name(std::string_view code) {
  std::string_view primary = code.substr(0, code.find('-'));
  if (const LangRow* row = find_row(primary)) {
    std::string name(row->name);
    if (primary.size() != code.size()) name += " (" + std::string(code.substr(primary.size() + 1)) + ")";
    return name;
  }
  return std::string(code);
}

}  // namespace parley::engines

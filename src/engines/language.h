// SPDX-License-Identifier: GPL-3.0-or-later
// Language codes. parley speaks BCP-47-style codes at every interface ("en",
// "es", "pt-BR"); engines that name languages otherwise (Apertium's "eng",
// "spa", "es_BR") convert at their own edge with these helpers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::engines {

// Lower-case primary subtag with an optional upper-case region: "pt-BR".
// Accepts ISO 639-1 and 639-2/3 codes, '_' or '-' separators, any case.
// Returns nullopt for anything that is not a plausible language code.
std::optional<std::string> normalize_language(std::string_view code);

// English name for a primary code ("es" → "Spanish"); the code itself if unknown.
std::string language_name(std::string_view code);

}  // namespace parley::engines

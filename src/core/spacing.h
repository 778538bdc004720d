// SPDX-License-Identifier: GPL-3.0-or-later
// Spacing of text shown to people: captions, transcripts and exports.
// Engines leave runs of spaces (Apertium keeps the input's) and spaces
// before punctuation ("Y no ."); a reader sees both as mistakes.
#pragma once

#include <string>
#include <string_view>

namespace parley::core {

// `text` with runs of whitespace made one space, no space at either end, no
// space before . , ) ] } … or a closing quote, none after an opening
// bracket, quote, ¿ or ¡. Before ; : ! ? and after « / before » the space
// is removed, except in French, whose typography puts one there: a narrow
// no-break space (U+202F), added where it is missing, so the mark never
// starts a line (a colon only where it ends a clause: "10:30" keeps its own).
// UTF-8 in, UTF-8 out; bytes that are not ASCII spacing pass unchanged.
std::string tidy_spacing(std::string_view text, std::string_view language);

}  // namespace parley::core

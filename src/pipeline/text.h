// SPDX-License-Identifier: GPL-3.0-or-later
// Turns a recogniser's lower-case, unpunctuated words into a sentence a
// caption can show and a translator can parse: capital first letter, "I"
// capitalised, a closing full stop.
#pragma once

#include <string>
#include <string_view>

namespace parley::pipeline {

std::string to_sentence(std::string_view words, std::string_view language);

}  // namespace parley::pipeline

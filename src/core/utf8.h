// SPDX-License-Identifier: GPL-3.0-or-later
// Small UTF-8 helpers for terminal output.
#pragma once

#include <cstddef>
#include <string>

namespace parley::core {

// Code points in a UTF-8 string (continuation bytes are not counted).
inline size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// Pads with spaces to a width in characters, not bytes ("→" is three bytes).
inline std::string pad_to_width(const std::string& s, size_t width) {
  const size_t chars = utf8_length(s);
  return s + std::string(chars < width ? width - chars : 0, ' ');
}

}  // namespace parley::core

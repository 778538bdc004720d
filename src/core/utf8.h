// SPDX-License-Identifier: GPL-3.0-or-later
// Small UTF-8 helpers: terminal output, and text from untrusted clients.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

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

// Decodes the code point at s[i] (well-formed UTF-8 only: no overlong forms,
// no surrogates, at most U+10FFFF) and its length; 0 bytes when malformed.
inline std::pair<uint32_t, size_t> utf8_decode(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return {c, 1};
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (c >= 0xF5) n = 0;
  if (n == 0 || i + n > s.size()) return {0, 0};
  uint32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  const uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0, 0};
  return {cp, n};
}

// True when `s` is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto [cp, n] = utf8_decode(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Unicode noncharacters (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF): never text;
// some engines use them internally as markers.
inline bool is_noncharacter(uint32_t cp) {
  return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

// Well-formed text for an engine: malformed bytes and noncharacters become
// U+FFFD's plain stand-in, a space.
inline std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto [cp, n] = utf8_decode(s, i);
    if (n == 0) {
      out += ' ';
      ++i;
      continue;
    }
    if (is_noncharacter(cp)) {
      out += ' ';
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace parley::core

// SPDX-License-Identifier: GPL-3.0-or-later
// multipart/form-data bodies (uploads to /v1/audio/transcriptions and form
// posts to /translate): the first line of the input is the Content-Type
// header, the rest the body. Invariants: every part found lies inside the
// body, has a name, and there are never more parts than allowed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/http/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  if (eol == std::string_view::npos) return 0;
  const std::string_view content_type = input.substr(0, eol);
  const std::string_view body = input.substr(eol + 1);
  constexpr size_t kMaxParts = 8;
  auto parts = parley::transport::parse_multipart(content_type, body, kMaxParts);
  if (!parts) {
    if (parts.status().message().empty()) std::abort();  // every refusal says why
    return 0;
  }
  if (parts->size() > kMaxParts) std::abort();
  for (const auto& p : *parts) {
    if (p.name.empty()) std::abort();
    if (p.body.data() < body.data() || p.body.data() + p.body.size() > body.data() + body.size()) std::abort();
    if (parley::transport::find_part(*parts, p.name) == nullptr) std::abort();
  }
  return 0;
}

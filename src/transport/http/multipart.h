// SPDX-License-Identifier: GPL-3.0-or-later
// multipart/form-data request bodies (RFC 7578), as OpenAI-style clients
// upload audio. Parsing only: parts are views into the body, which must
// outlive them. Untrusted input; fuzzed (tests/fuzz/multipart_fuzz.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace parley::transport {

struct FormPart {
  std::string name;          // the form field
  std::string filename;      // empty for plain fields
  std::string content_type;  // the part's own Content-Type, if given
  std::string_view body;
};

// Splits `body` by the boundary named in `content_type` (the request's
// Content-Type header). invalid_argument, saying what is wrong, for another
// content type, a missing boundary, a part without a name or a body that
// does not close; at most `max_parts` parts.
core::Result<std::vector<FormPart>> parse_multipart(std::string_view content_type, std::string_view body,
                                                    size_t max_parts = 32);

// The first part named `name`, or null.
const FormPart* find_part(const std::vector<FormPart>& parts, std::string_view name);

}  // namespace parley::transport

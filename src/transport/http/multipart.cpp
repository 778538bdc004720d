// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/multipart.h"

#include <boost/beast/core/string.hpp>
#include <optional>

namespace parley::transport {
namespace {

constexpr size_t kMaxPartHeaderBytes = 8192;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

using boost::beast::iequals;

// The value of parameter `key` in "type; a=1; key="x"" (quotes removed,
// backslash escapes honoured); nullopt when absent.
std::optional<std::string> parameter(std::string_view header, std::string_view key) {
  size_t pos = header.find(';');
  while (pos != std::string_view::npos) {
    std::string_view rest = header.substr(pos + 1);
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view k = trim(rest.substr(0, eq));
    rest = trim(rest.substr(eq + 1));
    std::string value;
    size_t used = 0;
    if (!rest.empty() && rest.front() == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i]);
      }
      if (i >= rest.size()) return std::nullopt;  // unterminated quote
      used = i + 1;
    } else {
      used = rest.find(';');
      if (used == std::string_view::npos) used = rest.size();
      value = std::string(trim(rest.substr(0, used)));
    }
    if (iequals(k, key)) return value;
    auto next = rest.substr(used).find(';');
    if (next == std::string_view::npos) return std::nullopt;
    pos = header.size() - rest.substr(used).size() + next;
  }
  return std::nullopt;
}

}  // namespace

core::Result<std::vector<FormPart>> parse_multipart(std::string_view content_type, std::string_view body,
                                                    size_t max_parts) {
  const std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  if (!iequals(type, "multipart/form-data")) {
    return core::invalid_argument("expected a multipart/form-data body, got Content-Type '" +
                                  std::string(content_type.substr(0, 80)) + "'");
  }
  auto boundary = parameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) {
    return core::invalid_argument("multipart/form-data without a usable boundary");
  }
  const std::string delimiter = "--" + *boundary;
  const std::string next_delimiter = "\r\n" + delimiter;

  // The first delimiter may follow a preamble, or open the body.
  size_t pos = body.rfind(delimiter, 0) == 0 ? 0 : body.find(next_delimiter);
  if (pos == std::string_view::npos) return core::invalid_argument("multipart body has no part");
  pos += pos == 0 ? delimiter.size() : next_delimiter.size();

  std::vector<FormPart> parts;
  for (;;) {
    std::string_view rest = body.substr(pos);
    if (rest.rfind("--", 0) == 0) break;  // the closing delimiter
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);  // transport padding
    if (rest.rfind("\r\n", 0) != 0) return core::invalid_argument("multipart delimiter not followed by a line break");
    rest.remove_prefix(2);
    if (rest.rfind("\r\n", 0) == 0) {
      return core::invalid_argument("multipart part without headers: each part needs Content-Disposition: form-data; name=...");
    }
    const size_t header_end = rest.find("\r\n\r\n");
    if (header_end == std::string_view::npos || header_end > kMaxPartHeaderBytes) {
      return core::invalid_argument("multipart part headers do not end (or exceed 8 KiB)");
    }
    FormPart part;
    std::string_view headers = rest.substr(0, header_end);
    bool has_disposition = false;
    while (!headers.empty()) {
      size_t eol = headers.find("\r\n");
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return core::invalid_argument("malformed multipart part header");
      std::string_view field = trim(line.substr(0, colon));
      std::string_view value = trim(line.substr(colon + 1));
      if (iequals(field, "content-disposition")) {
        if (!iequals(trim(value.substr(0, value.find(';'))), "form-data")) {
          return core::invalid_argument("multipart part is not form-data");
        }
        has_disposition = true;
        part.name = parameter(value, "name").value_or("");
        part.filename = parameter(value, "filename").value_or("");
      } else if (iequals(field, "content-type")) {
        part.content_type = std::string(value);
      }
    }
    if (!has_disposition || part.name.empty()) {
      return core::invalid_argument("multipart part without Content-Disposition: form-data; name=...");
    }
    rest.remove_prefix(header_end + 4);
    const size_t end = rest.find(next_delimiter);
    if (end == std::string_view::npos) return core::invalid_argument("multipart body does not close");
    part.body = rest.substr(0, end);
    if (parts.size() == max_parts) {
      return core::invalid_argument("more than " + std::to_string(max_parts) + " multipart parts");
    }
    parts.push_back(std::move(part));
    pos = static_cast<size_t>(rest.data() - body.data()) + end + next_delimiter.size();
  }
  return parts;
}

const FormPart* find_part(const std::vector<FormPart>& parts, std::string_view name) {
  for (const auto& p : parts) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace parley::transport

// SPDX-License-Identifier: GPL-3.0-or-later
// HTTP requests parsed into native types at the edge: the target (path and
// query), the bearer token and the body of POST /api/sessions. No state and
// no I/O; every function takes any bytes and never throws.
#pragma once

#include <boost/beast/http.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "session/session.h"

namespace parley::transport {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Splits "/a/b?x=1&y=2" into the decoded path and a query lookup.
struct Target {
  std::string path;
  std::string query(const std::string& key, const std::string& fallback = "") const;
  std::string raw_query;
};
Target parse_target(std::string_view target);
// "/a/b/" → {"a", "b"}.
std::vector<std::string> split_path(const std::string& path);
// %xx and '+' decoded; a malformed escape is kept as it is.
std::string url_decode(std::string_view s);
// The token of "Authorization: Bearer <token>", if any.
std::optional<std::string> bearer(const Request& req);

// The JSON body of POST /api/sessions: name, sourceLanguage, avatar,
// targets (at most 32). invalid_argument saying what is wrong. Languages
// are checked later, against the engines.
core::Result<session::SessionSpec> parse_session_spec(std::string_view body);

// The body of PUT /api/sessions/{code}/words: vocabulary, script and
// glossary texts (each optional: a missing one is empty), each at most
// words::kMaxTextBytes. invalid_argument saying what is wrong.
struct WordsBody {
  std::string vocabulary;
  std::string script;
  std::string glossary;  // tab-separated term pairs (engines/mt/glossary.h)
};
core::Result<WordsBody> parse_words_body(std::string_view body);
// The body of POST /api/sessions/{code}/script: {"sentence": N} moves the
// speaker's place; {"append": TEXT} adds a section after the script.
struct ScriptBody {
  std::optional<size_t> sentence;
  std::optional<std::string> append;
};
core::Result<ScriptBody> parse_script_body(std::string_view body);
// Requests with a larger body than the rest (a vocabulary and a script):
// up to kWordsBodyBytes.
bool is_words_target(const std::string& path);
inline constexpr size_t kWordsBodyBytes = 1024 * 1024;

}  // namespace parley::transport

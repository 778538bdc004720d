// SPDX-License-Identifier: GPL-3.0-or-later
// Error values for hot paths and engine boundaries. Exceptions are reserved for
// start-up and configuration; everything that can fail per frame, per utterance
// or per request returns a Status or a Result<T>.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace parley::core {

// Broad error classes. The transport layer maps each to one HTTP/WebSocket code
// in one place; engines only pick the class.
enum class Code {
  ok,
  invalid_argument,  // the caller's input is wrong: bad file, bad language
  not_found,         // a named thing does not exist: language pair, voice, file
  unavailable,       // a dependency is missing or died: engine process, package
  resource_exhausted,  // a bound was hit: queue full, too many sessions
  failed_precondition,  // not allowed in the current state: pausing an ended session
  permission_denied,    // the caller lacks the right token
  unauthenticated,      // the caller sent no credentials
  internal,          // a bug or an engine failure we cannot classify
};

const char* code_name(Code code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  bool is_ok() const noexcept { return code_ == Code::ok; }
  explicit operator bool() const noexcept { return is_ok(); }
  Code code() const noexcept { return code_; }
  // A sentence a person can act on, without a trailing newline.
  const std::string& message() const noexcept { return message_; }
  // For resource_exhausted and unavailable: when trying again makes sense,
  // in seconds (0: not said). Transports send it as Retry-After.
  int retry_after_s() const noexcept { return retry_after_s_; }
  Status&& with_retry_after(int seconds) && {
    retry_after_s_ = seconds;
    return std::move(*this);
  }

 private:
  Code code_ = Code::ok;
  std::string message_;
  int retry_after_s_ = 0;
};

inline Status invalid_argument(std::string m) { return {Code::invalid_argument, std::move(m)}; }
inline Status not_found(std::string m) { return {Code::not_found, std::move(m)}; }
inline Status unavailable(std::string m) { return {Code::unavailable, std::move(m)}; }
inline Status resource_exhausted(std::string m) { return {Code::resource_exhausted, std::move(m)}; }
inline Status failed_precondition(std::string m) { return {Code::failed_precondition, std::move(m)}; }
inline Status permission_denied(std::string m) { return {Code::permission_denied, std::move(m)}; }
inline Status unauthenticated(std::string m) { return {Code::unauthenticated, std::move(m)}; }
inline Status internal_error(std::string m) { return {Code::internal, std::move(m)}; }

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}     // NOLINT(google-explicit-constructor)

  bool is_ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return is_ok(); }

  // Precondition: is_ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  // The error; an ok Status when a value is held.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace parley::core

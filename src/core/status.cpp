// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/status.h"

namespace parley::core {

const char* code_name(Code code) noexcept {
  switch (code) {
    case Code::ok: return "ok";
    case Code::invalid_argument: return "invalid_argument";
    case Code::not_found: return "not_found";
    case Code::unavailable: return "unavailable";
    case Code::resource_exhausted: return "resource_exhausted";
    case Code::failed_precondition: return "failed_precondition";
    case Code::permission_denied: return "permission_denied";
    case Code::unauthenticated: return "unauthenticated";
    case Code::internal: return "internal";
  }
  return "unknown";
}

}  // namespace parley::core

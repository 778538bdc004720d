// SPDX-License-Identifier: GPL-3.0-or-later
// Translation by a LibreTranslate-compatible server (LibreTranslate itself,
// or another parley's engine API): POST /translate, GET /languages. Calls go
// through a remote::Endpoint (own workers, deadline, retries, circuit
// breaker); a failed call is translated by the fallback model the router
// names, and counted.
#pragma once

#include <memory>

#include "core/status.h"
#include "engines/mt/mt.h"
#include "engines/registry.h"

namespace parley::engines::mt {

// Settings: url (required), key-env, timeout-ms (default 3000), retries,
// breaker-failures, breaker-cooldown-ms, workers, and languages= (codes
// joined by '+'), which also lets parley start while the server is down:
// every direction between the listed languages is then assumed. Without
// it, the server's GET /languages must answer at start.
core::Result<std::shared_ptr<const Model>> make_libretranslate_mt(const Settings& settings);

}  // namespace parley::engines::mt

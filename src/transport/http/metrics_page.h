// SPDX-License-Identifier: GPL-3.0-or-later
// GET /metrics: the process in Prometheus text format (version 0.0.4) —
// stage latency histograms, sessions, listeners per language, connection
// counters, drops and evictions, engine errors, CPU, memory and open files.
// See docs/metrics.md for what each series means.
#pragma once

#include <string>

#include "transport/http/api.h"

namespace parley::transport {

std::string render_metrics(const ApiContext& ctx);

}  // namespace parley::transport

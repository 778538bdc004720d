// SPDX-License-Identifier: GPL-3.0-or-later
// parley-load conversation: many two-person conversations at once, each
// direction measured (docs/benchmarks.md, "Conversations").
#pragma once

namespace parley::load {

// argv[1] is "conversation". Returns the process's exit status.
int run_conversations(int argc, char** argv);

}  // namespace parley::load

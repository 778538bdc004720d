// SPDX-License-Identifier: GPL-3.0-or-later
// The default store: one SQLite file in WAL mode with synchronous=NORMAL, so
// every committed utterance survives the process being killed.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace parley::store {

// Opens or creates the database (":memory:" for tests). unavailable with the
// path and SQLite's reason when it cannot.
core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace parley::store

// SPDX-License-Identifier: GPL-3.0-or-later
// The store several nodes share: PostgreSQL through libpq. Two connections
// (writes, reads), each used by one call at a time; versioned migrations
// (schema_migrations) are applied at open under an advisory lock. A lost
// connection is made again on the next call; until then calls answer
// unavailable with a retry hint, which AsyncStore turns into a bounded,
// counted wait (writes) and 503 (reads).
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace parley::store {

// Whether `db` (serve --db) names a PostgreSQL database
// (postgresql://user@host:port/dbname) rather than a SQLite file.
bool is_postgres_address(const std::string& db);

// Connects and migrates the schema; unavailable, saying what to check, when
// it cannot.
core::Result<std::unique_ptr<Store>> open_postgres_store(const std::string& conninfo);

}  // namespace parley::store

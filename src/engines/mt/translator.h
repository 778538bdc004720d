// SPDX-License-Identifier: GPL-3.0-or-later
// What the pipeline calls to translate: a route (direct or pivoted) with a
// glossary and a shared, bounded cache in front of it. Engine-independent.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/lru_cache.h"
#include "core/status.h"
#include "engines/mt/glossary.h"
#include "engines/mt/router.h"

namespace parley::engines::mt {

// Shared by every translator in the process. Thread-safe.
class TranslationCache {
 public:
  explicit TranslationCache(size_t capacity) : lru_(capacity) {}
  std::optional<std::string> get(const std::string& key);
  void put(const std::string& key, std::string value);
  uint64_t n_hits() const;
  uint64_t n_misses() const;

 private:
  mutable std::mutex mu_;
  core::LruCache<std::string, std::string> lru_;
};

struct Translation {
  std::string text;
  bool cache_hit = false;
  size_t n_glossary_terms = 0;
  double mt_ms = 0;  // engine time; 0 on a cache hit
};

// One session's translator for one direction. Driven by one thread at a time.
class Translator {
 public:
  // `glossary` and `cache` may be null.
  static core::Result<std::unique_ptr<Translator>> open(const Router& router,
                                                        const std::string& from,
                                                        const std::string& to,
                                                        std::shared_ptr<const Glossary> glossary,
                                                        std::shared_ptr<TranslationCache> cache);

  core::Result<Translation> translate(std::string_view text);
  const Route& route() const { return route_; }

 private:
  Translator(Route route, std::unique_ptr<Stream> stream, std::shared_ptr<const Glossary> g,
             std::shared_ptr<TranslationCache> c);

  Route route_;
  std::string route_key_;
  std::unique_ptr<Stream> stream_;
  std::shared_ptr<const Glossary> glossary_;
  std::shared_ptr<TranslationCache> cache_;
};

}  // namespace parley::engines::mt

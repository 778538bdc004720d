// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/mt/translator.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/spacing.h"

namespace parley::engines::mt {

std::optional<std::string> TranslationCache::get(const std::string& key) {
  std::lock_guard lock(mu_);
  return lru_.get(key);
}
void TranslationCache::put(const std::string& key, std::string value) {
  std::lock_guard lock(mu_);
  lru_.put(key, std::move(value));
}
uint64_t TranslationCache::n_hits() const {
  std::lock_guard lock(mu_);
  return lru_.n_hits();
}
uint64_t TranslationCache::n_misses() const {
  std::lock_guard lock(mu_);
  return lru_.n_misses();
}

core::Result<std::unique_ptr<Translator>> Translator::open(const Router& router,
                                                           const std::string& from,
                                                           const std::string& to,
                                                           std::shared_ptr<const Glossary> glossary,
                                                           std::shared_ptr<TranslationCache> cache) {
  auto route = router.route(from, to);
  if (!route) return route.status();
  auto stream = router.open(*route);
  if (!stream) return stream.status();
  if (auto st = (*stream)->prepare(); !st) return st;
  return std::unique_ptr<Translator>(new Translator(std::move(*route), std::move(*stream),
                                                    std::move(glossary), std::move(cache)));
}

Translator::Translator(Route route, std::unique_ptr<Stream> stream,
                       std::shared_ptr<const Glossary> g, std::shared_ptr<TranslationCache> c)
    : route_(std::move(route)),
      route_key_(route_.describe() + '\x1f'),
      stream_(std::move(stream)),
      glossary_(std::move(g)),
      cache_(std::move(c)) {}

core::Result<Translation> Translator::translate(std::string_view text) {
  Translation t;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return t;
  const auto& from = route_.hops.front().direction.from;
  const auto& to = route_.hops.back().direction.to;
  Protected p = glossary_ ? glossary_->protect(text, from, to) : Protected{std::string(text), {}};
  t.n_glossary_terms = p.targets.size();

  // Cached by the protected text: the glossary's terms are put back per call,
  // so sessions with different glossaries share entries safely.
  std::string raw;
  std::string key = route_key_ + p.text;
  if (auto hit = cache_ ? cache_->get(key) : std::nullopt) {
    raw = std::move(*hit);
    t.cache_hit = true;
  } else {
    int64_t t0 = core::now_us();
    auto out = stream_->translate(p.text);
    if (!out) return out.status();
    t.mt_ms = core::elapsed_ms(t0, core::now_us());
    raw = std::move(*out);
    // An empty answer to words is an engine's failure, not a translation to keep.
    const bool words = p.text.find_first_not_of(" \t\r\n") != std::string::npos;
    if (cache_ && (!raw.empty() || !words)) cache_->put(key, raw);
  }
  size_t missing = 0;
  // Engines keep the input's runs of spaces and may set off punctuation.
  t.text = core::tidy_spacing(Glossary::restore(raw, p, &missing), to);
  if (missing > 0) {
    core::log_warn("mt", route_.describe() + " lost " + std::to_string(missing) +
                             " glossary placeholder(s)");
  }
  return t;
}

}  // namespace parley::engines::mt

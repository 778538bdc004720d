// SPDX-License-Identifier: GPL-3.0-or-later
#include "fanout/hub.h"

#include <algorithm>

namespace parley::fanout {

size_t Hub::add(const std::string& language, std::shared_ptr<Subscriber> s) {
  std::lock_guard lock(mu_);
  auto& cur = by_language_[language];
  auto next = std::make_shared<List>(cur ? *cur : List{});
  next->push_back(std::move(s));
  cur = next;
  return next->size();
}

size_t Hub::remove(const std::string& language, const Subscriber* s) {
  std::lock_guard lock(mu_);
  auto it = by_language_.find(language);
  if (it == by_language_.end()) return 0;
  auto next = std::make_shared<List>(*it->second);
  next->erase(std::remove_if(next->begin(), next->end(), [&](const auto& p) { return p.get() == s; }),
              next->end());
  size_t n = next->size();
  if (n == 0) {
    by_language_.erase(it);
  } else {
    it->second = next;
  }
  return n;
}

std::shared_ptr<const Hub::List> Hub::snapshot(const std::string& language) const {
  std::lock_guard lock(mu_);
  auto it = by_language_.find(language);
  return it == by_language_.end() ? nullptr : it->second;
}

void Hub::broadcast(const std::string& language, const MessagePtr& m) const {
  auto list = snapshot(language);
  if (!list) return;
  for (const auto& s : *list) s->deliver(m);
}

void Hub::broadcast_all(const MessagePtr& m) const {
  std::vector<std::shared_ptr<const List>> lists;
  {
    std::lock_guard lock(mu_);
    for (const auto& [lang, l] : by_language_) lists.push_back(l);
  }
  for (const auto& l : lists) {
    for (const auto& s : *l) s->deliver(m);
  }
}

void Hub::close_all(const std::string& reason) const {
  std::vector<std::shared_ptr<const List>> lists;
  {
    std::lock_guard lock(mu_);
    for (const auto& [lang, l] : by_language_) lists.push_back(l);
  }
  for (const auto& l : lists) {
    for (const auto& s : *l) s->close(reason);
  }
}

void Hub::clear() {
  std::lock_guard lock(mu_);
  by_language_.clear();
}

size_t Hub::count(const std::string& language) const {
  auto l = snapshot(language);
  return l ? l->size() : 0;
}

std::map<std::string, size_t> Hub::counts() const {
  std::lock_guard lock(mu_);
  std::map<std::string, size_t> out;
  for (const auto& [lang, l] : by_language_) out[lang] = l->size();
  return out;
}

size_t Hub::total() const {
  size_t n = 0;
  for (const auto& [lang, c] : counts()) n += c;
  return n;
}

}  // namespace parley::fanout

// SPDX-License-Identifier: GPL-3.0-or-later
// Subscribers of one session grouped by language. A broadcast takes the
// language's current subscriber list (an immutable snapshot, replaced on
// join and leave) and hands the one shared message to each: no per-listener
// serialisation, no lock held while delivering.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fanout/message.h"

namespace parley::fanout {

class Hub {
 public:
  using List = std::vector<std::shared_ptr<Subscriber>>;

  // Thread-safe. Returns the number of subscribers of that language after the change.
  size_t add(const std::string& language, std::shared_ptr<Subscriber> s);
  size_t remove(const std::string& language, const Subscriber* s);

  void broadcast(const std::string& language, const MessagePtr& m) const;
  void broadcast_all(const MessagePtr& m) const;
  void close_all(const std::string& reason) const;
  // Forgets every subscriber (breaks ownership cycles at the end of a session).
  void clear();

  size_t count(const std::string& language) const;
  std::map<std::string, size_t> counts() const;
  size_t total() const;

 private:
  std::shared_ptr<const List> snapshot(const std::string& language) const;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const List>> by_language_;
};

}  // namespace parley::fanout

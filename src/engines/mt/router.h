// SPDX-License-Identifier: GPL-3.0-or-later
// Routes a translation request to the engines that can serve it: a direct
// direction when one is installed, else the shortest chain through pivot
// languages (en→fr through es). Works over any set of mt::Model engines.
// Immutable after construction; thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engines/mt/mt.h"

namespace parley::engines::mt {

struct Hop {
  Direction direction;
  const Model* model = nullptr;  // owned by the Router
};

struct Route {
  std::vector<Hop> hops;  // one hop: direct; more: pivoted
  bool pivoted() const { return hops.size() > 1; }
  // "en→es→fr"
  std::string describe() const;
  // The engine of each hop, by Model::name().
  std::vector<std::string> engines() const;
};

class Router {
 public:
  // Earlier models win for a direction more than one provides. Pivots are
  // tried in `pivot_preference` order when several shortest routes exist.
  Router(std::vector<std::shared_ptr<const Model>> models,
         std::vector<std::string> pivot_preference = {"es", "ca", "en", "fr"},
         size_t max_hops = 3);

  // not_found, naming what is installed, when no chain exists.
  core::Result<Route> route(const std::string& from, const std::string& to) const;

  // Every target reachable from `from`, each with its route, sorted by code.
  std::vector<std::pair<std::string, Route>> targets_from(const std::string& from) const;
  // Every language that is the source of at least one direction.
  std::vector<std::string> sources() const;
  // The models' names in priority order, joined by ", ".
  std::string describe_engines() const;

  // Opens one engine stream per hop: the stream translates along the route.
  core::Result<std::unique_ptr<Stream>> open(const Route& route) const;

 private:
  // For every language reachable from `from`: the last hop of its shortest route.
  std::map<std::string, const Hop*> shortest_paths(const std::string& from) const;
  static Route build_route(const std::map<std::string, const Hop*>& came_by,
                           const std::string& from, const std::string& to);

  std::vector<std::shared_ptr<const Model>> models_;
  std::vector<Hop> edges_;
  std::vector<std::string> pivots_;
  size_t max_hops_;
};

}  // namespace parley::engines::mt

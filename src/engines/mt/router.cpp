// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/mt/router.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

namespace parley::engines::mt {
namespace {

// Translates through each hop's stream in turn.
class ChainStream final : public Stream {
 public:
  explicit ChainStream(std::vector<std::unique_ptr<Stream>> hops) : hops_(std::move(hops)) {}
  core::Result<std::string> translate(std::string_view text) override {
    std::string current(text);
    for (auto& hop : hops_) {
      auto next = hop->translate(current);
      if (!next) return next.status();
      current = std::move(*next);
    }
    return current;
  }
  core::Status prepare() override {
    for (auto& hop : hops_) {
      if (auto st = hop->prepare(); !st) return st;
    }
    return {};
  }

 private:
  std::vector<std::unique_ptr<Stream>> hops_;
};

}  // namespace

std::string Router::describe_engines() const {
  std::string out;
  for (const auto& m : models_) out += (out.empty() ? "" : ", ") + m->name();
  return out;
}

std::vector<std::string> Route::engines() const {
  std::vector<std::string> out;
  for (const auto& h : hops) out.push_back(h.model == nullptr ? std::string() : h.model->name());
  return out;
}

std::string Route::describe() const {
  if (hops.empty()) return "";
  std::string s = hops.front().direction.from;
  for (const auto& h : hops) s += "→" + h.direction.to;
  return s;
}

Router::Router(std::vector<std::shared_ptr<const Model>> models,
               std::vector<std::string> pivot_preference, size_t max_hops)
    : models_(std::move(models)), pivots_(std::move(pivot_preference)), max_hops_(max_hops) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& m : models_) {
    for (const auto& d : m->directions()) {
      if (seen.insert({d.from, d.to}).second) edges_.push_back({d, m.get()});
    }
  }
}

std::map<std::string, const Hop*> Router::shortest_paths(const std::string& from) const {
  // Breadth-first search; neighbours in pivot-preference order so that, among
  // equally short routes, the preferred pivot wins.
  auto rank = [&](const std::string& lang) {
    auto it = std::find(pivots_.begin(), pivots_.end(), lang);
    return std::pair(static_cast<size_t>(it - pivots_.begin()), lang);
  };
  std::map<std::string, std::vector<const Hop*>> out_edges;
  for (const auto& e : edges_) out_edges[e.direction.from].push_back(&e);
  for (auto& [lang, list] : out_edges) {
    std::sort(list.begin(), list.end(), [&](const Hop* a, const Hop* b) {
      return rank(a->direction.to) < rank(b->direction.to);
    });
  }
  std::map<std::string, const Hop*> came_by;
  std::map<std::string, size_t> depth{{from, 0}};
  std::deque<std::string> frontier{from};
  while (!frontier.empty()) {
    std::string lang = frontier.front();
    frontier.pop_front();
    if (depth[lang] >= max_hops_) continue;
    for (const Hop* e : out_edges[lang]) {
      const std::string& next = e->direction.to;
      if (depth.count(next) != 0) continue;
      depth[next] = depth[lang] + 1;
      came_by[next] = e;
      frontier.push_back(next);
    }
  }
  return came_by;
}

Route Router::build_route(const std::map<std::string, const Hop*>& came_by,
                          const std::string& from, const std::string& to) {
  Route r;
  for (std::string lang = to; lang != from;) {
    const Hop* e = came_by.at(lang);
    r.hops.insert(r.hops.begin(), *e);
    lang = e->direction.from;
  }
  return r;
}

core::Result<Route> Router::route(const std::string& from, const std::string& to) const {
  if (from == to) return core::invalid_argument("source and target are both '" + from + "'");
  auto came_by = shortest_paths(from);
  if (came_by.count(to) == 0) {
    std::string have;
    for (const auto& [t, hop] : came_by) have += (have.empty() ? "" : ", ") + t;
    return core::not_found("no translation from '" + from + "' to '" + to + "' is installed" +
                           (have.empty() ? " (nothing translates from '" + from + "')"
                                         : " (from '" + from + "': " + have + ")") +
                           "; install an Apertium pair package for it");
  }
  return build_route(came_by, from, to);
}

std::vector<std::pair<std::string, Route>> Router::targets_from(const std::string& from) const {
  auto came_by = shortest_paths(from);
  std::vector<std::pair<std::string, Route>> out;
  for (const auto& [to, hop] : came_by) {
    if (to != from) out.emplace_back(to, build_route(came_by, from, to));
  }
  return out;
}

std::vector<std::string> Router::sources() const {
  std::set<std::string> s;
  for (const auto& e : edges_) s.insert(e.direction.from);
  return {s.begin(), s.end()};
}

core::Result<std::unique_ptr<Stream>> Router::open(const Route& route) const {
  if (route.hops.empty()) return core::invalid_argument("empty route");
  std::vector<std::unique_ptr<Stream>> streams;
  for (const auto& hop : route.hops) {
    // The next model with this direction takes over when the chosen one fails.
    std::shared_ptr<const Model> fallback;
    for (const auto& m : models_) {
      if (m.get() == hop.model || fallback) continue;
      const auto dirs = m->directions();
      if (std::find(dirs.begin(), dirs.end(), hop.direction) != dirs.end()) fallback = m;
    }
    auto s = hop.model->open_stream_with_fallback(hop.direction, std::move(fallback));
    if (!s) return s.status();
    streams.push_back(std::move(*s));
  }
  if (streams.size() == 1) return std::move(streams.front());
  return std::unique_ptr<Stream>(std::make_unique<ChainStream>(std::move(streams)));
}

}  // namespace parley::engines::mt

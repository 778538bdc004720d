// SPDX-License-Identifier: GPL-3.0-or-later
// An MT model limited to the directions whose both languages are in a set
// (the registry's `languages=` setting). Immutable; thread-safe as the model is.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engines/mt/mt.h"

namespace parley::engines::mt {

class Restricted final : public Model {
 public:
  Restricted(std::shared_ptr<const Model> model, std::vector<std::string> languages)
      : model_(std::move(model)), languages_(std::move(languages)) {}

  std::string name() const override { return model_->name(); }
  std::vector<Direction> directions() const override {
    std::vector<Direction> out;
    for (auto& d : model_->directions()) {
      if (allowed(d)) out.push_back(d);
    }
    return out;
  }
  core::Result<std::unique_ptr<Stream>> open_stream(const Direction& d) const override {
    if (!allowed(d)) return core::not_found(name() + " is not configured for " + d.from + "→" + d.to);
    return model_->open_stream(d);
  }
  core::Result<std::unique_ptr<Stream>> open_stream_with_fallback(const Direction& d,
                                                                  std::shared_ptr<const Model> fallback) const override {
    if (!allowed(d)) return core::not_found(name() + " is not configured for " + d.from + "→" + d.to);
    return model_->open_stream_with_fallback(d, std::move(fallback));
  }

 private:
  bool allowed(const Direction& d) const {
    auto in = [&](const std::string& l) { return std::find(languages_.begin(), languages_.end(), l) != languages_.end(); };
    return in(d.from) && in(d.to);
  }
  std::shared_ptr<const Model> model_;
  std::vector<std::string> languages_;
};

}  // namespace parley::engines::mt

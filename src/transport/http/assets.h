// SPDX-License-Identifier: GPL-3.0-or-later
// The pages and scripts under web/, compiled into the binary (see
// cmake/EmbedAssets.cmake) so a copied binary serves them.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace parley::transport {

struct Asset {
  std::string_view content_type;
  std::string_view body;
};

// `name` relative to web/, e.g. "speaker.html", "js/listener.js".
std::optional<Asset> find_asset(std::string_view name);
// The names that start with `prefix`, e.g. every "strong-words/" list.
std::vector<std::string_view> asset_names(std::string_view prefix);

}  // namespace parley::transport

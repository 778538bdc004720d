// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/librivox.h"

#include <fstream>
#include <map>
#include <sstream>

namespace parley::testing {

std::vector<Recording> librivox_recordings() {
  const std::string dir = kLibrivoxDir;
  std::ifstream ids(dir + "/fileids");
  std::ifstream trans(dir + "/transcription");
  if (!ids || !trans) return {};
  // Lines look like: "<s> words words </s> (file-id)".
  std::map<std::string, std::string> refs;
  std::string line;
  while (std::getline(trans, line)) {
    auto open = line.rfind('(');
    auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::string id = line.substr(open + 1, close - open - 1);
    std::istringstream words(line.substr(0, open));
    std::string w, text;
    while (words >> w) {
      if (w == "<s>" || w == "</s>") continue;
      text += (text.empty() ? "" : " ") + w;
    }
    refs[id] = text;
  }
  std::vector<Recording> out;
  while (std::getline(ids, line)) {
    if (line.empty()) continue;
    std::string id = line.substr(line.rfind('/') + 1);
    auto it = refs.find(id);
    if (it != refs.end()) out.push_back({dir + "/" + id + ".wav", it->second});
  }
  return out;
}

}  // namespace parley::testing

// SPDX-License-Identifier: GPL-3.0-or-later
// The LibriVox recordings with reference transcripts in Debian's
// pocketsphinx-testdata: real people reading, 16 kHz mono.
#pragma once

#include <string>
#include <vector>

namespace parley::testing {

struct Recording {
  std::string wav_path;
  std::string reference;  // lower-case words
};

inline const char* kLibrivoxDir = "/usr/share/pocketsphinx/test/data/librivox";

// Every recording listed in the data set's fileids with its transcription,
// in the listed order. Empty when pocketsphinx-testdata is not installed.
std::vector<Recording> librivox_recordings();

}  // namespace parley::testing

// SPDX-License-Identifier: GPL-3.0-or-later
// The talk's own words: what they cost and how well new words are pronounced.
//
//   g2p   espeak-ng's pronunciations mapped to the CMU phones
//         (engines/stt/pocketsphinx/espeak_phones.h), against the CMU
//         dictionary itself, on every Nth word of it: words right (any of
//         ours equals any of the dictionary's), phone error rate, time a word.
//   cost  time and memory to learn a session's words from 100 KB of English
//         prose (Debian's licence texts, in /usr/share/common-licenses),
//         and the time from the end of an utterance to its final, with and
//         without a script, on the LibriVox recordings of pocketsphinx-testdata.
//
// Usage: parley_words_bench g2p [--every N] | cost [--rounds N]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "audio/wav_io.h"
#include "core/clock.h"
#include "engines/stt/pocketsphinx/espeak_phones.h"
#include "engines/stt/pocketsphinx/pocketsphinx_stt.h"
#include "support/librivox.h"
#include "transcript/wer.h"

namespace {

using namespace parley;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Resident memory now, in MB.
double rss_mb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

int g2p(int every) {
  const std::string path = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "needs %s (apt-get install pocketsphinx-en-us)\n", path.c_str());
    return 1;
  }
  // word → its pronunciations ("word(2)" lines are alternates).
  std::map<std::string, std::vector<std::vector<std::string>>> dict;
  std::vector<std::string> order;
  std::string line;
  while (std::getline(in, line)) {
    auto parts = split(line);
    if (parts.size() < 2) continue;
    std::string w = parts[0];
    if (auto p = w.find('('); p != std::string::npos) w.resize(p);
    if (dict.count(w) == 0) order.push_back(w);
    dict[w].emplace_back(parts.begin() + 1, parts.end());
  }
  size_t n = 0, right = 0, phone_errors = 0, phones = 0, failed = 0;
  std::vector<double> ms;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(every)) {
    const std::string& w = order[i];
    if (std::any_of(w.begin(), w.end(), [](char c) { return !(c >= 'a' && c <= 'z'); })) continue;
    const int64_t t0 = core::now_us();
    auto ours = engines::stt::cmu_pronunciations(w);
    ms.push_back(static_cast<double>(core::now_us() - t0) / 1000.0);
    ++n;
    const auto& refs = dict[w];
    if (!ours) {
      ++failed;
      phone_errors += refs[0].size();
      phones += refs[0].size();
      continue;
    }
    size_t best = SIZE_MAX, best_len = refs[0].size();
    for (const auto& ref : refs) {
      for (const auto& o : *ours) {
        const size_t d = transcript::word_errors(ref, split(o)).errors();  // phones as words
        if (d < best) {
          best = d;
          best_len = ref.size();
        }
      }
    }
    if (best == 0) ++right;
    phone_errors += best;
    phones += best_len;
  }
  std::printf("g2p: %zu words of %zu in the CMU dictionary (every %dth, letters only)\n", n, order.size(), every);
  std::printf("  words right          %5.1f %%\n", 100.0 * static_cast<double>(right) / static_cast<double>(n));
  std::printf("  phone error rate     %5.1f %%\n", 100.0 * static_cast<double>(phone_errors) / static_cast<double>(phones));
  std::printf("  without a pronunciation %zu\n", failed);
  std::printf("  ms a word            median %.3f  p95 %.3f\n", percentile(ms, 0.5), percentile(ms, 0.95));
  return 0;
}

std::string licence_prose(size_t bytes) {
  std::string text;
  for (const char* f : {"GPL-3", "GPL-2", "LGPL-2.1", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "LGPL-3", "Artistic"}) {
    std::ifstream in(std::string("/usr/share/common-licenses/") + f);
    std::stringstream ss;
    ss << in.rdbuf();
    text += ss.str() + "\n\n";
    if (text.size() >= bytes) break;
  }
  text.resize(std::min(text.size(), bytes));
  return text;
}

int cost(int rounds) {
  engines::stt::PocketsphinxConfig pc;
  pc.max_decoders = 2;
  auto model = engines::stt::make_pocketsphinx_stt(pc);
  if (!model) {
    std::fprintf(stderr, "%s\n", model.status().message().c_str());
    return 1;
  }
  auto recs = testing::librivox_recordings();
  if (recs.empty()) {
    std::fprintf(stderr, "needs pocketsphinx-testdata\n");
    return 1;
  }
  // The generic decoders first, so what follows is the session's own cost.
  {
    auto warm = (*model)->open_stream("en");
    if (!warm) return 1;
  }
  const std::string prose = licence_prose(100 * 1024);
  std::vector<double> build_ms, grew_mb;
  for (int r = 0; r < rounds; ++r) {
    const double before = rss_mb();
    auto a = (*model)->adapt("en", {prose, ""});
    if (!a) {
      std::fprintf(stderr, "%s\n", a.status().message().c_str());
      return 1;
    }
    build_ms.push_back((*a)->stats().build_ms);
    grew_mb.push_back(rss_mb() - before);
    if (r == 0) {
      const auto st = (*a)->stats();
      std::printf("cost: %zu KB of text, %zu distinct words, %zu new (%zu without a pronunciation)\n",
                  prose.size() / 1024, st.n_words, st.n_new_words, st.n_unpronounced);
    }
  }
  std::printf("  learn 100 KB         median %.0f ms  max %.0f ms (%d rounds)\n", percentile(build_ms, 0.5),
              percentile(build_ms, 1.0), rounds);
  std::printf("  memory while held    median %.0f MB (resident growth; one decoder of the session's own)\n",
              percentile(grew_mb, 0.5));

  // Final latency: the recogniser's work after the utterance's last audio.
  std::string script;
  for (const auto& r : recs) script += r.reference + ".\n";
  auto scripted = (*model)->adapt("en", {"", script});
  if (!scripted) return 1;
  for (const auto* label : {"without a script", "with a script"}) {
    const bool with = std::strcmp(label, "with a script") == 0;
    std::vector<double> final_ms, rtf;
    for (int round = 0; round < rounds; ++round) {
      auto stream = (*model)->open_stream("en");
      if (!stream) return 1;
      if (with) (*stream)->use(*scripted);
      for (const auto& r : recs) {
        auto audio = audio::read_audio_file_16k(r.wav_path);
        if (!audio) return 1;
        const auto& s = audio->samples;
        const int64_t t0 = core::now_us();
        (void)(*stream)->begin_utterance();
        for (size_t off = 0; off < s.size(); off += 1600) {
          (void)(*stream)->accept(std::span(s).subspan(off, std::min<size_t>(1600, s.size() - off)));
        }
        const int64_t t1 = core::now_us();
        (void)(*stream)->end_utterance();
        const int64_t t2 = core::now_us();
        final_ms.push_back(static_cast<double>(t2 - t1) / 1000.0);
        rtf.push_back(static_cast<double>(t2 - t0) / 1e6 / audio->duration_s());
      }
    }
    std::printf("  end → final, %-17s median %6.1f ms  p95 %6.1f ms;  real-time factor median %.3f (n=%zu)\n", label,
                percentile(final_ms, 0.5), percentile(final_ms, 0.95), percentile(rtf, 0.5), final_ms.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  int every = 50, rounds = 3;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--every") == 0) every = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  if (mode == "g2p") return g2p(every);
  if (mode == "cost") return cost(rounds);
  std::fprintf(stderr, "usage: parley_words_bench g2p [--every N] | cost [--rounds N]\n");
  return 2;
}

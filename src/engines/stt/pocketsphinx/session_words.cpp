// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/stt/pocketsphinx/session_words.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

#include "engines/stt/pocketsphinx/espeak_phones.h"
#include "words/ngram.h"
#include "words/spoken.h"

namespace parley::engines::stt {
namespace {

// The name of the decoder's search with the session's words.
constexpr const char* kSessionSearch = "session";

bool known(ps_decoder_t* ps, const std::string& word) {
  char* phones = ps_lookup_word(ps, word.c_str());
  if (phones == nullptr) return false;
  std::free(phones);  // NOLINT(cppcoreglooks-no-malloc): sphinxbase allocated it
  return true;
}

// `text` as an in-memory file (the library reads only from paths); the
// caller closes the descriptor.
core::Result<int> memory_file(const char* name, const std::string& text) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return core::internal_error(std::string("could not make an in-memory file for the ") + name);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return core::internal_error(std::string("could not write the ") + name);
    }
    done += static_cast<size_t>(n);
  }
  return fd;
}

// Reads an ARPA text into a model on the decoder's log base.
core::Result<ngram_model_t*> read_arpa(ps_decoder_t* ps, const std::string& arpa) {
  auto fd = memory_file("session language model", arpa);
  if (!fd) return fd.status();
  const std::string path = "/proc/self/fd/" + std::to_string(*fd);
  ngram_model_t* lm = ngram_model_read(ps_get_config(ps), path.c_str(), NGRAM_ARPA, ps_get_logmath(ps));
  ::close(*fd);
  if (lm == nullptr) return core::internal_error("pocketsphinx could not read the session's language model");
  return lm;
}

}  // namespace

core::Result<PreparedWords> prepare_words(ps_decoder_t* ps, const Vocabulary& vocabulary) {
  PreparedWords out;
  std::set<std::string> all;
  auto model_of = [&](const std::string& text, size_t* n_words) {
    words::NgramBuilder b;
    for (const auto& s : words::spoken_sentences(text)) {
      b.add_sentence(s);
      if (n_words != nullptr) *n_words += s.size();
      all.insert(s.begin(), s.end());
    }
    return b.arpa();
  };
  out.vocabulary_arpa = model_of(vocabulary.text, nullptr);
  out.script_arpa = model_of(vocabulary.script, &out.stats.n_script_words);
  out.stats.n_words = all.size();
  for (const auto& w : all) {
    if (!known(ps, w)) out.missing.push_back(w);
  }
  out.stats.n_new_words = out.missing.size();
  return out;
}

void pronounce_missing(PreparedWords& out) {
  for (const auto& w : out.missing) {
    if (out.new_words.size() >= kMaxNewWords) {
      ++out.stats.n_unpronounced;
      continue;
    }
    auto prons = cmu_pronunciations(w);
    if (!prons) {
      ++out.stats.n_unpronounced;
      continue;
    }
    for (size_t i = 0; i < prons->size(); ++i) {
      out.new_words.emplace_back(i == 0 ? w : w + "(" + std::to_string(i + 1) + ")", (*prons)[i]);
    }
  }
  out.missing.clear();
}

core::Result<int> session_dictionary(const std::string& generic_path, const PreparedWords& words) {
  std::ifstream in(generic_path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) return core::unavailable("cannot read the dictionary " + generic_path);
  if (text.back() != '\n') text += '\n';
  for (const auto& [word, phones] : words.new_words) text += word + " " + phones + "\n";
  return memory_file("session dictionary", text);
}

core::Status apply_words(ps_decoder_t* ps, const PreparedWords& words) {
  const std::string generic_search = ps_get_search(ps);
  ngram_model_t* generic = ps_get_lm(ps, generic_search.c_str());
  if (generic == nullptr) return core::internal_error("pocketsphinx has no generic language model to extend");
  std::vector<ngram_model_t*> models = {ngram_model_retain(generic)};
  std::vector<std::string> names = {"generic"};
  std::vector<float> weights = {1.0F};
  auto add = [&](const std::string& arpa, const char* name, float weight) -> core::Status {
    if (arpa.empty()) return {};
    auto lm = read_arpa(ps, arpa);
    if (!lm) return lm.status();
    models.push_back(*lm);
    names.emplace_back(name);
    weights.push_back(weight);
    weights[0] -= weight;
    return {};
  };
  core::Status st = add(words.vocabulary_arpa, "vocabulary", kVocabularyWeight);
  if (st) st = add(words.script_arpa, "script", kScriptWeight);
  if (!st) {
    for (auto* m : models) ngram_model_free(m);
    return st;
  }
  std::vector<char*> name_ptrs;
  for (auto& n : names) name_ptrs.push_back(n.data());
  // The set owns its members from here.
  ngram_model_t* set = ngram_model_set_init(ps_get_config(ps), models.data(), name_ptrs.data(), weights.data(),
                                            static_cast<int32>(models.size()));
  if (set == nullptr) {
    for (auto* m : models) ngram_model_free(m);
    return core::internal_error("pocketsphinx could not combine the language models");
  }
  const int rc = ps_set_lm(ps, kSessionSearch, set);
  ngram_model_free(set);  // the search holds its own reference
  if (rc != 0 || ps_set_search(ps, kSessionSearch) != 0) {
    return core::internal_error("pocketsphinx could not search with the session's words");
  }
  // The generic search is never used again on this decoder: its lexical
  // trees and tables go (its model lives on in the set).
  ps_unset_search(ps, generic_search.c_str());
  return {};
}

}  // namespace parley::engines::stt

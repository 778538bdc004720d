// SPDX-License-Identifier: GPL-3.0-or-later
// STT through pocketsphinx 0.8 (Debian's libpocketsphinx with pocketsphinx-en-us).
//
// Decoders are pooled by the model. A decoder holds the acoustic model, the
// dictionary and the language model (about 30 MB), but a stream needs one
// only while an utterance is open: begin_utterance borrows one (creating it
// if fewer than max_decoders exist, else waiting for one to come back) and
// end_utterance returns it. Between utterances a stream keeps just its
// speaker's cepstral means (live CMN, 13 numbers), which it hands to the
// next decoder it borrows, so a speaker stays "warm" whichever decoder
// serves them. A session that does not speak holds no decoder.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engines/stt/stt.h"

namespace parley::engines::stt {

struct PocketsphinxConfig {
  // Directory holding en-us/, en-us.lm.bin and cmudict-en-us.dict.
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us";
  std::string language = "en";
  // Further decoder options as pocketsphinx flags, e.g. {"-beam", "1e-40"};
  // later ones override the defaults set by parley.
  std::vector<std::string> extra_args;
  // Decoders alive at once: how many speakers can be mid-utterance together.
  // A new speaker's second pass may borrow one alongside theirs, but only
  // while a quarter of the pool (at least one) stays free for others.
  size_t max_decoders = 8;
  // Decoders kept loaded and idle ahead of the next speaker who starts
  // talking (made in the background: a decoder takes seconds to load, which
  // a first sentence would otherwise wait).
  size_t ready_decoders = 2;
  // How long begin_utterance waits for a decoder when all are in use
  // (then resource_exhausted: the utterance is lost, the stream carries on).
  int borrow_timeout_ms = 5000;
  // A speaker's utterances are decoded a second time, with cepstral means
  // taken from the utterance itself, until they have given this much audio
  // (0: never, -1: always). Costs one more decode of those utterances
  // before their final.
  int cold_second_pass_ms = 4000;
  // pocketsphinx's second search pass (-fwdflat) after each utterance:
  // a little more accurate, but it delays every final by about 5 % of the
  // utterance's length. For offline decoding.
  bool second_search_pass = false;
};

// Fails with unavailable, naming the package to install, when model files are missing.
core::Result<std::shared_ptr<const Model>> make_pocketsphinx_stt(PocketsphinxConfig config = {});

}  // namespace parley::engines::stt

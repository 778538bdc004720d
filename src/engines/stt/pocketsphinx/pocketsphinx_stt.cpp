// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/stt/pocketsphinx/pocketsphinx_stt.h"

#include <pocketsphinx.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audio/pcm.h"
#include "core/clock.h"
#include "engines/stt/pocketsphinx/session_words.h"

namespace parley::engines::stt {
namespace {

namespace fs = std::filesystem;

// pocketsphinx frames are 10 ms.
constexpr int64_t kFrameMs = 10;

// Fillers and silence markers the decoder emits as words.
bool is_filler(const std::string& w) {
  return w.empty() || w[0] == '<' || w[0] == '[' || w == "++NOISE++" || w == "++BREATH++";
}

// "word(2)" → "word": pocketsphinx marks alternate pronunciations.
std::string strip_alternate(const char* w) {
  std::string s(w);
  if (auto p = s.find('('); p != std::string::npos && p > 0) s.resize(p);
  return s;
}

// cmd_ln and the decoder's logging are process-global in sphinxbase; creating
// decoders concurrently is not safe, so creation is serialised.
std::mutex g_init_mu;

// The model's decoders, created on demand up to a limit and lent out one
// utterance at a time. Thread-safe.
class DecoderPool {
 public:
  // `ready`: once primed (someone opened a stream: a speaker is about to
  // talk), decoders kept idle ahead of demand (up to `max` in all), made on
  // a thread of the pool's own: loading one takes a second or more, which a
  // speaker's first sentence would otherwise wait. A server nobody speaks
  // to loads none.
  DecoderPool(std::function<core::Result<ps_decoder_t*>()> make, size_t max, int timeout_ms, size_t ready = 0)
      : make_(std::move(make)), max_(std::max<size_t>(1, max)), timeout_ms_(timeout_ms),
        ready_(std::min(ready, max_)) {}

  void prime() {
    std::lock_guard lock(mu_);
    if (ready_ == 0 || maker_.joinable() || stopping_) return;
    maker_ = std::thread([this] { keep_ready(); });
  }
  ~DecoderPool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    maker_cv_.notify_all();
    if (maker_.joinable()) maker_.join();
    for (auto* ps : idle_) ps_free(ps);
  }

  core::Result<ps_decoder_t*> borrow() {
    std::unique_lock lock(mu_);
    for (;;) {
      if (!idle_.empty()) {
        auto* ps = idle_.back();
        idle_.pop_back();
        if (ready_ > 0) maker_cv_.notify_one();  // the next one gets made ahead of its speaker
        return ps;
      }
      if (created_ < max_) {
        ++created_;
        lock.unlock();
        auto made = make_();  // seconds, outside the lock
        lock.lock();
        if (!made) --created_;
        return made;
      }
      if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms_), [&] { return !idle_.empty(); })) {
        return core::resource_exhausted("all " + std::to_string(max_) +
                                        " speech decoders are busy; raise --stt-decoders");
      }
    }
  }

  // An idle decoder for a second pass, only while others stay available to
  // speakers who start talking (idle, or still to be created). Never
  // creates one: that loads the model for a second or more, and the caller
  // is a session's worker. nullptr when there is none to spare.
  ps_decoder_t* try_borrow_spare() {
    std::lock_guard lock(mu_);
    // What stays for speakers after this one is lent: a quarter of the pool
    // (at least one), so second passes use only spare capacity.
    const size_t keep = std::max<size_t>(1, (max_ + 3) / 4);
    if (idle_.empty() || idle_.size() - 1 + (max_ - created_) < keep) return nullptr;
    auto* ps = idle_.back();
    idle_.pop_back();
    return ps;
  }

  // Takes a decoder made outside the pool as one of its own.
  void adopt(ps_decoder_t* ps) {
    {
      std::lock_guard lock(mu_);
      ++created_;
    }
    give_back(ps);
  }

  void give_back(ps_decoder_t* ps) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(ps);
    }
    cv_.notify_one();
  }

  size_t created() const {
    std::lock_guard lock(mu_);
    return created_;
  }

 private:
  // The maker thread: tops the idle decoders up to ready_ while fewer than
  // max_ exist.
  void keep_ready() {
    std::unique_lock lock(mu_);
    for (;;) {
      maker_cv_.wait(lock, [&] { return stopping_ || (idle_.size() < ready_ && created_ < max_); });
      if (stopping_) return;
      ++created_;
      lock.unlock();
      auto made = make_();
      lock.lock();
      if (!made) {
        --created_;
        // The model cannot be loaded now; speakers will say so. Try again later.
        maker_cv_.wait_for(lock, std::chrono::seconds(30), [&] { return stopping_; });
        continue;
      }
      idle_.push_back(*made);
      cv_.notify_one();
    }
  }

  std::function<core::Result<ps_decoder_t*>()> make_;
  const size_t max_;
  const int timeout_ms_;
  const size_t ready_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable maker_cv_;
  std::vector<ps_decoder_t*> idle_;
  size_t created_ = 0;
  bool stopping_ = false;  // guarded by mu_
  std::thread maker_;      // guarded by mu_ (started by prime())
};

// Decoders of their own with a session's words (session_words.h): the
// shared pool's decoders stay generic, so no session's words reach another.
class PsAdaptation final : public Adaptation {
 public:
  PsAdaptation(std::shared_ptr<DecoderPool> pool, Stats stats) : pool_(std::move(pool)), stats_(stats) {}
  Stats stats() const override { return stats_; }
  const std::shared_ptr<DecoderPool>& pool() const { return pool_; }

 private:
  std::shared_ptr<DecoderPool> pool_;
  Stats stats_;
};

// The decoder's live cepstral means (the speaker's channel, learnt as they speak).
std::vector<mfcc_t> cmn_means(ps_decoder_t* ps) {
  cmn_t* cmn = ps_get_feat(ps)->cmn_struct;
  std::vector<mfcc_t> v(static_cast<size_t>(cmn->veclen));
  cmn_live_get(cmn, v.data());
  return v;
}

// The mean cepstrum of `pcm`'s speech frames, computed by the decoder's own
// front end (so silence is left out exactly as the decoder leaves it out).
// Empty when fewer than `min_frames` speech frames were found. The front end
// must be idle: call between utterances.
std::vector<mfcc_t> speech_means(ps_decoder_t* ps, const std::vector<int16_t>& pcm, int min_frames) {
  fe_t* fe = ps_get_fe(ps);
  const int n_ceps = fe_get_output_size(fe);
  constexpr int kChunkFrames = 64;
  std::vector<mfcc_t> store(static_cast<size_t>(kChunkFrames * n_ceps));
  std::vector<mfcc_t*> rows(kChunkFrames);
  for (int i = 0; i < kChunkFrames; ++i) rows[static_cast<size_t>(i)] = &store[static_cast<size_t>(i * n_ceps)];
  std::vector<double> sum(static_cast<size_t>(n_ceps), 0.0);
  int64_t n_frames = 0;
  auto add = [&](int32 nfr) {
    for (int32 f = 0; f < nfr; ++f) {
      for (int c = 0; c < n_ceps; ++c) sum[static_cast<size_t>(c)] += rows[static_cast<size_t>(f)][c];
    }
    n_frames += nfr;
  };
  if (fe_start_utt(fe) < 0) return {};
  const int16* p = pcm.data();
  size_t left = pcm.size();
  while (left > 0) {
    int32 nfr = kChunkFrames;
    const size_t before = left;
    if (fe_process_frames(fe, &p, &left, rows.data(), &nfr, nullptr) < 0) return {};
    add(nfr);
    if (nfr == 0 && left == before) break;  // no progress: leftover shorter than a frame
  }
  int32 nfr = 0;
  fe_end_utt(fe, rows[0], &nfr);
  add(nfr);
  if (n_frames < min_frames) return {};
  std::vector<mfcc_t> means(static_cast<size_t>(n_ceps));
  for (int c = 0; c < n_ceps; ++c) {
    means[static_cast<size_t>(c)] = static_cast<mfcc_t>(sum[static_cast<size_t>(c)] / static_cast<double>(n_frames));
  }
  return means;
}

class PsStream final : public Stream {
 public:
  PsStream(std::shared_ptr<DecoderPool> pool, std::vector<mfcc_t> cold_means, int cold_second_pass_ms)
      : generic_pool_(pool), pool_(std::move(pool)), next_pool_(pool_), means_(std::move(cold_means)),
        cold_second_pass_ms_(cold_second_pass_ms) {}
  ~PsStream() override {
    for (auto* ps : {ps_, shadow_}) {
      if (ps == nullptr) continue;
      ps_end_utt(ps);
      pool_->give_back(ps);
    }
  }

  void use(std::shared_ptr<const Adaptation> adaptation) override {
    if (adaptation == nullptr) {
      next_pool_ = generic_pool_;
      next_adaptation_.reset();
      return;
    }
    const auto* own = dynamic_cast<const PsAdaptation*>(adaptation.get());
    if (own == nullptr) return;  // another engine's
    next_pool_ = own->pool();
    next_adaptation_ = std::move(adaptation);
  }

  core::Status begin_utterance() override {
    if (ps_ != nullptr) return core::invalid_argument("an utterance is already open");
    // Between utterances: the words chosen last (use()) take effect. The
    // speaker's means go with them to the other pool's decoders.
    pool_ = next_pool_;
    adaptation_ = next_adaptation_;
    auto ps = pool_->borrow();
    if (!ps) return ps.status();
    // This speaker's means, not those of whoever used the decoder last.
    cmn_live_set(ps_get_feat(*ps)->cmn_struct, means_.data());
    // A new stream per utterance: segment times count from its first sample
    // (they are stream-wide), and the front end's noise estimate is not that
    // of whoever used the decoder last.
    if (ps_start_stream(*ps) < 0 || ps_start_utt(*ps) < 0) {
      pool_->give_back(*ps);
      return core::internal_error("pocketsphinx could not start an utterance");
    }
    ps_ = *ps;
    // While this speaker is new, keep the utterance for a second pass.
    second_pass_ = cold_second_pass_ms_ < 0 || heard_ms_ < cold_second_pass_ms_;
    // Offline decoding (every utterance decoded twice) has no final to
    // hurry: its second pass keeps the whole utterance's means.
    shadow_at_ = cold_second_pass_ms_ < 0 ? SIZE_MAX : kShadowStartSamples;
    utterance_pcm_.clear();
    return {};
  }

  core::Status accept(std::span<const float> samples) override {
    if (ps_ == nullptr) return core::invalid_argument("accept() outside an utterance");
    pcm_ = audio::to_pcm16(samples);
    if (ps_process_raw(ps_, pcm_.data(), pcm_.size(), FALSE, FALSE) < 0) {
      return core::internal_error("pocketsphinx rejected audio");
    }
    heard_ms_ += static_cast<int64_t>(pcm_.size()) * 1000 / audio::kPipelineRateHz;
    if (shadow_ != nullptr) {
      if (ps_process_raw(shadow_, pcm_.data(), pcm_.size(), FALSE, FALSE) < 0) drop_shadow();
    } else if (second_pass_) {
      utterance_pcm_.insert(utterance_pcm_.end(), pcm_.begin(), pcm_.end());
      if (utterance_pcm_.size() >= shadow_at_) start_shadow();
    }
    return {};
  }

  core::Result<Hypothesis> partial() override {
    if (ps_ == nullptr) return core::invalid_argument("partial() outside an utterance");
    return collect(shadow_ != nullptr ? shadow_ : ps_);
  }

  core::Result<Hypothesis> end_utterance() override {
    if (ps_ == nullptr) return core::invalid_argument("end_utterance() outside an utterance");
    auto* ps = ps_;
    ps_ = nullptr;
    if (shadow_ != nullptr) {
      // The second pass ran alongside and has heard everything: its words
      // and means stand (start_shadow cleared second_pass_).
      ps_end_utt(ps);
      pool_->give_back(ps);
      ps = std::exchange(shadow_, nullptr);
    }
    const bool ended = ps_end_utt(ps) >= 0;
    Hypothesis h = ended ? collect(ps) : Hypothesis{};
    if (ended && second_pass_) {
      // A new speaker's first words were heard with the model's generic
      // cepstral means, which live CMN only slowly leaves (10-60 WER points
      // cold). Decode them once more, normalised by their own means.
      if (auto own = speech_means(ps, utterance_pcm_, kMinSecondPassFrames); !own.empty()) {
        cmn_live_set(ps_get_feat(ps)->cmn_struct, own.data());
        if (ps_start_stream(ps) >= 0 && ps_start_utt(ps) >= 0 &&
            ps_process_raw(ps, utterance_pcm_.data(), utterance_pcm_.size(), FALSE, FALSE) >= 0 &&
            ps_end_utt(ps) >= 0) {
          h = collect(ps);
        }
      }
    }
    utterance_pcm_.clear();
    means_ = cmn_means(ps);  // what the decoder learnt of this speaker goes with them
    pool_->give_back(ps);
    if (!ended) return core::internal_error("pocketsphinx could not end the utterance");
    return h;
  }

 private:
  // A new speaker's second pass, started once the utterance holds
  // kShadowStartSamples: a second decoder, normalised by the speaker's own
  // means from what was heard so far, decodes the audio kept until then and
  // from there on everything the first one hears. At the end its words are
  // ready, where a second pass after the end would cost the whole utterance's
  // decoding again (1-2 s for a long first sentence). When no decoder is
  // free, the utterance is decoded again after its end, as before.
  void start_shadow() {
    auto* ps = pool_->try_borrow_spare();
    if (ps == nullptr) {
      shadow_at_ = SIZE_MAX;  // no decoder to spare: the pass after the end
      return;
    }
    auto own = speech_means(ps, utterance_pcm_, kMinSecondPassFrames);
    if (own.empty()) {
      pool_->give_back(ps);
      shadow_at_ = utterance_pcm_.size() + audio::kPipelineRateHz;  // too little speech yet: a second later
      return;
    }
    cmn_live_set(ps_get_feat(ps)->cmn_struct, own.data());
    if (ps_start_stream(ps) < 0 || ps_start_utt(ps) < 0) {
      pool_->give_back(ps);
      shadow_at_ = SIZE_MAX;  // not again this utterance: the pass after the end
      return;
    }
    shadow_ = ps;
    if (ps_process_raw(ps, utterance_pcm_.data(), utterance_pcm_.size(), FALSE, FALSE) < 0) {
      drop_shadow();
      return;
    }
    utterance_pcm_.clear();
    utterance_pcm_.shrink_to_fit();
    second_pass_ = false;  // nothing left to decode after the end
  }

  void drop_shadow() {
    ps_end_utt(shadow_);
    pool_->give_back(shadow_);
    shadow_ = nullptr;
    second_pass_ = false;  // its audio is gone: the first pass's words stand
  }

  Hypothesis collect() { return collect(ps_); }
  static Hypothesis collect(ps_decoder_t* ps) {
    Hypothesis h;
    int32 score = 0;
    const char* hyp = ps_get_hyp(ps, &score);
    if (hyp == nullptr) return h;
    for (ps_seg_t* seg = ps_seg_iter(ps); seg != nullptr; seg = ps_seg_next(seg)) {
      std::string w = strip_alternate(ps_seg_word(seg));
      if (is_filler(w)) continue;
      int sf = 0, ef = 0;
      ps_seg_frames(seg, &sf, &ef);
      h.words.push_back({w, sf * kFrameMs, (ef + 1) * kFrameMs});
    }
    for (const auto& w : h.words) {
      if (!h.text.empty()) h.text += ' ';
      h.text += w.text;
    }
    return h;
  }

  // Speech frames (10 ms) an utterance needs for its own means to be trusted.
  static constexpr int kMinSecondPassFrames = 30;

  // Audio a new speaker's utterance holds before its second pass starts
  // (3 s: the means of less were worth 2.5 WER points on the development
  // set; docs/benchmarks.md).
  static constexpr size_t kShadowStartSamples = audio::kPipelineRateHz * 3;

  const std::shared_ptr<DecoderPool> generic_pool_;  // the model's
  std::shared_ptr<DecoderPool> pool_;       // the one this utterance borrows from
  std::shared_ptr<DecoderPool> next_pool_;  // from the next utterance on
  std::shared_ptr<const Adaptation> adaptation_, next_adaptation_;  // keep their pools' words alive
  ps_decoder_t* ps_ = nullptr;  // borrowed while an utterance is open
  ps_decoder_t* shadow_ = nullptr;  // the second pass, when it runs alongside
  size_t shadow_at_ = kShadowStartSamples;  // utterance samples at which to try it
  std::vector<mfcc_t> means_;   // the speaker's live CMN between utterances
  const int cold_second_pass_ms_;
  int64_t heard_ms_ = 0;        // utterance audio this speaker has given so far
  bool second_pass_ = false;    // the open utterance is decoded twice
  std::vector<int16_t> utterance_pcm_;  // its audio, kept for that
  std::vector<int16_t> pcm_;
};

class PsModel final : public Model {
 public:
  explicit PsModel(PocketsphinxConfig c)
      : c_(std::move(c)),
        pool_(std::make_shared<DecoderPool>([c = c_] { return make_decoder(c); }, c_.max_decoders,
                                            c_.borrow_timeout_ms, c_.ready_decoders)) {}

  std::string name() const override { return "pocketsphinx"; }
  std::vector<std::string> languages() const override { return {c_.language}; }

  core::Result<std::shared_ptr<const Adaptation>> adapt(const std::string& language,
                                                        const Vocabulary& vocabulary) const override {
    if (language != c_.language) {
      return core::not_found("pocketsphinx has no model for '" + language + "' (installed: " + c_.language + ")");
    }
    if (vocabulary.empty()) return std::shared_ptr<const Adaptation>{};
    const int64_t t0 = core::now_us();
    // The session's decoder, made now (a second or two, which is why this
    // runs off the worker). One: with the session's model it holds about
    // 90 MB, as much as a generic one (docs/benchmarks.md), so
    // a new speaker's second pass runs after the utterance, not alongside.
    // Which words the dictionary lacks, asked of a generic decoder.
    auto generic = pool_->borrow();
    if (!generic) return generic.status();
    auto prepared = prepare_words(*generic, vocabulary);
    pool_->give_back(*generic);  // before the pronunciations: speakers may need it
    if (!prepared) return prepared.status();
    pronounce_missing(*prepared);
    auto words = std::make_shared<const PreparedWords>(std::move(*prepared));
    const size_t n = 1;
    auto pool = std::make_shared<DecoderPool>(
        [c = c_, words]() -> core::Result<ps_decoder_t*> { return make_session_decoder(c, *words); }, n,
        c_.borrow_timeout_ms);
    // Borrowing it makes it: now, off the worker.
    auto made = pool->borrow();
    if (!made) return made.status();
    pool->give_back(*made);
    Adaptation::Stats stats = words->stats;
    stats.n_decoders = n;
    stats.build_ms = static_cast<double>(core::now_us() - t0) / 1000.0;
    return std::shared_ptr<const Adaptation>(std::make_shared<PsAdaptation>(pool, stats));
  }

  core::Result<std::unique_ptr<Stream>> open_stream(const std::string& language) const override {
    if (language != c_.language) {
      return core::not_found("pocketsphinx has no model for '" + language + "' (installed: " +
                             c_.language + ")");
    }
    // A new speaker starts from the model's initial means (-cmninit).
    std::call_once(cold_once_, [this] {
      auto ps = pool_->borrow();
      if (!ps) {
        cold_error_ = ps.status();
        return;
      }
      cold_means_ = cmn_means(*ps);
      // A second decoder now, with the first (the pass alongside never
      // creates one: that would stall a speaker mid-sentence), so the first
      // speaker's second pass can run alongside their first utterance when
      // the pool is large enough to spare it (try_borrow_spare).
      auto spare = c_.max_decoders > 1 && c_.cold_second_pass_ms != 0 ? pool_->borrow() : ps;
      if (spare && *spare != *ps) pool_->give_back(*spare);
      pool_->give_back(*ps);
    });
    if (!cold_error_) return cold_error_;
    pool_->prime();  // from now on decoders are loaded ahead of the speakers who need them
    return std::unique_ptr<Stream>(std::make_unique<PsStream>(pool_, cold_means_, c_.cold_second_pass_ms));
  }

 private:
  // A decoder with a session's words: its dictionary holds the new words
  // (a copy of the model's with them added: adding them to a decoder
  // afterwards would also add them to the generic model, whose compressed
  // tables cannot take new words), and it searches the interpolated model.
  static core::Result<ps_decoder_t*> make_session_decoder(const PocketsphinxConfig& c, const PreparedWords& words) {
    int fd = -1;
    if (!words.new_words.empty()) {
      auto dict = session_dictionary(c.model_dir + "/cmudict-en-us.dict", words);
      if (!dict) return dict.status();
      fd = *dict;
    }
    auto ps = make_decoder(c, fd >= 0 ? "/proc/self/fd/" + std::to_string(fd) : std::string());
    if (fd >= 0) ::close(fd);
    if (!ps) return ps;
    if (auto st = apply_words(*ps, words); !st) {
      ps_free(*ps);
      return st;
    }
    return ps;
  }

  // `dict_path`: a dictionary instead of the model's (empty: the model's).
  static core::Result<ps_decoder_t*> make_decoder(const PocketsphinxConfig& c, const std::string& dict_path = {}) {
    const std::string hmm = c.model_dir + "/en-us";
    const std::string lm = c.model_dir + "/en-us.lm.bin";
    const std::string dict = dict_path.empty() ? c.model_dir + "/cmudict-en-us.dict" : dict_path;
    std::lock_guard lock(g_init_mu);
    // Live cepstral normalisation: batch CMN needs the whole utterance and
    // would make partial hypotheses useless (new speakers get a second pass
    // instead, see PsStream). -bestpath yes rescores the final on the word
    // lattice: it costs a few milliseconds and was worth 9 WER points over a
    // development set of six sources (docs/benchmarks.md), where the old
    // choice of -bestpath no had been tuned on five LibriVox files. The
    // second search pass (-fwdflat) runs over the whole utterance after it
    // ends, about 0.05 x its length, so live sessions skip it and offline
    // decoding keeps it. -maxhmmpf caps the active HMMs per frame so one
    // noisy stretch cannot take every other session's CPU.
    std::vector<std::string> args = {"-hmm", hmm, "-lm", lm, "-dict", dict, "-cmn", "live",
                                     "-fwdflat", c.second_search_pass ? "yes" : "no",
                                     "-bestpath", "yes", "-maxhmmpf", "3000",
                                     "-logfn", "/dev/null"};
    args.insert(args.end(), c.extra_args.begin(), c.extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    cmd_ln_t* config = cmd_ln_parse_r(nullptr, ps_args(), static_cast<int32>(argv.size()),
                                      argv.data(), FALSE);
    if (config == nullptr) return core::internal_error("pocketsphinx rejected its configuration");
    ps_decoder_t* ps = ps_init(config);
    cmd_ln_free_r(config);  // the decoder holds its own reference
    if (ps == nullptr) {
      return core::unavailable("pocketsphinx could not load its model from " + c.model_dir +
                               "; reinstall pocketsphinx-en-us");
    }
    return ps;
  }

  PocketsphinxConfig c_;
  std::shared_ptr<DecoderPool> pool_;  // streams share it and may outlive the model
  mutable std::once_flag cold_once_;
  mutable std::vector<mfcc_t> cold_means_;
  mutable core::Status cold_error_;
};

}  // namespace

core::Result<std::shared_ptr<const Model>> make_pocketsphinx_stt(PocketsphinxConfig config) {
  for (const char* f : {"/en-us/mdef", "/en-us.lm.bin", "/cmudict-en-us.dict"}) {
    if (!fs::exists(config.model_dir + f)) {
      return core::unavailable("pocketsphinx model file " + config.model_dir + f +
                               " is missing; install it with: apt-get install pocketsphinx-en-us");
    }
  }
  return std::shared_ptr<const Model>(std::make_shared<PsModel>(std::move(config)));
}

}  // namespace parley::engines::stt

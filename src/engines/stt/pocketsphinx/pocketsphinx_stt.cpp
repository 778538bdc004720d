// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/stt/pocketsphinx/pocketsphinx_stt.h"

#include <pocketsphinx.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "audio/pcm.h"

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
  DecoderPool(std::function<core::Result<ps_decoder_t*>()> make, size_t max, int timeout_ms)
      : make_(std::move(make)), max_(std::max<size_t>(1, max)), timeout_ms_(timeout_ms) {}
  ~DecoderPool() {
    for (auto* ps : idle_) ps_free(ps);
  }

  core::Result<ps_decoder_t*> borrow() {
    std::unique_lock lock(mu_);
    for (;;) {
      if (!idle_.empty()) {
        auto* ps = idle_.back();
        idle_.pop_back();
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
  std::function<core::Result<ps_decoder_t*>()> make_;
  const size_t max_;
  const int timeout_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ps_decoder_t*> idle_;
  size_t created_ = 0;
};

// The decoder's live cepstral means (the speaker's channel, learnt as they speak).
std::vector<mfcc_t> cmn_means(ps_decoder_t* ps) {
  cmn_t* cmn = ps_get_feat(ps)->cmn_struct;
  std::vector<mfcc_t> v(static_cast<size_t>(cmn->veclen));
  cmn_live_get(cmn, v.data());
  return v;
}

class PsStream final : public Stream {
 public:
  PsStream(std::shared_ptr<DecoderPool> pool, std::vector<mfcc_t> cold_means)
      : pool_(std::move(pool)), means_(std::move(cold_means)) {}
  ~PsStream() override {
    if (ps_ == nullptr) return;
    ps_end_utt(ps_);
    pool_->give_back(ps_);
  }

  core::Status begin_utterance() override {
    if (ps_ != nullptr) return core::invalid_argument("an utterance is already open");
    auto ps = pool_->borrow();
    if (!ps) return ps.status();
    // This speaker's means, not those of whoever used the decoder last.
    cmn_live_set(ps_get_feat(*ps)->cmn_struct, means_.data());
    if (ps_start_utt(*ps) < 0) {
      pool_->give_back(*ps);
      return core::internal_error("pocketsphinx could not start an utterance");
    }
    ps_ = *ps;
    return {};
  }

  core::Status accept(std::span<const float> samples) override {
    if (ps_ == nullptr) return core::invalid_argument("accept() outside an utterance");
    pcm_ = audio::to_pcm16(samples);
    if (ps_process_raw(ps_, pcm_.data(), pcm_.size(), FALSE, FALSE) < 0) {
      return core::internal_error("pocketsphinx rejected audio");
    }
    return {};
  }

  core::Result<Hypothesis> partial() override {
    if (ps_ == nullptr) return core::invalid_argument("partial() outside an utterance");
    return collect();
  }

  core::Result<Hypothesis> end_utterance() override {
    if (ps_ == nullptr) return core::invalid_argument("end_utterance() outside an utterance");
    auto* ps = ps_;
    ps_ = nullptr;
    const bool ended = ps_end_utt(ps) >= 0;
    Hypothesis h = ended ? collect(ps) : Hypothesis{};
    means_ = cmn_means(ps);  // what the decoder learnt of this speaker goes with them
    pool_->give_back(ps);
    if (!ended) return core::internal_error("pocketsphinx could not end the utterance");
    return h;
  }

 private:
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

  std::shared_ptr<DecoderPool> pool_;
  ps_decoder_t* ps_ = nullptr;  // borrowed while an utterance is open
  std::vector<mfcc_t> means_;   // the speaker's live CMN between utterances
  std::vector<int16_t> pcm_;
};

class PsModel final : public Model {
 public:
  explicit PsModel(PocketsphinxConfig c)
      : c_(std::move(c)),
        pool_(std::make_shared<DecoderPool>([c = c_] { return make_decoder(c); }, c_.max_decoders,
                                            c_.borrow_timeout_ms)) {}

  std::string name() const override { return "pocketsphinx"; }
  std::vector<std::string> languages() const override { return {c_.language}; }

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
      pool_->give_back(*ps);
    });
    if (!cold_error_) return cold_error_;
    return std::unique_ptr<Stream>(std::make_unique<PsStream>(pool_, cold_means_));
  }

 private:
  static core::Result<ps_decoder_t*> make_decoder(const PocketsphinxConfig& c) {
    const std::string hmm = c.model_dir + "/en-us";
    const std::string lm = c.model_dir + "/en-us.lm.bin";
    const std::string dict = c.model_dir + "/cmudict-en-us.dict";
    std::lock_guard lock(g_init_mu);
    // Live cepstral normalisation: batch CMN needs the whole utterance and
    // would make partial hypotheses useless. The stream warms up over time.
    // Real-time settings: -fwdflat no skips the second search pass, which
    // only refines the final and delays it (final-caption latency counts
    // more than a point of WER); -bestpath no keeps the final on the same
    // search as the partials, so words shown in partials are not swapped at
    // the end (and, measured on LibriVox, WER is lower: 19.7 % vs 23.9 %
    // warm); -maxhmmpf caps the active HMMs per frame so
    // one noisy stretch cannot blow the CPU budget of every other session.
    std::vector<std::string> args = {"-hmm", hmm, "-lm", lm, "-dict", dict, "-cmn", "live",
                                     "-fwdflat", "no", "-bestpath", "no", "-maxhmmpf", "3000",
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

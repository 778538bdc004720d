// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/vad/silero/silero_vad.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "audio/pcm.h"
#include "engines/vad/silero/onnx_constants.h"

namespace parley::engines::vad {
namespace {

constexpr int kWindow = 512;   // samples the network takes at 16 kHz
constexpr int kContext = 64;   // samples of the previous window it sees again
constexpr int kInput = kWindow + kContext;
constexpr int kPadded = kInput + 64;  // reflection-padded on the right
constexpr int kFft = 256, kHop = 128, kBins = kFft / 2 + 1;
constexpr int kStftFrames = (kPadded - kFft) / kHop + 1;  // 4
constexpr int kHidden = 128;
constexpr double kHysteresis = 0.15;  // speech continues down to threshold − this
constexpr uintmax_t kMaxModelBytes = 64u << 20;

namespace fs = std::filesystem;

// A 1-D convolution's weights: out × in × 3, padding 1.
struct Conv {
  int out = 0, in = 0, stride = 1;
  std::vector<float> w, b;

  // x: in × t (row-major), y: out × t_out.
  void run(const float* x, int t, std::vector<float>& y) const {
    const int t_out = (t + 2 - 3) / stride + 1;
    y.assign(static_cast<size_t>(out) * t_out, 0.0f);
    for (int o = 0; o < out; ++o) {
      for (int j = 0; j < t_out; ++j) {
        float acc = b[o];
        for (int k = 0; k < 3; ++k) {
          const int at = j * stride + k - 1;
          if (at < 0 || at >= t) continue;
          const float* wk = &w[(static_cast<size_t>(o) * in) * 3 + k];
          for (int i = 0; i < in; ++i) acc += wk[static_cast<size_t>(i) * 3] * x[static_cast<size_t>(i) * t + at];
        }
        y[static_cast<size_t>(o) * t_out + j] = std::max(acc, 0.0f);  // every encoder layer ends in ReLU
      }
    }
  }
};

struct Weights {
  std::vector<float> basis;  // (2·kBins) × kFft: the STFT's real then imaginary rows
  std::array<Conv, 4> encoder;
  std::vector<float> w_ih, w_hh, b_ih, b_hh;  // LSTM cell, 4·kHidden × kHidden, gates i f g o
  std::vector<float> out_w;                   // kHidden
  float out_b = 0;
};

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

class Network final : public SileroProbe {
 public:
  explicit Network(std::shared_ptr<const Weights> w) : w_(std::move(w)) {}

  // input: kContext samples of the previous window, then the kWindow new ones.
  float run(const float* input) {
    std::array<float, kPadded> x{};
    std::copy(input, input + kInput, x.begin());
    for (int j = 0; j < kPadded - kInput; ++j) x[kInput + j] = x[kInput - 2 - j];  // reflect
    // STFT magnitude, kBins × kStftFrames.
    mag_.assign(static_cast<size_t>(kBins) * kStftFrames, 0.0f);
    for (int t = 0; t < kStftFrames; ++t) {
      const float* frame = &x[static_cast<size_t>(t) * kHop];
      for (int c = 0; c < kBins; ++c) {
        const float* re = &w_->basis[static_cast<size_t>(c) * kFft];
        const float* im = &w_->basis[static_cast<size_t>(c + kBins) * kFft];
        float a = 0, b = 0;
        for (int n = 0; n < kFft; ++n) {
          a += re[n] * frame[n];
          b += im[n] * frame[n];
        }
        mag_[static_cast<size_t>(c) * kStftFrames + t] = std::sqrt(a * a + b * b);
      }
    }
    w_->encoder[0].run(mag_.data(), kStftFrames, e0_);
    w_->encoder[1].run(e0_.data(), kStftFrames, e1_);
    const int t1 = (kStftFrames - 1) / 2 + 1;
    w_->encoder[2].run(e1_.data(), t1, e2_);
    const int t2 = (t1 - 1) / 2 + 1;
    w_->encoder[3].run(e2_.data(), t2, e3_);  // kHidden × 1
    // LSTM cell.
    std::array<float, 4 * kHidden> g{};
    for (int r = 0; r < 4 * kHidden; ++r) {
      const float* wi = &w_->w_ih[static_cast<size_t>(r) * kHidden];
      const float* wh = &w_->w_hh[static_cast<size_t>(r) * kHidden];
      float acc = w_->b_ih[r] + w_->b_hh[r];
      for (int k = 0; k < kHidden; ++k) acc += wi[k] * e3_[k] + wh[k] * h_[k];
      g[r] = acc;
    }
    float logit = w_->out_b;
    for (int k = 0; k < kHidden; ++k) {
      const float i = sigmoid(g[k]), f = sigmoid(g[kHidden + k]);
      const float gg = std::tanh(g[2 * kHidden + k]), o = sigmoid(g[3 * kHidden + k]);
      c_[k] = f * c_[k] + i * gg;
      h_[k] = o * std::tanh(c_[k]);
      logit += w_->out_w[k] * std::max(h_[k], 0.0f);
    }
    return sigmoid(logit);
  }

  float next(const float* window) override {
    std::array<float, kInput> in{};
    std::copy(context_.begin(), context_.end(), in.begin());
    std::copy(window, window + kWindow, in.begin() + kContext);
    std::copy(window + kWindow - kContext, window + kWindow, context_.begin());
    return run(in.data());
  }

 private:
  std::shared_ptr<const Weights> w_;
  std::array<float, kHidden> h_{}, c_{};
  std::array<float, kContext> context_{};
  std::vector<float> mag_, e0_, e1_, e2_, e3_;
};

class SileroStream final : public Stream {
 public:
  SileroStream(std::shared_ptr<const Weights> w, double threshold) : net_(std::move(w)), threshold_(threshold) {}

  core::Result<bool> is_speech(std::span<const float> frame) override {
    if (frame.size() != static_cast<size_t>(audio::kFrameSamples)) {
      return core::invalid_argument("VAD frames must be " + std::to_string(audio::kFrameSamples) +
                                    " samples, got " + std::to_string(frame.size()));
    }
    pending_.insert(pending_.end(), frame.begin(), frame.end());
    while (pending_.size() >= static_cast<size_t>(kWindow)) {
      const float p = net_.next(pending_.data());
      pending_.erase(pending_.begin(), pending_.begin() + kWindow);
      speech_ = speech_ ? p >= threshold_ - kHysteresis : p >= threshold_;
    }
    return speech_;
  }

 private:
  Network net_;
  double threshold_;
  std::vector<float> pending_;
  bool speech_ = false;
};

class SileroModel final : public Model {
 public:
  SileroModel(std::shared_ptr<const Weights> w, double threshold) : w_(std::move(w)), threshold_(threshold) {}
  std::string name() const override { return "silero"; }
  int frame_samples() const override { return audio::kFrameSamples; }
  core::Result<std::unique_ptr<Stream>> open_stream() const override {
    return std::unique_ptr<Stream>(std::make_unique<SileroStream>(w_, threshold_));
  }
  std::shared_ptr<const Weights> weights() const { return w_; }

 private:
  std::shared_ptr<const Weights> w_;
  double threshold_;
};

// The weights of the 16 kHz branch: the names in Silero's exports end with
// these, after a prefix that differs between the 8 and 16 kHz branches.
core::Result<Weights> pick(const std::map<std::string, FloatTensor>& all) {
  std::string prefix;
  for (const auto& [name, t] : all) {
    const std::string key = "stft.forward_basis_buffer";
    if (name.size() >= key.size() && name.compare(name.size() - key.size(), key.size(), key) == 0 &&
        t.dims == std::vector<int64_t>{2 * kBins, 1, kFft}) {
      prefix = name.substr(0, name.size() - key.size());
    }
  }
  if (prefix.empty()) return core::invalid_argument("not a Silero VAD v5/v6 model: no 16 kHz STFT basis");
  auto get = [&](const std::string& key, std::vector<int64_t> dims) -> core::Result<std::vector<float>> {
    auto it = all.find(prefix + key);
    size_t n = 1;
    for (auto d : dims) n *= static_cast<size_t>(d);
    if (it == all.end() || it->second.dims != dims || it->second.values.size() != n) {
      return core::invalid_argument("not a Silero VAD v5/v6 model: '" + key + "' is missing or has another shape");
    }
    return it->second.values;
  };
  Weights w;
  auto basis = get("stft.forward_basis_buffer", {2 * kBins, 1, kFft});
  if (!basis) return basis.status();
  w.basis = std::move(*basis);
  const std::array<std::array<int, 3>, 4> layers = {{{kHidden, kBins, 1}, {64, kHidden, 2}, {64, 64, 2}, {kHidden, 64, 1}}};
  for (size_t l = 0; l < layers.size(); ++l) {
    auto& conv = w.encoder[l];
    conv.out = layers[l][0];
    conv.in = layers[l][1];
    conv.stride = layers[l][2];
    const std::string stem = "encoder." + std::to_string(l) + ".reparam_conv.";
    auto cw = get(stem + "weight", {conv.out, conv.in, 3});
    if (!cw) return cw.status();
    auto cb = get(stem + "bias", {conv.out});
    if (!cb) return cb.status();
    conv.w = std::move(*cw);
    conv.b = std::move(*cb);
  }
  struct Slot {
    const char* key;
    std::vector<int64_t> dims;
    std::vector<float>* into;
  };
  for (auto& s : std::vector<Slot>{{"decoder.rnn.weight_ih", {4 * kHidden, kHidden}, &w.w_ih},
                                   {"decoder.rnn.weight_hh", {4 * kHidden, kHidden}, &w.w_hh},
                                   {"decoder.rnn.bias_ih", {4 * kHidden}, &w.b_ih},
                                   {"decoder.rnn.bias_hh", {4 * kHidden}, &w.b_hh},
                                   {"decoder.decoder.2.weight", {1, kHidden, 1}, &w.out_w}}) {
    auto v = get(s.key, s.dims);
    if (!v) return v.status();
    *s.into = std::move(*v);
  }
  auto ob = get("decoder.decoder.2.bias", {1});
  if (!ob) return ob.status();
  w.out_b = ob->front();
  return w;
}

}  // namespace

core::Result<std::shared_ptr<const Model>> make_silero_vad(const SileroVadConfig& config) {
  if (!(config.threshold > kHysteresis && config.threshold < 1.0)) {
    return core::invalid_argument("silero threshold must be between 0.15 and 1");
  }
  const std::string remedy =
      ": run scripts/install-deps.sh (it installs the model), give the engine model=PATH, or use --vad webrtc";
  if (config.model_path.empty()) return core::invalid_argument("silero's model= is empty" + remedy);
  // Only a regular file of sensible size: a device or a pipe would be read
  // forever (the model is 2.3 MB).
  std::error_code ec;
  const auto status = fs::status(config.model_path, ec);
  if (!ec && !fs::exists(status)) {
    return core::unavailable("the Silero VAD model " + config.model_path + " is missing" + remedy);
  }
  if (ec) {
    return core::unavailable("the Silero VAD model " + config.model_path + " cannot be read (" + ec.message() + ")" +
                             remedy);
  }
  if (!fs::is_regular_file(status)) {
    return core::invalid_argument("the Silero VAD model " + config.model_path + " is not a regular file" + remedy);
  }
  const auto size = fs::file_size(config.model_path, ec);
  if (ec) {
    return core::unavailable("the Silero VAD model " + config.model_path + " cannot be read (" + ec.message() + ")" +
                             remedy);
  }
  if (size == 0 || size > kMaxModelBytes) {
    return core::invalid_argument("the Silero VAD model " + config.model_path + " is " +
                                  (size == 0 ? std::string("empty") : "larger than 64 MB") + remedy);
  }
  std::ifstream in(config.model_path, std::ios::binary);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return core::unavailable("the Silero VAD model " + config.model_path + " could not be read" + remedy);
  }
  auto all = onnx_float_constants(bytes);
  if (!all) return core::invalid_argument(config.model_path + ": " + all.status().message() + remedy);
  auto w = pick(*all);
  if (!w) return core::invalid_argument(config.model_path + ": " + w.status().message() + remedy);
  return std::shared_ptr<const Model>(
      std::make_shared<SileroModel>(std::make_shared<const Weights>(std::move(*w)), config.threshold));
}

core::Result<std::unique_ptr<SileroProbe>> open_silero_probe(const Model& model) {
  const auto* silero = dynamic_cast<const SileroModel*>(&model);
  if (silero == nullptr) return core::invalid_argument("not a Silero model");
  return std::unique_ptr<SileroProbe>(std::make_unique<Network>(silero->weights()));
}

}  // namespace parley::engines::vad

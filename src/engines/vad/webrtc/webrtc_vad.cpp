// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/vad/webrtc/webrtc_vad.h"

#include <webrtc/modules/audio_processing/include/audio_processing.h>

#include <algorithm>
#include <array>
#include <string>

#include "audio/pcm.h"

namespace parley::engines::vad {
namespace {

class WebrtcStream final : public Stream {
 public:
  explicit WebrtcStream(webrtc::AudioProcessing* apm) : apm_(apm) {}

  core::Result<bool> is_speech(std::span<const float> frame) override {
    if (frame.size() != static_cast<size_t>(audio::kFrameSamples)) {
      return core::invalid_argument("VAD frames must be " + std::to_string(audio::kFrameSamples) +
                                    " samples, got " + std::to_string(frame.size()));
    }
    std::copy(frame.begin(), frame.end(), buf_.begin());
    float* channels[1] = {buf_.data()};
    const webrtc::StreamConfig config(audio::kPipelineRateHz, 1, false);
    int err = apm_->ProcessStream(channels, config, config, channels);
    if (err != webrtc::AudioProcessing::kNoError) {
      return core::internal_error("webrtc ProcessStream failed with " + std::to_string(err));
    }
    return apm_->voice_detection()->stream_has_voice();
  }

 private:
  std::unique_ptr<webrtc::AudioProcessing> apm_;
  std::array<float, audio::kFrameSamples> buf_{};
};

class WebrtcModel final : public Model {
 public:
  explicit WebrtcModel(WebrtcVadConfig config) : config_(config) {}

  std::string name() const override { return "webrtc"; }
  int frame_samples() const override { return audio::kFrameSamples; }

  core::Result<std::unique_ptr<Stream>> open_stream() const override {
    webrtc::AudioProcessing* apm = webrtc::AudioProcessing::Create();
    if (apm == nullptr) return core::unavailable("webrtc AudioProcessing::Create failed");
    auto stream = std::make_unique<WebrtcStream>(apm);  // owns apm from here
    auto* vd = apm->voice_detection();
    const int lk = std::clamp(config_.likelihood, 0, 3);
    if (vd->Enable(true) != 0 ||
        vd->set_likelihood(static_cast<webrtc::VoiceDetection::Likelihood>(lk)) != 0 ||
        vd->set_frame_size_ms(10) != 0) {
      return core::unavailable("webrtc voice detection could not be configured");
    }
    return std::unique_ptr<Stream>(std::move(stream));
  }

 private:
  WebrtcVadConfig config_;
};

}  // namespace

std::shared_ptr<const Model> make_webrtc_vad(WebrtcVadConfig config) {
  return std::make_shared<WebrtcModel>(config);
}

}  // namespace parley::engines::vad

// SPDX-License-Identifier: GPL-3.0-or-later
// The parts of the remote engines that need no server: URLs, the settings
// every remote engine takes, the circuit breaker against a port where
// nothing listens, and the phoneme timings fitted onto speech from another
// voice (measured against that voice's own timings).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <thread>

#include "engines/remote/endpoint.h"
#include "engines/tts/alignment.h"
#include "engines/tts/espeak/espeak_tts.h"

namespace parley::engines {
namespace {

TEST(RemoteUrl, ParsesWhatOperatorsWrite) {
  auto a = remote::parse_url("http://gpu-box:8080/v1/");
  ASSERT_TRUE(a.is_ok());
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "gpu-box");
  EXPECT_EQ(a->port, "8080");
  EXPECT_EQ(a->base_path, "/v1");
  auto b = remote::parse_url("https://translate.example.org");
  ASSERT_TRUE(b.is_ok());
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, "443");
  EXPECT_EQ(b->base_path, "");
  auto v6 = remote::parse_url("http://[::1]:5000");
  ASSERT_TRUE(v6.is_ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "5000");
  for (const char* bad : {"ftp://x", "gpu:8080", "http://", "http://host:80x", "http://user:pw@host"}) {
    EXPECT_FALSE(remote::parse_url(bad).is_ok()) << bad;
  }
}

TEST(RemoteSettings, NeedAUrlAndAKeyThatIsSet) {
  EXPECT_FALSE(remote::endpoint_config("mt", "libretranslate", Settings(), 1000).is_ok());
  ::unsetenv("PARLEY_TEST_MISSING_KEY");
  auto missing = remote::endpoint_config("mt", "libretranslate",
                                         Settings({{"url", "http://h:1"}, {"key-env", "PARLEY_TEST_MISSING_KEY"}}), 1000);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("PARLEY_TEST_MISSING_KEY"), std::string::npos);
  ::setenv("PARLEY_TEST_KEY", "s3cret", 1);
  auto ok = remote::endpoint_config("mt", "libretranslate",
                                    Settings({{"url", "http://h:1"}, {"key-env", "PARLEY_TEST_KEY"}, {"timeout-ms", "250"}}), 1000);
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  EXPECT_EQ(ok->api_key, "s3cret");
  EXPECT_EQ(ok->timeout_ms, 250);
  EXPECT_FALSE(remote::endpoint_config("mt", "x", Settings({{"url", "http://h:1"}, {"timeout-ms", "0"}}), 1000).is_ok());
}

TEST(RemoteEndpoint, ABreakerOpensAfterFailuresAnswersAtOnceAndTriesAgainLater) {
  remote::EndpointConfig c;
  c.kind = "mt";
  c.engine = "test";
  c.url = *remote::parse_url("http://127.0.0.1:9");  // discard: nothing answers
  c.timeout_ms = 500;
  c.retries = 1;
  c.breaker_failures = 2;
  c.breaker_cooldown_ms = 300;
  remote::Endpoint e(c);
  remote::HttpExchange x;
  x.path = "/translate";
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(e.call(x).is_ok());
  EXPECT_EQ(e.stats().breaker_state.load(), static_cast<int>(remote::BreakerState::open));
  EXPECT_EQ(e.stats().breaker_opened.load(), 1u);
  EXPECT_FALSE(e.available());
  const auto t0 = std::chrono::steady_clock::now();
  auto skipped = e.call(x);
  EXPECT_FALSE(skipped.is_ok());
  // No call is made (calls stays 4 below); the time only has to be far from a connect timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500)) << "an open breaker answers at once";
  EXPECT_EQ(e.stats().failures[static_cast<size_t>(remote::Failure::breaker_open)].load(), 1u);
  EXPECT_EQ(e.stats().failures[static_cast<size_t>(remote::Failure::unreachable)].load(), 2u);
  EXPECT_EQ(e.stats().calls.load(), 4u) << "each failed call was retried once";
  // After the cool-down one trial call goes through (and fails again).
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  EXPECT_TRUE(e.available());
  EXPECT_FALSE(e.call(x).is_ok());
  EXPECT_EQ(e.stats().calls.load(), 6u);
  EXPECT_EQ(e.stats().breaker_state.load(), static_cast<int>(remote::BreakerState::open));
}

// Mean |fitted − true| over the phonemes, in milliseconds.
double mean_error_ms(const tts::Speech& fitted, const tts::Speech& truth) {
  const size_t n = std::min(fitted.phonemes.size(), truth.phonemes.size());
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    sum += std::abs(static_cast<double>(fitted.phonemes[i].sample - truth.phonemes[i].sample));
  }
  return n == 0 ? 1e9 : 1000.0 * sum / static_cast<double>(n) / truth.audio.sample_rate_hz;
}

// "Remote" speech is espeak-ng at another rate, whose own phoneme times are
// the truth; the template is espeak-ng at parley's rate. docs/avatar.md.
TEST(PhonemeFit, FollowsSpeechOfAnotherPaceClosely) {
  auto guide_model = tts::make_espeak_tts({});
  ASSERT_TRUE(guide_model.is_ok());
  double fitted_total = 0, unfitted_total = 0;
  int n = 0;
  for (int rate : {120, 220}) {
    tts::EspeakConfig other;
    other.rate_wpm = rate;
    auto remote_model = tts::make_espeak_tts(other);
    ASSERT_TRUE(remote_model.is_ok());
    for (const auto& [lang, text] : std::vector<std::pair<std::string, std::string>>{
             {"en", "The next session starts at ten o'clock in the main hall."},
             {"es", "La próxima sesión empieza a las diez en la sala principal."},
             {"fr", "La prochaine séance commence à dix heures dans la grande salle."}}) {
      auto guide = tts::synthesize_all(**(*guide_model)->open_stream(lang), text);
      auto truth = tts::synthesize_all(**(*remote_model)->open_stream(lang), text);
      ASSERT_TRUE(guide.is_ok() && truth.is_ok());
      ASSERT_EQ(guide->phonemes.size(), truth->phonemes.size()) << lang << ": the same phonemes at any rate";
      auto fitted = tts::fit_timings(*guide, truth->audio);
      ASSERT_EQ(fitted.audio.samples.size(), truth->audio.samples.size());
      // Without fitting: the template's times, converted to the other audio's rate.
      tts::Speech unfitted = *guide;
      const double scale = static_cast<double>(truth->audio.sample_rate_hz) / guide->audio.sample_rate_hz;
      for (auto& p : unfitted.phonemes) p.sample = static_cast<int64_t>(static_cast<double>(p.sample) * scale);
      unfitted.audio.sample_rate_hz = truth->audio.sample_rate_hz;
      const double e_fit = mean_error_ms(fitted, *truth);
      const double e_raw = mean_error_ms(unfitted, *truth);
      std::printf("%s at %d wpm: fitted %.1f ms, unfitted %.1f ms mean phoneme error\n", lang.c_str(), rate, e_fit, e_raw);
      EXPECT_LT(e_fit, e_raw) << lang << " " << rate;
      fitted_total += e_fit;
      unfitted_total += e_raw;
      ++n;
    }
  }
  std::printf("mean over %d: fitted %.1f ms, unfitted %.1f ms\n", n, fitted_total / n, unfitted_total / n);
  // Lip movements within about two video frames of the sound.
  EXPECT_LT(fitted_total / n, 80.0);
}

}  // namespace
}  // namespace parley::engines

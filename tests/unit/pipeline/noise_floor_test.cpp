// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/noise_floor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace parley::pipeline {
namespace {

constexpr int kFrame = 160;

// Gaussian noise at `db` dBFS (its mean power), one 10 ms frame.
std::vector<float> noise_frame(std::mt19937& rng, double db) {
  std::normal_distribution<float> n(0.0F, static_cast<float>(std::pow(10.0, db / 20)));
  std::vector<float> f(kFrame);
  for (auto& s : f) s = n(rng);
  return f;
}

std::vector<float> add(std::vector<float> a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

// Share of `frames` frames that stand out.
double share_standing_out(NoiseFloor& nf, std::mt19937& rng, int frames, double noise_db, double voice_db) {
  int out = 0;
  for (int i = 0; i < frames; ++i) {
    auto f = noise_frame(rng, noise_db);
    if (voice_db > -200) f = add(f, noise_frame(rng, voice_db));
    nf.push(f);
    out += nf.stands_out() ? 1 : 0;
  }
  return static_cast<double>(out) / frames;
}

TEST(NoiseFloor, InAQuietRoomAVoiceStandsOutAndSilenceDoesNot) {
  std::mt19937 rng(1);
  NoiseFloor nf({});
  EXPECT_EQ(share_standing_out(nf, rng, 100, -90, -300), 0.0);
  EXPECT_GT(share_standing_out(nf, rng, 100, -90, -30), 0.95);
  // Levels are smoothed over 30 ms: the voice's last two frames linger.
  EXPECT_LE(share_standing_out(nf, rng, 50, -90, -300), 2.0 / 50);
  EXPECT_DOUBLE_EQ(nf.floor_db(), -70.0) << "never below a very quiet room";
}

TEST(NoiseFloor, SteadyNoiseIsBackgroundAndAVoiceTenDbAboveItStandsOut) {
  std::mt19937 rng(2);
  NoiseFloor nf({});
  share_standing_out(nf, rng, 400, -40, -300);  // four seconds of the room
  for (int round = 0; round < 3; ++round) {
    EXPECT_GT(share_standing_out(nf, rng, 80, -40, -30), 0.9) << "speech at +10 dB SNR";
    EXPECT_LT(share_standing_out(nf, rng, 40, -40, -300), 0.1) << "the pause after it";
  }
  EXPECT_NEAR(nf.floor_db(), -40, 3);
}

TEST(NoiseFloor, TheFloorFollowsANoiseThatStartsMidway) {
  std::mt19937 rng(3);
  NoiseFloor nf({});
  share_standing_out(nf, rng, 300, -80, -300);
  // A fan starts: loud at first, then background within the window.
  share_standing_out(nf, rng, 450, -35, -300);
  EXPECT_LT(share_standing_out(nf, rng, 100, -35, -300), 0.05);
  EXPECT_NEAR(nf.floor_db(), -35, 3);
}

TEST(NoiseFloor, DisabledEverythingStandsOut) {
  std::mt19937 rng(4);
  NoiseFloor nf({.enabled = false});
  EXPECT_EQ(share_standing_out(nf, rng, 50, -90, -300), 1.0);
}

}  // namespace
}  // namespace parley::pipeline

// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/sessions.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <filesystem>

#include "audio/pcm.h"
#include "audio/wav_io.h"
#include "support/librivox.h"
#include "support/server_process.h"

namespace parley::testing {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

std::string temp_db(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("parley-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto p = dir / (name + ".db");
  fs::remove(p);
  return p.string();
}

Created create_session(unsigned short port, const json& body, const std::string& api_key) {
  auto r = http_request(port, "POST", "/api/sessions", body.dump(), api_key);
  EXPECT_EQ(r.status, 201) << r.body;
  auto j = json::parse(r.body, nullptr, false);
  if (r.status != 201 || !j.is_object()) return {};
  return {j["code"], j["speakerToken"], j["listenerKey"]};
}

int control(unsigned short port, const Created& s, const std::string& action, const std::string& token) {
  return http_request(port, "POST", "/api/sessions/" + s.code + "/" + action, "{}",
                      token.empty() ? s.token : token)
      .status;
}

bool join_speaker(WsClient& c, const Created& s) {
  c.send_json({{"type", "join"}, {"role", "speaker"}, {"code", s.code}, {"token", s.token}, {"sampleRate", 16000}});
  return c.wait_for_type("welcome", 5s);
}

WsClient& join_listener(WsClient& c, const std::string& code, const std::string& lang, int64_t since,
                        const std::string& speech) {
  json join = {{"type", "join"}, {"role", "listener"}, {"code", code}, {"language", lang}, {"since", since}};
  if (!speech.empty()) join["speech"] = speech;
  c.send_json(join);
  return c;
}

std::vector<int16_t> recording_pcm(size_t index, double trailing_silence_s) {
  auto recs = librivox_recordings();
  auto pcm = audio::read_audio_file_16k(recs.at(index).wav_path);
  EXPECT_TRUE(pcm.is_ok());
  auto s = audio::to_pcm16(pcm->samples);
  s.resize(s.size() + static_cast<size_t>(trailing_silence_s * 16000), 0);
  return s;
}

void stream_real_time(WsClient& speaker, const std::vector<int16_t>& pcm, uint32_t& seq) {
  constexpr size_t kFrame = 320;
  auto next = std::chrono::steady_clock::now();
  for (size_t off = 0; off < pcm.size(); off += kFrame) {
    std::vector<int16_t> f(pcm.begin() + static_cast<long>(off),
                           pcm.begin() + static_cast<long>(std::min(pcm.size(), off + kFrame)));
    speaker.send_frame(++seq, f);
    next += std::chrono::milliseconds(20);
    std::this_thread::sleep_until(next);
  }
}

}  // namespace parley::testing

// SPDX-License-Identifier: GPL-3.0-or-later
// WHIP ingest with a real non-browser publisher: Debian's `whip-client`
// (simple-whip-client, GStreamer) sends real LibriVox speech as Opus over
// WebRTC to a real `parley serve`; the transcript must match what was read.
// Also the endpoints' answers to bad requests.
//
// Runs inside tests/tools/in-private-net (ctest does this): ICE needs an
// address that is not a loopback interface's, and nothing may leave the host.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "audio/pcm.h"
#include "audio/wav_io.h"
#include "support/librivox.h"
#include "support/server_process.h"
#include "transcript/wer.h"

namespace parley {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::eventually;
using testing::http_request;
using testing::metric;
using testing::ServerProcess;

fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("parley-whip-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

struct Created {
  std::string code, token;
};

Created create_session(unsigned short port) {
  auto r = http_request(port, "POST", "/api/sessions",
                        json{{"name", "WHIP"}, {"sourceLanguage", "en"}, {"targets", {"es"}}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  auto j = json::parse(r.body);
  return {j["code"], j["speakerToken"]};
}



// The recordings one after another with pauses, after a lead-in that covers
// the WebRTC connection (whip-client plays its file from the start, connected or not).
struct Speech {
  std::string wav;
  std::string reference;
  double seconds = 0;
};
Speech joined_recordings(const fs::path& dir) {
  std::vector<int16_t> all(static_cast<size_t>(2.5 * 16000), 0);
  std::string reference;
  for (const auto& r : testing::librivox_recordings()) {
    auto pcm = audio::read_audio_file_16k(r.wav_path);
    EXPECT_TRUE(pcm.is_ok());
    auto s = audio::to_pcm16(pcm->samples);
    all.insert(all.end(), s.begin(), s.end());
    all.resize(all.size() + 16000, 0);  // 1 s between readings
    reference += r.reference + " ";
  }
  all.resize(all.size() + 16000, 0);
  Speech out;
  out.wav = (dir / "speech.wav").string();
  out.reference = reference;
  out.seconds = static_cast<double>(all.size()) / 16000.0;
  audio::MonoPcm pcm{audio::from_pcm16(all), 16000};
  EXPECT_TRUE(audio::write_wav16(out.wav, pcm).is_ok());
  return out;
}

// Starts whip-client; returns its pid. Its log goes to `log`.
pid_t start_whip_client(const std::string& url, const std::string& token, const std::string& wav,
                        const std::string& log) {
  const char* stand_in = std::getenv("PARLEY_GUPNP_STAND_IN_DIR");
  // identity sync=true: the file is sent at the pace it was spoken, like a microphone.
  const std::string pipeline = "filesrc location=" + wav +
                               " ! wavparse ! audioconvert ! audioresample ! identity sync=true ! "
                               "opusenc bitrate=32000 ! rtpopuspay pt=100 ssrc=1 ! queue ! "
                               "application/x-rtp,media=audio,encoding-name=OPUS,payload=100";
  pid_t pid = ::fork();
  if (pid == 0) {
    if (stand_in) ::setenv("LD_LIBRARY_PATH", stand_in, 1);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execlp("whip-client", "whip-client", "-u", url.c_str(), "-t", token.c_str(), "-n", "-o", "-A",
             pipeline.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// A well-formed audio offer (its ICE credentials and fingerprint are made up:
// enough for the checks before negotiation).
const std::string kAudioOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\na=setup:actpass\r\n"
    "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
    "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=sendonly\r\n";

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class WebRtcIngestTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(testing::librivox_recordings().empty()) << "install pocketsphinx-testdata"; }
};

TEST_F(WebRtcIngestTest, WhipClientPublishesSpeechThatIsTranscribedAndTranslated) {
  const auto dir = temp_dir();
  ServerProcess server((dir / "whip.db").string(), {"--host", "0.0.0.0", "--max-rtc-peers", "1"});
  const auto port = server.port();
  const auto s = create_session(port);
  ASSERT_EQ(http_request(port, "POST", "/api/sessions/" + s.code + "/start", "{}", s.token).status, 200);
  const auto speech = joined_recordings(dir);
  const std::string log = (dir / "whip-client.log").string();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/whip/" + s.code;

  pid_t client = start_whip_client(url, s.token, speech.wav, log);
  // Connected: the server counts one publisher.
  ASSERT_TRUE(eventually([&] { return metric(port, "parley_webrtc_peers{kind=\"whip\"}") == 1; }, 15s))
      << read_file(log) << read_file(server.stderr_path());
  // The limit holds: a second publisher is told to come back later.
  auto second = http_request(port, "POST", "/whip/" + s.code, kAudioOffer, s.token, "application/sdp");
  EXPECT_EQ(second.status, 429) << second.body;
  EXPECT_EQ(metric(port, "parley_webrtc_refused_total"), 1);
  // The whole recording plays in real time; then whip-client is stopped
  // like a user would (Ctrl-C), which DELETEs its resource.
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(speech.seconds * 1000)));
  ::kill(client, SIGINT);
  int status = 0;
  ::waitpid(client, &status, 0);
  EXPECT_TRUE(eventually([&] { return metric(port, "parley_webrtc_peers{kind=\"whip\"}") == 0; }, 10s));
  EXPECT_EQ(metric(port, "parley_webrtc_peers_closed_total{reason=\"ended\"}"), 1) << read_file(log);
  EXPECT_EQ(metric(port, "parley_webrtc_peers_closed_total{reason=\"failed\"}"), 0);
  const std::string client_log = read_file(log);
  EXPECT_NE(client_log.find("PeerConnection connected"), std::string::npos) << client_log;

  // What was said is what the transcript says (within the recogniser's accuracy).
  json items;
  auto history = [&] {
    auto r = http_request(port, "GET", "/api/sessions/" + s.code + "/history?limit=100");
    items = json::parse(r.body)["items"];
    return items.size();
  };
  size_t last = 0;
  // Done when no new final arrived for 3 s (bounded at 30 s).
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(3s);
    const size_t n = history();
    if (n > 0 && n == last) break;
    last = n;
  }
  ASSERT_GE(items.size(), 3u) << "too few utterances from " << speech.seconds << " s of speech";
  std::string hypothesis;
  size_t translated = 0;
  for (const auto& it : items) {
    hypothesis += it["source"].get<std::string>() + " ";
    if (it["translations"].contains("es") && !it["translations"]["es"].get<std::string>().empty()) ++translated;
  }
  const auto counts = transcript::word_errors(transcript::normalise_words(speech.reference),
                                              transcript::normalise_words(hypothesis));
  std::printf("WHIP ingest: %zu utterances, WER %.1f %% over %zu words\n", items.size(), counts.wer() * 100,
              counts.n_reference);
  // The WebSocket path reads these recordings at about 20-25 % WER; Opus over
  // WebRTC must not make it much worse.
  EXPECT_LE(counts.wer(), 0.40) << hypothesis;
  EXPECT_EQ(translated, items.size());
  EXPECT_GT(metric(port, "parley_audio_frames_received_total"), speech.seconds * 50 * 0.8);
}

TEST_F(WebRtcIngestTest, APublisherThatVanishesIsClosedAndItsUtteranceFinished) {
  const auto dir = temp_dir();
  ServerProcess server((dir / "vanish.db").string(), {"--host", "0.0.0.0", "--rtc-timeout-s", "3"});
  const auto port = server.port();
  const auto s = create_session(port);
  ASSERT_EQ(http_request(port, "POST", "/api/sessions/" + s.code + "/start", "{}", s.token).status, 200);
  const auto speech = joined_recordings(dir);
  const std::string log = (dir / "vanish-client.log").string();
  pid_t client = start_whip_client("http://127.0.0.1:" + std::to_string(port) + "/whip/" + s.code, s.token,
                                   speech.wav, log);
  ASSERT_TRUE(eventually([&] { return metric(port, "parley_webrtc_peers{kind=\"whip\"}") == 1; }, 15s))
      << read_file(log);
  // Mid-sentence, the publisher dies without a word (no DELETE, no ICE close).
  ASSERT_TRUE(eventually([&] { return metric(port, "parley_audio_frames_received_total") > 250; }, 15s));
  ::kill(client, SIGKILL);
  int status = 0;
  ::waitpid(client, &status, 0);
  EXPECT_TRUE(eventually([&] { return metric(port, "parley_webrtc_peers{kind=\"whip\"}") == 0; }, 10s));
  EXPECT_EQ(metric(port, "parley_webrtc_peers_closed_total{reason=\"timeout\"}"), 1);
  // What it said before dying is transcribed, not left hanging.
  EXPECT_TRUE(eventually([&] {
    auto r = http_request(port, "GET", "/api/sessions/" + s.code + "/history");
    return !json::parse(r.body)["items"].empty();
  }, 15s));
}

TEST_F(WebRtcIngestTest, EndpointsRefuseBadRequestsClearly) {
  const auto dir = temp_dir();
  ServerProcess server((dir / "errors.db").string(), {"--host", "0.0.0.0"});
  const auto port = server.port();
  const auto s = create_session(port);
  const std::string offer = kAudioOffer;
  const std::string whip = "/whip/" + s.code;
  EXPECT_EQ(http_request(port, "POST", whip, offer, "", "application/sdp").status, 401);
  EXPECT_EQ(http_request(port, "POST", whip, offer, "wrong-token", "application/sdp").status, 403);
  EXPECT_EQ(http_request(port, "POST", whip, offer, s.token, "application/json").status, 415);
  auto garbage = http_request(port, "POST", whip, "hello", s.token, "application/sdp");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_NE(garbage.body.find("SDP"), std::string::npos) << garbage.body;
  const std::string video = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n";
  auto no_audio = http_request(port, "POST", whip, video, s.token, "application/sdp");
  EXPECT_EQ(no_audio.status, 400);
  EXPECT_NE(no_audio.body.find("audio"), std::string::npos) << no_audio.body;
  EXPECT_EQ(http_request(port, "POST", "/whip/000000", offer, s.token, "application/sdp").status, 404);
  EXPECT_EQ(http_request(port, "POST", "/whep/" + s.code + "/xx", offer, "", "application/sdp").status, 404);
  EXPECT_EQ(http_request(port, "DELETE", whip + "/0123456789abcdef").status, 404);
  EXPECT_EQ(http_request(port, "GET", whip).status, 405);
  EXPECT_EQ(http_request(port, "OPTIONS", whip).status, 204);
  // A resource is ended only through its own URL: the id alone, under
  // another session's code or another language, is not found.
  const auto other = create_session(port);
  auto published = http_request(port, "POST", whip, offer, s.token, "application/sdp");
  ASSERT_EQ(published.status, 201) << published.body;
  auto played = http_request(port, "POST", "/whep/" + s.code + "/es", offer, "", "application/sdp");
  ASSERT_EQ(played.status, 201) << played.body;
  const std::string whip_id = published.location.substr(published.location.rfind('/') + 1);
  const std::string whep_id = played.location.substr(played.location.rfind('/') + 1);
  EXPECT_EQ(http_request(port, "DELETE", "/whip/" + other.code + "/" + whip_id).status, 404);
  EXPECT_EQ(http_request(port, "PATCH", "/whip/" + other.code + "/" + whip_id, "a=end-of-candidates\r\n", "",
                         "application/trickle-ice-sdpfrag").status, 404);
  EXPECT_EQ(http_request(port, "DELETE", "/whep/" + s.code + "/fr/" + whep_id).status, 404);
  EXPECT_EQ(http_request(port, "DELETE", "/whep/" + other.code + "/es/" + whep_id).status, 404);
  EXPECT_EQ(metric(port, "parley_webrtc_peers{kind=\"whip\"}"), 1);
  EXPECT_EQ(metric(port, "parley_webrtc_peers{kind=\"whep\"}"), 1);
  EXPECT_EQ(http_request(port, "DELETE", published.location).status, 200);
  EXPECT_EQ(http_request(port, "DELETE", played.location).status, 200);
  EXPECT_TRUE(eventually([&] { return metric(port, "parley_webrtc_peers{kind=\"whip\"}") == 0; }, 5s));
  // The server still answers and holds no peer.
  EXPECT_TRUE(eventually([&] { return metric(port, "parley_webrtc_peers{kind=\"whep\"}") == 0; }, 5s));
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace parley

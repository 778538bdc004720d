// SPDX-License-Identifier: GPL-3.0-or-later
// parley-rtc-load: measures parley's WebRTC relay.
//
// It creates a session, publishes a click train over WHIP (a 30 ms 1 kHz
// burst every 2 s, sent in real time), and connects N WHEP players to the
// session's source language, which relays the speaker's own voice. K of the
// players ("probes") decode what they receive and time each click's onset:
// mouth-to-ear latency of the relay path = onset played − burst sent, on one
// clock (same process). Probes play into a clock-synchronised sink behind a
// jitter buffer of --jitter-ms, as a receiver's audio output would (the sound
// card's own buffer is not included). The others only receive, to keep this
// tool light.
//
// With --server-pid it reads the server's CPU and RSS from /proc: first with
// the publisher alone, then with N players, and reports the difference per
// player. Run it and the server inside tests/tools/in-private-net (ICE needs
// a non-loopback address; nothing leaves the namespace).
#define GST_USE_UNSTABLE_API 1
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/http_client.h"
#include "core/clock.h"
#include "core/process_stats.h"
#include "rtc/webrtcbin_options.h"

namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr int kRate = 48000;
constexpr int kFrame = kRate / 100;  // 10 ms
constexpr int kClickEveryFrames = 200;  // 2 s: latencies up to 1.9 s match their own click
constexpr int kClickFrames = 3;

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  int players = 20;
  int probes = 4;
  int duration_s = 30;
  int baseline_s = 10;
  int jitter_ms = 60;
  int server_pid = 0;
  bool json = false;
};

// Nanoseconds on the monotonic clock: sender and probes share it.
int64_t core_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(parley::core::Clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------- peers

struct Peer {
  int index = 0;
  bool publisher = false;
  bool probe = false;
  GstElement* pipeline = nullptr;
  GstElement* webrtc = nullptr;
  std::string resource;
  std::atomic<bool> connected{false}, failed{false};
  std::mutex mu;
  std::condition_variable cv;
  bool gathered = false;
  // Probes: onset detection state (streaming thread).
  double quiet_s = 1.0;
  std::vector<int64_t> onsets_ns;
  std::atomic<uint64_t> buffers{0};
};

gboolean quit_loop(gpointer loop) {
  g_main_loop_quit(static_cast<GMainLoop*>(loop));
  return G_SOURCE_REMOVE;
}

void on_gathering(GstElement* webrtc, GParamSpec*, gpointer data) {
  auto* p = static_cast<Peer*>(data);
  GstWebRTCICEGatheringState s{};
  g_object_get(webrtc, "ice-gathering-state", &s, nullptr);
  if (s != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
  std::lock_guard lock(p->mu);
  p->gathered = true;
  p->cv.notify_all();
}

void on_connection(GstElement* webrtc, GParamSpec*, gpointer data) {
  auto* p = static_cast<Peer*>(data);
  GstWebRTCPeerConnectionState s{};
  g_object_get(webrtc, "connection-state", &s, nullptr);
  if (s == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) p->connected = true;
  if (s == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) p->failed = true;
}

// Probes: find click onsets in 2.5 ms windows of the decoded audio.
GstFlowReturn on_sample(GstAppSink* sink, gpointer data) {
  auto* p = static_cast<Peer*>(data);
  const int64_t arrived = core_now_ns();
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (!sample) return GST_FLOW_EOS;
  GstBuffer* buf = gst_sample_get_buffer(sample);
  GstMapInfo map;
  if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
    const auto* pcm = reinterpret_cast<const int16_t*>(map.data);
    const size_t n = map.size / 2;
    constexpr size_t kWindow = kRate / 400;
    for (size_t at = 0; at + kWindow <= n; at += kWindow) {
      double sum = 0;
      for (size_t i = at; i < at + kWindow; ++i) sum += static_cast<double>(pcm[i]) * pcm[i];
      const double rms = std::sqrt(sum / kWindow) / 32768.0;
      if (rms > 0.05) {
        if (p->quiet_s >= 0.2) {
          // The sink is synchronised: a buffer arrives when its first sample
          // would play, so this window plays `at` samples later.
          const auto after_ns = static_cast<int64_t>(static_cast<double>(at) * 1e9 / kRate);
          std::lock_guard lock(p->mu);
          p->onsets_ns.push_back(arrived + after_ns);
        }
        p->quiet_s = 0;
      } else {
        p->quiet_s += static_cast<double>(kWindow) / kRate;
      }
    }
    gst_buffer_unmap(buf, &map);
  }
  p->buffers.fetch_add(1);
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

void on_pad(GstElement*, GstPad* pad, gpointer data) {
  auto* p = static_cast<Peer*>(data);
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  const char* desc = p->probe ? "rtpopusdepay ! opusdec ! audioconvert ! audioresample ! "
                                "audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink name=out sync=true"
                              : "fakesink name=out sync=false async=false";
  GstElement* bin = gst_parse_bin_from_description(desc, TRUE, nullptr);
  if (p->probe) {
    GstElement* sink = gst_bin_get_by_name(GST_BIN(bin), "out");
    GstAppSinkCallbacks cb{};
    cb.new_sample = on_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, p, nullptr);
    gst_object_unref(sink);
  }
  gst_bin_add(GST_BIN(p->pipeline), bin);
  gst_element_sync_state_with_parent(bin);
  GstPad* sinkpad = gst_element_get_static_pad(bin, "sink");
  gst_pad_link(pad, sinkpad);
  gst_object_unref(sinkpad);
}

// Offer → (gathering) → POST → answer. Runs on a worker thread.
bool negotiate(const Options& o, Peer& p, const std::string& target, const std::string& token) {
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(p.webrtc, "create-offer", nullptr, promise);
  gst_promise_wait(promise);
  GstWebRTCSessionDescription* offer = nullptr;
  gst_structure_get(gst_promise_get_reply(promise), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
  gst_promise_unref(promise);
  if (!offer) return false;
  g_signal_emit_by_name(p.webrtc, "set-local-description", offer, nullptr);
  gst_webrtc_session_description_free(offer);
  {
    std::unique_lock lock(p.mu);
    p.cv.wait_for(lock, std::chrono::seconds(5), [&] { return p.gathered; });
  }
  GstWebRTCSessionDescription* local = nullptr;
  g_object_get(p.webrtc, "local-description", &local, nullptr);
  if (!local) return false;
  gchar* text = gst_sdp_message_as_text(local->sdp);
  std::string sdp = text;
  g_free(text);
  gst_webrtc_session_description_free(local);
  parley::tools::HttpResult r;
  try {
    r = parley::tools::http_call(o.host, o.port, http::verb::post, target, sdp, token, "application/sdp");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peer %d: %s\n", p.index, e.what());
    return false;
  }
  if (r.status != 201) {
    std::fprintf(stderr, "peer %d: HTTP %d %s\n", p.index, r.status, r.body.c_str());
    return false;
  }
  p.resource = r.location;
  GstSDPMessage* msg = nullptr;
  gst_sdp_message_new_from_text(r.body.c_str(), &msg);
  GstWebRTCSessionDescription* answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, msg);
  GstPromise* set = gst_promise_new();
  g_signal_emit_by_name(p.webrtc, "set-remote-description", answer, set);
  gst_promise_wait(set);
  gst_promise_unref(set);
  gst_webrtc_session_description_free(answer);
  return true;
}

void watch(Peer& p) {
  parley::rtc::disable_upnp(p.webrtc);
  g_signal_connect(p.webrtc, "notify::ice-gathering-state", G_CALLBACK(on_gathering), &p);
  g_signal_connect(p.webrtc, "notify::connection-state", G_CALLBACK(on_connection), &p);
}

std::unique_ptr<Peer> make_player(const Options& o, int index, bool probe) {
  auto p = std::make_unique<Peer>();
  p->index = index;
  p->probe = probe;
  p->pipeline = gst_pipeline_new(nullptr);
  p->webrtc = gst_element_factory_make("webrtcbin", nullptr);
  g_object_set(p->webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency",
               static_cast<guint>(o.jitter_ms), nullptr);
  gst_bin_add(GST_BIN(p->pipeline), p->webrtc);
  watch(*p);
  g_signal_connect(p->webrtc, "pad-added", G_CALLBACK(on_pad), p.get());
  GstCaps* caps = gst_caps_from_string("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111");
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_signal_emit_by_name(p->webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
  gst_caps_unref(caps);
  if (trans) gst_object_unref(trans);
  gst_element_set_state(p->pipeline, GST_STATE_PLAYING);
  return p;
}

// The publisher: clicks from an appsrc fed in real time by `run_clicks`.
std::unique_ptr<Peer> make_publisher(GstElement** appsrc) {
  auto p = std::make_unique<Peer>();
  p->publisher = true;
  GError* err = nullptr;
  p->pipeline = gst_parse_launch(
      "appsrc name=src is-live=true format=time do-timestamp=true "
      "caps=audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1 ! "
      "opusenc frame-size=10 bitrate=64000 ! rtpopuspay pt=111 ! "
      "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111 ! w. "
      "webrtcbin name=w bundle-policy=max-bundle",
      &err);
  if (!p->pipeline) {
    std::fprintf(stderr, "publisher: %s\n", err ? err->message : "?");
    std::exit(1);
  }
  p->webrtc = gst_bin_get_by_name(GST_BIN(p->pipeline), "w");
  *appsrc = gst_bin_get_by_name(GST_BIN(p->pipeline), "src");
  watch(*p);
  gst_element_set_state(p->pipeline, GST_STATE_PLAYING);
  return p;
}

// Pushes 10 ms frames at real-time pace until `stop`; records click send times.
void run_clicks(GstElement* appsrc, std::atomic<bool>& stop, std::mutex& mu, std::vector<int64_t>& sent) {
  std::vector<int16_t> frame(kFrame);
  int64_t next = core_now_ns();
  for (uint64_t n = 0; !stop; ++n) {
    const int phase = static_cast<int>(n % kClickEveryFrames);
    for (int i = 0; i < kFrame; ++i) {
      const double t = static_cast<double>(phase * kFrame + i) / kRate;
      frame[static_cast<size_t>(i)] =
          phase < kClickFrames ? static_cast<int16_t>(16000 * std::sin(2 * M_PI * 1000 * t)) : int16_t{0};
    }
    if (phase == 0) {
      std::lock_guard lock(mu);
      sent.push_back(core_now_ns());
    }
    GstBuffer* buf = gst_buffer_new_memdup(frame.data(), frame.size() * 2);
    gst_app_src_push_buffer(GST_APP_SRC(appsrc), buf);
    next += 10'000'000;
    const int64_t wait = next - core_now_ns();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
  }
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

void usage() {
  std::printf(
      "usage: parley-rtc-load [options]\n\n"
      "Measures parley's WebRTC relay: a WHIP publisher sends clicks in real time to a new\n"
      "session; N WHEP players receive the relayed voice; probes time each click\n"
      "(mouth-to-ear on one clock). Prints p50/p95/p99 latency and, with --server-pid, the\n"
      "server's CPU and memory per player. Run it and the server inside\n"
      "tests/tools/in-private-net.\n\noptions:\n"
      "  --server HOST:PORT   parley server (default 127.0.0.1:8080)\n"
      "  --players N          WHEP players (default 20)\n"
      "  --probes K           players that decode and time the clicks (default 4)\n"
      "  --duration S         seconds measured with every player connected (default 30)\n"
      "  --baseline S         seconds measured with the publisher alone (default 10)\n"
      "  --jitter-ms MS       the players' jitter buffer (default 60; browsers adapt, ~40-80 ms)\n"
      "  --server-pid PID     read the server's CPU and RSS from /proc\n"
      "  --json               one JSON object on stdout\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "parley-rtc-load: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else if (a == "--server") {
      const std::string v = value();
      const auto colon = v.rfind(':');
      o.host = v.substr(0, colon);
      o.port = static_cast<unsigned short>(std::stoi(v.substr(colon + 1)));
    } else if (a == "--players") {
      o.players = std::stoi(value());
    } else if (a == "--probes") {
      o.probes = std::stoi(value());
    } else if (a == "--duration") {
      o.duration_s = std::stoi(value());
    } else if (a == "--baseline") {
      o.baseline_s = std::stoi(value());
    } else if (a == "--jitter-ms") {
      o.jitter_ms = std::stoi(value());
    } else if (a == "--server-pid") {
      o.server_pid = std::stoi(value());
    } else if (a == "--json") {
      o.json = true;
    } else {
      std::fprintf(stderr, "parley-rtc-load: unknown option %s (see --help)\n", a.c_str());
      return 2;
    }
  }
  if (o.players < 0 || o.players > 2000 || o.probes < 0 || o.duration_s < 1 || o.duration_s > 3600) {
    std::fprintf(stderr, "parley-rtc-load: players 0-2000, duration 1-3600 s\n");
    return 2;
  }
  o.probes = std::min(o.probes, o.players);
  gst_init(&argc, &argv);
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  std::thread glib([loop] { g_main_loop_run(loop); });

  // A session, started.
  auto created = parley::tools::http_call(o.host, o.port, http::verb::post, "/api/sessions",
                                          json{{"name", "parley-rtc-load"}, {"sourceLanguage", "en"}}.dump());
  if (created.status != 201) {
    std::fprintf(stderr, "cannot create a session: HTTP %d %s\n", created.status, created.body.c_str());
    return 1;
  }
  const auto cj = json::parse(created.body);
  const std::string code = cj["code"], token = cj["speakerToken"];
  parley::tools::http_call(o.host, o.port, http::verb::post, "/api/sessions/" + code + "/start", "{}", token);

  GstElement* appsrc = nullptr;
  auto publisher = make_publisher(&appsrc);
  std::atomic<bool> stop{false};
  std::mutex sent_mu;
  std::vector<int64_t> sent;
  std::thread clicks([&] { run_clicks(appsrc, stop, sent_mu, sent); });
  if (!negotiate(o, *publisher, "/whip/" + code, token)) {
    std::fprintf(stderr, "the WHIP publisher could not negotiate\n");
    return 1;
  }
  for (int i = 0; i < 100 && !publisher->connected; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!publisher->connected) {
    std::fprintf(stderr, "the WHIP publisher did not connect (run inside tests/tools/in-private-net?)\n");
    return 1;
  }
  std::fprintf(stderr, "session %s: publisher connected; baseline %d s…\n", code.c_str(), o.baseline_s);
  const auto b0 = parley::core::read_process_stats(o.server_pid);
  std::this_thread::sleep_for(std::chrono::seconds(o.baseline_s));
  const auto b1 = parley::core::read_process_stats(o.server_pid);

  // Players, four negotiations at a time.
  std::vector<std::unique_ptr<Peer>> players;
  for (int i = 0; i < o.players; ++i) players.push_back(make_player(o, i, i < o.probes));
  std::atomic<int> next{0}, negotiated{0};
  std::vector<std::thread> workers;
  const int64_t join_start = core_now_ns();
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < o.players; i = next++) {
        if (negotiate(o, *players[static_cast<size_t>(i)], "/whep/" + code + "/en", "")) ++negotiated;
        if (i % 10 == 9) std::fprintf(stderr, "  %d/%d players negotiated\n", negotiated.load(), o.players);
      }
    });
  }
  for (auto& t : workers) t.join();
  for (int i = 0; i < 100; ++i) {
    const auto up = std::count_if(players.begin(), players.end(), [](const auto& p) { return p->connected.load(); });
    if (up == o.players) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double join_s = static_cast<double>(core_now_ns() - join_start) / 1e9;
  const auto connected = std::count_if(players.begin(), players.end(), [](const auto& p) { return p->connected.load(); });
  std::fprintf(stderr, "%ld/%d players connected in %.1f s; measuring %d s…\n", static_cast<long>(connected),
               o.players, join_s, o.duration_s);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  for (auto& p : players) {
    std::lock_guard lock(p->mu);
    p->onsets_ns.clear();
  }
  const int64_t m_start = core_now_ns();
  const auto m0 = parley::core::read_process_stats(o.server_pid);
  std::this_thread::sleep_for(std::chrono::seconds(o.duration_s));
  const auto m1 = parley::core::read_process_stats(o.server_pid);
  std::vector<uint64_t> received;
  for (const auto& p : players) received.push_back(p->buffers.load());

  // Latency: each onset against the last click sent before it.
  std::vector<double> latency_ms;
  size_t unmatched = 0;
  {
    std::lock_guard lock(sent_mu);
    for (auto& p : players) {
      if (!p->probe) continue;
      std::lock_guard plock(p->mu);
      for (int64_t onset : p->onsets_ns) {
        if (onset < m_start) continue;
        auto it = std::upper_bound(sent.begin(), sent.end(), onset);
        if (it == sent.begin()) {
          ++unmatched;
          continue;
        }
        const double ms = static_cast<double>(onset - *(it - 1)) / 1e6;
        if (ms > 1900) {
          ++unmatched;
        } else {
          latency_ms.push_back(ms);
        }
      }
    }
  }
  const size_t clicks_sent = static_cast<size_t>(o.duration_s * 100 / kClickEveryFrames);

  // Done: resources deleted, session ended.
  stop = true;
  clicks.join();
  for (auto& p : players) {
    if (!p->resource.empty()) parley::tools::http_call(o.host, o.port, http::verb::delete_, p->resource, "");
    gst_element_set_state(p->pipeline, GST_STATE_NULL);
    gst_object_unref(p->pipeline);
  }
  if (!publisher->resource.empty()) parley::tools::http_call(o.host, o.port, http::verb::delete_, publisher->resource, "");
  gst_element_set_state(publisher->pipeline, GST_STATE_NULL);
  parley::tools::http_call(o.host, o.port, http::verb::post, "/api/sessions/" + code + "/end", "{}", token);
  g_idle_add(quit_loop, loop);
  glib.join();

  const double base_cpu = b1.ok ? (b1.cpu_seconds - b0.cpu_seconds) / o.baseline_s : 0;
  const double load_cpu = m1.ok ? (m1.cpu_seconds - m0.cpu_seconds) / o.duration_s : 0;
  const double per_player_cpu = connected > 0 ? (load_cpu - base_cpu) / static_cast<double>(connected) : 0;
  const double per_player_kb = connected > 0 ? (m1.resident_bytes - b1.resident_bytes) / 1024.0 / static_cast<double>(connected) : 0;
  json out = {
      {"players", o.players},
      {"connected", connected},
      {"join_seconds", join_s},
      {"jitter_ms", o.jitter_ms},
      {"latency_ms", {{"samples", latency_ms.size()}, {"p50", quantile(latency_ms, 0.5)},
                      {"p95", quantile(latency_ms, 0.95)}, {"p99", quantile(latency_ms, 0.99)},
                      {"max", quantile(latency_ms, 1.0)}, {"unmatched", unmatched},
                      {"clicks_per_probe", clicks_sent}}},
      {"buffers_received_min", received.empty() ? 0 : *std::min_element(received.begin(), received.end())},
  };
  if (o.server_pid > 0) {
    out["server"] = {{"cpu_cores_publisher_only", base_cpu}, {"cpu_cores_with_players", load_cpu},
                     {"cpu_percent_of_a_core_per_player", per_player_cpu * 100},
                     {"rss_mb_publisher_only", b1.resident_bytes / 1e6}, {"rss_mb_with_players", m1.resident_bytes / 1e6},
                     {"rss_kb_per_player", per_player_kb}, {"threads", m1.threads}};
  }
  if (o.json) {
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("players %d (connected %ld, joined in %.1f s), probes %d, jitter buffer %d ms\n", o.players,
                static_cast<long>(connected), join_s, o.probes, o.jitter_ms);
    std::printf("mouth-to-ear (relay, click sent → heard): p50 %.1f  p95 %.1f  p99 %.1f  max %.1f ms  (%zu onsets, %zu unmatched)\n",
                quantile(latency_ms, 0.5), quantile(latency_ms, 0.95), quantile(latency_ms, 0.99),
                quantile(latency_ms, 1.0), latency_ms.size(), unmatched);
    if (o.server_pid > 0) {
      std::printf("server CPU: %.1f %% of a core with the publisher alone, %.1f %% with the players: %.2f %% per player\n",
                  base_cpu * 100, load_cpu * 100, per_player_cpu * 100);
      std::printf("server RSS: %.1f MB → %.1f MB: %.0f KB per player; %.0f threads\n", b1.resident_bytes / 1e6,
                  m1.resident_bytes / 1e6, per_player_kb, m1.threads);
    }
  }
  return connected == o.players ? 0 : 1;
}

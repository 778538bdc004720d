// SPDX-License-Identifier: GPL-3.0-or-later
// `parley serve`: the live server.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "app/args.h"
#include "app/commands.h"
#include "app/config.h"
#include "app/engine_set.h"
#include "core/log.h"
#include "session/registry.h"
#include "store/sqlite/sqlite_store.h"
#include "rtc/service.h"
#include "transport/http/server.h"

extern char** environ;

namespace parley::app {

int run_serve(const std::vector<std::string>& argv) {
  Config config({
      {"host", "0.0.0.0", "address to listen on"},
      {"port", "8080", "TCP port for HTTP and WebSocket"},
      {"db", "parley-data/parley.db", "SQLite database file (created if missing)"},
      {"public-url", "", "base URL listeners use, e.g. https://talks.example.org (default: from the request)"},
      {"io-threads", "2", "network threads"},
      {"max-sessions", "64", "live sessions at once"},
      {"idle-timeout-s", "1800", "end a live session after this long without audio, control or listeners joining"},
      {"speech-start-ms", "60", "voiced audio that opens an utterance"},
      {"hangover-ms", "500", "silence that closes an utterance"},
      {"slow-listener-ms", "15000", "disconnect a listener whose oldest queued message waited this long"},
      {"tls-cert", "", "PEM certificate chain: serve HTTPS and WSS (browsers need it for the microphone off localhost)"},
      {"tls-key", "", "PEM private key of --tls-cert"},
      {"listener-send-buffer", "65536", "kernel send buffer per connection in bytes: what a slow listener can hide"},
      {"rtc", "on", "WebRTC: WHIP ingest at /whip/<code>, WHEP playback at /whep/<code>/<lang> (on or off)"},
      {"max-rtc-peers", "500", "WebRTC publishers and players at once"},
      {"rtc-timeout-s", "30", "close a WebRTC peer after this long without media (RTP in; RTCP reports back, at least 15 s)"},
      {"stun-server", "", "STUN server for WebRTC across NAT, stun://host:port (none needed on a LAN)"},
      {"turn-server", "", "TURN relays, comma-separated turn(s)://user:pass@host:port"},
      {"log", "info", "log level: debug, info, warn, error"},
  });
  if (auto st = config.load(argv, environ); !st) {
    print_error(st.message());
    return 2;
  }
  if (config.help_requested()) {
    std::printf("usage: parley serve [--config FILE] [options]\n\n"
                "Runs the live server: speaker page at /speaker, listener pages at\n"
                "/listener/<code>, REST API under /api, WebSocket at /ws, audio streams at\n"
                "/listen/<code>/<lang>.ogg (docs/protocol.md, docs/api/openapi.yaml).\n"
                "Settings come from --config FILE (key = value), PARLEY_* variables and flags;\n"
                "flags win.\n\noptions:\n%s",
                config.usage().c_str());
    return 0;
  }
  core::set_log_level(core::parse_log_level(config.get("log"), core::LogLevel::info));
  auto port = config.get_long("port", 0, 65535);
  auto threads = config.get_long("io-threads", 1, 64);
  auto max_sessions = config.get_long("max-sessions", 1, 100000);
  auto idle_s = config.get_long("idle-timeout-s", 0, 7 * 24 * 3600);
  auto start_ms = config.get_long("speech-start-ms", 10, 2000);
  auto hangover_ms = config.get_long("hangover-ms", 50, 5000);
  auto slow_ms = config.get_long("slow-listener-ms", 100, 600000);
  auto send_buffer = config.get_long("listener-send-buffer", 4096, 16 * 1024 * 1024);
  auto max_rtc = config.get_long("max-rtc-peers", 0, 100000);
  auto rtc_timeout = config.get_long("rtc-timeout-s", 1, 3600);
  for (const auto* r : {&port, &threads, &max_sessions, &idle_s, &start_ms, &hangover_ms, &slow_ms, &send_buffer,
                        &max_rtc, &rtc_timeout}) {
    if (!*r) {
      print_error(r->status().message());
      return 2;
    }
  }

  // Signals are taken by one thread with sigwait; every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::fprintf(stderr, "parley: loading engines…\n");
  auto engines = load_engines({});
  if (!engines) {
    print_error(engines.status().message());
    return 1;
  }
  const std::filesystem::path db = config.get("db");
  if (db.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(db.parent_path(), ec);
  }
  auto store = store::open_sqlite_store(db.string());
  if (!store) {
    print_error(store.status().message());
    return 1;
  }
  std::shared_ptr<store::Store> shared_store = std::move(*store);
  if (auto n = shared_store->end_interrupted_sessions(session::wall_clock_ms()); n && *n > 0) {
    core::log_info("store", std::to_string(*n) + " session(s) left open by an earlier run marked ENDED");
  }

  transport::Metrics metrics;
  transport::Context ctx;
  std::atomic<bool> draining{false};
  ctx.api = {nullptr, shared_store, *engines, config.get("public-url"), &metrics, &draining,
             session::wall_clock_ms()};
  ctx.api.tls = !config.get("tls-cert").empty();
  ctx.limits.slow_listener_ms = *slow_ms;
  ctx.limits.socket_send_buffer_bytes = static_cast<int>(*send_buffer);
  transport::Server server({config.get("host"), static_cast<uint16_t>(*port), static_cast<int>(*threads),
                           config.get("tls-cert"), config.get("tls-key")},
                          ctx);

  session::LiveConfig live;
  live.segmenter.speech_start_ms = static_cast<int>(*start_ms);
  live.segmenter.hangover_ms = static_cast<int>(*hangover_ms);
  live.dispatcher = server.dispatcher();  // broadcasts run on the network threads
  session::Registry registry(*engines, shared_store, live, static_cast<size_t>(*max_sessions));
  server.context().api.registry = &registry;
  std::unique_ptr<rtc::Service> webrtc;
  if (config.get("rtc") == "on") {
    rtc::RtcConfig rc;
    rc.max_peers = static_cast<size_t>(*max_rtc);
    rc.media_timeout_ms = static_cast<int>(*rtc_timeout * 1000);
    rc.stun_server = config.get("stun-server");
    for (const auto& t : split_list(config.get("turn-server"))) rc.turn_servers.push_back(t);
    auto created = rtc::Service::create(rc);
    if (!created) {
      print_error(created.status().message() + " (or start with --rtc off)");
      return 1;
    }
    webrtc = std::move(*created);
    server.context().api.rtc = webrtc.get();
  } else if (config.get("rtc") != "off") {
    print_error("--rtc takes on or off");
    return 2;
  }
  if (auto st = server.listen(); !st) {
    print_error(st.message());
    return 1;
  }
  const int64_t idle_ms = *idle_s * 1000;
  server.every(std::chrono::seconds(5), [&registry, idle_ms] { registry.reap(idle_ms); });

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "parley: %s received, finishing live sessions…\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    draining = true;
    registry.end_all("the server is shutting down");
    server.stop(std::chrono::milliseconds(3000));
  });

  const std::string shown_host = config.get("host") == "0.0.0.0" ? "127.0.0.1" : config.get("host");
  const std::string base = config.get("public-url").empty()
                               ? std::string(server.tls() ? "https://" : "http://") + shown_host + ":" + std::to_string(server.port())
                               : config.get("public-url");
  std::printf("parley is serving on port %u — open %s/speaker\n", server.port(), base.c_str());
  std::fflush(stdout);
  server.run();
  // The loop has ended: the signal thread did it, or the loop had nothing left.
  if (signal_thread.joinable()) {
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
  }
  registry.end_all("the server is shutting down");
  registry.reap(0);
  std::fprintf(stderr, "parley: stopped\n");
  return 0;
}

}  // namespace parley::app

// SPDX-License-Identifier: GPL-3.0-or-later
// `parley serve`: the live server.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <filesystem>
#include <thread>

#include "app/args.h"
#include "app/commands.h"
#include "app/config.h"
#include "app/engine_set.h"
#include "core/log.h"
#include "pipeline/strong_words.h"
#include "session/registry.h"
#include "store/async_store.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include <unistd.h>

#include "fanout/redis_bus.h"
#include "fanout/sharded_bus.h"
#include "rtc/service.h"
#include "transport/http/assets.h"
#include "transport/http/server.h"

extern char** environ;

namespace parley::app {

int run_serve(const std::vector<std::string>& argv) {
  Config config({
      {"host", "0.0.0.0", "address to listen on"},
      {"port", "8080", "TCP port for HTTP and WebSocket"},
      {"db", "parley-data/parley.db", "SQLite database file (created if missing), or a PostgreSQL database several nodes share: postgresql://user@host:port/dbname"},
      {"public-url", "", "base URL listeners use, e.g. https://talks.example.org (default: from the request)"},
      {"embed-origins", "*",
       "origins that may frame the /overlay and /embed pages, space-separated (e.g. 'self' https://www.example.org); "
       "* allows any site, none allows none. Other pages are never framed"},
      {"io-threads", "2", "network threads"},
      {"redis", "", "several nodes: the Redis server between them, host:port (docs/deploy.md; :password@host:port "
                    "or user:password@host:port when it asks for one; PARLEY_REDIS keeps it off the command line), "
                    "or several, comma-separated, "
                    "that sessions are spread over by their code (the same list in the same order on every node; the "
                    "first also holds the directory); empty: this node is alone"},
      {"node-id", "", "this node's name among several (default: host name and port)"},
      {"trusted-proxies", "", "reverse proxies in front of this node, comma-separated addresses or networks (e.g. 127.0.0.1, 10.0.0.0/8): their connections count each client by the X-Forwarded-For address they add, not as one"},
      {"max-sessions", "64", "live sessions at once (each conversation's participant is one)"},
      {"max-conversations", "32", "conversations at once (2 to 8 people each; /c)"},
      {"vocabulary-sessions", "8", "sessions that may hold a vocabulary or script at once (each holds a speech decoder of its own, ~90 MB)"},
      {"vad", "silero", "voice activity detector (see: parley engines)"},
      {"stt", "pocketsphinx", "speech recognisers in priority order, e.g. pocketsphinx(decoders=4); a language goes to the first that has it"},
      {"mt", "apertium", "translation engines in priority order; a direction goes to the first that has it"},
      {"tts", "espeak", "speech engines in priority order; a language goes to the first with a voice for it"},
      {"stt-decoders", "8", "speech decoders (~90 MB each) shared by all sessions: speakers who can be mid-sentence at once"},
      {"max-listeners-per-session", "20000", "WebSocket listeners, HTTP audio streams and WebRTC players of one session"},
      {"max-languages-per-session", "10", "target languages one session is translated into at once (listeners choose them)"},
      {"history-in-memory", "2000", "finals (with their translations) a live session keeps in memory for joining listeners; older ones are read from the store"},
      {"retention-days", "30", "delete ended sessions and their transcripts after this many days (0: keep them)"},
      {"idle-timeout-s", "1800", "end a live session after this long without audio, control or listeners joining"},
      {"speech-start-ms", "60", "voiced audio that opens an utterance"},
      {"hangover-ms", "auto", "the longest silence inside an utterance: it always closes one (auto: 350 ms; 500 with --vad webrtc)"},
      {"endpointing", "adaptive", "when an utterance ends: adaptive (between --min-hangover-ms and --hangover-ms of silence, on the recogniser's words and the speaker's own pauses) or fixed (always --hangover-ms)"},
      {"min-hangover-ms", "150", "the shortest silence that can close an utterance (adaptive endpointing)"},
      {"noise-floor", "auto", "gate the detector on the room's background level, so pauses in steady noise still end utterances: auto (only for the webrtc detector, which takes steady noise for voice), on or off"},
      {"pace", "on", "keep translated speech in step with the speaker: trim pauses, speak faster, skip an utterance's speech when far behind (on or off)"},
      {"lag-budget-ms", "3000", "how long after the speaker a listener may start hearing a translation before its speech is skipped (pace)"},
      {"max-speech-rate", "1.4", "the fastest speech rate the pace controller uses, as a factor of the voice's own (1 to 2)"},
      {"slow-listener-ms", "15000", "disconnect a listener whose oldest queued message waited this long"},
      {"tls-cert", "", "PEM certificate chain: serve HTTPS and WSS (browsers need it for the microphone off localhost)"},
      {"tls-key", "", "PEM private key of --tls-cert"},
      {"listener-send-buffer", "65536", "kernel send buffer per connection in bytes: what a slow listener can hide"},
      {"listener-queue-bytes", "4194304", "messages queued for one listener before it is disconnected (speech is dropped past 1/8 of it)"},
      {"rtc", "on", "WebRTC: WHIP ingest at /whip/<code>, WHEP playback at /whep/<code>/<lang> (on or off)"},
      {"max-rtc-peers", "500", "WebRTC publishers and players at once"},
      {"rtc-timeout-s", "30", "close a WebRTC peer after this long without media (RTP in; RTCP reports back, at least 15 s)"},
      {"stun-server", "", "STUN server for WebRTC across NAT, stun://host:port (none needed on a LAN)"},
      {"turn-server", "", "TURN relays, comma-separated turn(s)://user:pass@host:port"},
      {"api-keys", "", "operator API keys, comma-separated: creating a session then needs one as the bearer token (the speaker page asks once)"},
      {"engine-api", "on", "serve the embedded engines to other programs: OpenAI-compatible /v1/audio/transcriptions and /v1/audio/speech, LibreTranslate-compatible /translate and /languages (on or off)"},
      {"engine-api-keys", "", "keys for the engine API, comma-separated (default: the --api-keys; none at all: open to anyone who can reach the port)"},
      {"engine-api-workers", "2", "engine API requests computed at once; more wait (up to 16 a worker), then get 503"},
      {"engine-api-max-upload-mb", "25", "largest recording one transcription request may upload"},
      {"engine-api-max-audio-s", "1800", "longest recording one transcription request may hold (less above 48 kHz: memory is what is bounded)"},
      {"max-connections-per-address", "1000", "open connections from one client address (IPv6: per /64); 0: no cap"},
      {"rate-create-per-min", "20", "sessions one address may create a minute (bursts of half that); 0: no limit"},
      {"rate-join-per-min", "1200", "WebSocket joins from one address a minute; 0: no limit"},
      {"rate-unknown-code-per-min", "10", "lookups of codes that do not exist, per address a minute (scanning a million codes takes months)"},
      {"rate-bad-credential-per-min", "10", "wrong speaker tokens or API keys per address a minute"},
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
  auto max_conversations = config.get_long("max-conversations", 0, 100000);
  auto vocabulary_sessions = config.get_long("vocabulary-sessions", 0, 10000);
  auto stt_decoders = config.get_long("stt-decoders", 1, 1000);
  auto max_audience = config.get_long("max-listeners-per-session", 1, 10000000);
  auto max_languages = config.get_long("max-languages-per-session", 1, 1000);
  auto history_in_memory = config.get_long("history-in-memory", 16, 1000000);
  auto idle_s = config.get_long("idle-timeout-s", 0, 7 * 24 * 3600);
  auto retention_days = config.get_long("retention-days", 0, 100 * 365);
  auto start_ms = config.get_long("speech-start-ms", 10, 2000);
  const bool hangover_auto = config.get("hangover-ms") == "auto";
  auto hangover_ms = hangover_auto ? core::Result<long>(0) : config.get_long("hangover-ms", 50, 5000);
  auto min_hangover_ms = config.get_long("min-hangover-ms", 50, 5000);
  auto lag_budget_ms = config.get_long("lag-budget-ms", 500, 600000);
  auto slow_ms = config.get_long("slow-listener-ms", 100, 600000);
  auto send_buffer = config.get_long("listener-send-buffer", 4096, 16 * 1024 * 1024);
  auto queue_bytes = config.get_long("listener-queue-bytes", 64 * 1024, 256 * 1024 * 1024);
  auto max_rtc = config.get_long("max-rtc-peers", 0, 100000);
  auto rtc_timeout = config.get_long("rtc-timeout-s", 1, 3600);
  auto per_address = config.get_long("max-connections-per-address", 0, 1000000);
  auto rate_create = config.get_long("rate-create-per-min", 0, 1000000);
  auto rate_join = config.get_long("rate-join-per-min", 0, 10000000);
  auto rate_unknown = config.get_long("rate-unknown-code-per-min", 0, 1000000);
  auto rate_credential = config.get_long("rate-bad-credential-per-min", 0, 1000000);
  auto engine_workers = config.get_long("engine-api-workers", 1, 256);
  auto engine_upload_mb = config.get_long("engine-api-max-upload-mb", 1, 2048);
  auto engine_audio_s = config.get_long("engine-api-max-audio-s", 1, 6 * 3600);
  for (const auto* r : {&engine_workers, &engine_upload_mb, &engine_audio_s, &port, &threads, &max_sessions, &max_conversations, &vocabulary_sessions, &stt_decoders, &max_audience, &max_languages, &history_in_memory, &retention_days, &idle_s, &start_ms, &hangover_ms, &min_hangover_ms, &lag_budget_ms, &slow_ms, &send_buffer, &queue_bytes,
                        &max_rtc, &rtc_timeout, &per_address, &rate_create, &rate_join, &rate_unknown,
                        &rate_credential}) {
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
  ::signal(SIGXFSZ, SIG_IGN);  // a file-size limit (a full disk) fails the write, not the process

  std::fprintf(stderr, "parley: loading engines…\n");
  EngineOptions engine_options;
  engine_options.stt_decoders = static_cast<size_t>(*stt_decoders);
  engine_options.vad = config.get("vad");
  engine_options.stt = config.get("stt");
  engine_options.mt = config.get("mt");
  engine_options.tts = config.get("tts");
  auto engines = load_engines(engine_options);
  if (!engines) {
    print_error(engines.status().message());
    return 1;
  }
  const std::string db_address = config.get("db");
  const bool postgres = store::is_postgres_address(db_address);
  if (!postgres) {
    const std::filesystem::path db = db_address;
    if (db.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(db.parent_path(), ec);
    }
  }
  auto store = postgres ? store::open_postgres_store(db_address) : store::open_sqlite_store(db_address);
  if (!store) {
    print_error(store.status().message());
    return 1;
  }
  std::shared_ptr<store::Store> durable = std::move(*store);
  // Alone, a node that starts again ends what its last run left open. With
  // other nodes, those sessions may be running elsewhere: they are left.
  if (config.get("redis").empty()) {
    if (auto n = durable->end_interrupted_sessions(session::wall_clock_ms()); n && *n > 0) {
      core::log_info("store", std::to_string(*n) + " session(s) left open by an earlier run marked ENDED");
    }
  }
  // Writes queue for one writer thread; reads run on the blocking pool.
  auto shared_store = std::make_shared<store::AsyncStore>(durable);

  transport::Metrics metrics;
  transport::Context ctx;
  std::atomic<bool> draining{false};
  ctx.api.store = shared_store;
  ctx.api.engines = *engines;
  ctx.api.public_url = config.get("public-url");
  if (auto proxies = transport::TrustedProxies::parse(config.get("trusted-proxies")); proxies) {
    ctx.api.trusted_proxies = std::move(*proxies);
  } else {
    print_error("--trusted-proxies: " + proxies.status().message());
    return 1;
  }
  if (auto origins = transport::frame_ancestors(config.get("embed-origins")); origins) {
    ctx.api.embed_origins = *origins;
  } else {
    print_error("--embed-origins: " + origins.status().message());
    return 2;
  }
  ctx.api.metrics = &metrics;
  ctx.api.draining = &draining;
  ctx.api.started_at_ms = session::wall_clock_ms();
  ctx.api.tls = !config.get("tls-cert").empty();
  ctx.api.blocking = std::make_shared<core::WorkPool>(2, 256);
  transport::guard::GuardConfig limits;
  limits.max_connections_per_address = static_cast<size_t>(*per_address);
  auto per_minute = [](long n) {
    return transport::guard::Rate{static_cast<double>(n), std::max(1.0, static_cast<double>(n) / 2)};
  };
  limits.rates = {per_minute(*rate_create), per_minute(*rate_join), per_minute(*rate_unknown),
                  per_minute(*rate_credential)};
  ctx.api.guard = std::make_shared<transport::guard::Guard>(limits);
  for (const auto& key : split_list(config.get("api-keys"))) ctx.api.api_key_hashes.push_back(session::hash_token(key));
  if (config.get("engine-api") == "on") {
    ctx.api.engine_pool = std::make_shared<core::WorkPool>(static_cast<size_t>(*engine_workers),
                                                           static_cast<size_t>(*engine_workers) * 16);
  } else if (config.get("engine-api") != "off") {
    print_error("--engine-api takes on or off");
    return 2;
  }
  for (const auto& key : split_list(config.get("engine-api-keys"))) {
    ctx.api.engine_api_key_hashes.push_back(session::hash_token(key));
  }
  ctx.api.engine_api_max_upload_bytes = static_cast<size_t>(*engine_upload_mb) << 20;
  ctx.api.engine_api_max_upload_bytes_in_flight = 4 * ctx.api.engine_api_max_upload_bytes;
  ctx.api.engine_api_max_audio_s = static_cast<int>(*engine_audio_s);
  ctx.limits.slow_listener_ms = *slow_ms;
  ctx.limits.socket_send_buffer_bytes = static_cast<int>(*send_buffer);
  ctx.limits.queue_hard_bytes = static_cast<size_t>(*queue_bytes);
  ctx.limits.queue_soft_bytes = ctx.limits.queue_hard_bytes / 8;
  transport::Server server({config.get("host"), static_cast<uint16_t>(*port), static_cast<int>(*threads),
                           config.get("tls-cert"), config.get("tls-key")},
                          ctx);

  session::LiveConfig live;
  std::shared_ptr<fanout::Bus> redis;
  if (const auto addresses = config.get("redis"); !addresses.empty()) {
    std::vector<std::shared_ptr<fanout::Bus>> shards;
    std::string shown;  // the addresses without their passwords, for the log
    for (const auto& address : split_list(addresses)) {
      auto options = fanout::parse_redis_address(address);
      if (!options) {
        print_error("--redis: " + options.status().message());
        return 1;
      }
      const std::string where = options->host + ":" + std::to_string(options->port);
      shown += (shown.empty() ? "" : ",") + where;
      auto shard = fanout::RedisBus::start(*options);
      if (!shard->wait_connected(5000)) {
        core::log_warn("bus", "Redis at " + where + " does not answer yet; this node serves its own sessions and keeps trying");
      }
      shards.push_back(std::move(shard));
    }
    redis = shards.size() == 1 ? shards[0] : std::make_shared<fanout::ShardedBus>(std::move(shards));
    live.bus = redis;
    live.store_is_shared = postgres;
    if (!postgres) {
      core::log_warn("store", "several nodes with a SQLite file each: a session's history is read on the node "
                              "that ran it; give every node the same --db postgresql://… to share it");
    }
    live.node_id = config.get("node-id");
    if (live.node_id.empty()) {
      char host[256] = {};
      ::gethostname(host, sizeof host - 1);
      live.node_id = std::string(host) + ":" + std::to_string(*port);
    }
    core::log_info("bus", "node " + live.node_id + " joins the others through Redis at " + shown);
  }
  // Strong language lists, one hand-written file per language, compiled in
  // with the pages (web/strong-words/<language>.txt; pages use them too):
  // a list added there is used without a change here.
  {
    const std::string_view dir = "strong-words/", ext = ".txt";
    auto lists = std::make_shared<std::map<std::string, pipeline::StrongWords>>();
    for (const auto name : transport::asset_names(dir)) {
      if (name.size() <= dir.size() + ext.size() || name.substr(name.size() - ext.size()) != ext) continue;
      const std::string language(name.substr(dir.size(), name.size() - dir.size() - ext.size()));
      (*lists)[language] = pipeline::StrongWords::parse(transport::find_asset(name)->body);
    }
    live.strong_words = std::move(lists);
  }
  live.segmenter.speech_start_ms = static_cast<int>(*start_ms);
  *hangover_ms = hangover_ms_for(static_cast<int>(*hangover_ms), engines->vad.get());
  live.segmenter.hangover_ms = static_cast<int>(*hangover_ms);
  if (*min_hangover_ms > *hangover_ms) {
    std::fprintf(stderr, "parley: --min-hangover-ms %ld is more than --hangover-ms %ld; using %ld for both\n",
                 *min_hangover_ms, *hangover_ms, *hangover_ms);
    *min_hangover_ms = *hangover_ms;
  }
  live.segmenter.min_hangover_ms = static_cast<int>(*min_hangover_ms);
  live.pace.budget_ms = *lag_budget_ms;
  for (const auto& [flag, on] : {std::pair{"endpointing", "adaptive"}, {"pace", "on"}}) {
    const std::string v = config.get(flag);
    const std::string off = std::string(flag) == "endpointing" ? "fixed" : "off";
    if (v != on && v != off) {
      print_error("--" + std::string(flag) + " takes " + on + " or " + off + ", not '" + v + "'");
      return 2;
    }
  }
  live.segmenter.endpointing = config.get("endpointing") == "fixed" ? pipeline::EndpointPolicy::fixed
                                                                    : pipeline::EndpointPolicy::adaptive;
  auto floor = follow_noise_floor(config.get("noise-floor"), engines->vad.get());
  if (!floor) {
    print_error(floor.status().message());
    return 2;
  }
  live.segmenter.noise_floor.enabled = *floor;
  live.pace.enabled = config.get("pace") == "on";
  {
    char* end = nullptr;
    const std::string rate = config.get("max-speech-rate");
    const double r = std::strtod(rate.c_str(), &end);
    if (end == rate.c_str() || *end != '\0' || !(r >= 1.0 && r <= 2.0)) {
      print_error("--max-speech-rate takes a number from 1 to 2, not '" + rate + "'");
      return 2;
    }
    live.pace.max_rate = r;
  }
  live.max_audience = static_cast<size_t>(*max_audience);
  live.max_languages = static_cast<size_t>(*max_languages);
  live.history_in_memory = static_cast<size_t>(*history_in_memory);
  live.dispatcher = server.dispatcher();  // broadcasts run on the network threads
  live.words_builder = std::make_shared<session::WordsBuilder>(16, static_cast<size_t>(*vocabulary_sessions));
  session::Registry registry(*engines, shared_store, live, static_cast<size_t>(*max_sessions));
  server.context().api.registry = &registry;
  session::Conversations conversations(registry, static_cast<size_t>(*max_conversations));
  server.context().api.conversations = &conversations;
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
  // The reaper has a thread of its own: ending and destroying sessions may
  // wait for their workers, which a network thread must never do.
  std::mutex reaper_mu;
  std::condition_variable reaper_cv;
  bool reaper_stop = false;
  const int64_t retention_ms = *retention_days * 24 * 3600 * 1000;
  std::thread reaper([&] {
    std::unique_lock lock(reaper_mu);
    auto next_retention = std::chrono::steady_clock::now();
    do {
      lock.unlock();
      conversations.reap(idle_ms);
      registry.reap(idle_ms);
      // Memory freed by sessions and listeners that left goes back to the
      // system, so RSS (what operators graph) follows what is in use.
      ::malloc_trim(0);
      if (retention_ms > 0 && std::chrono::steady_clock::now() >= next_retention) {
        // Transcripts are kept for the retention period, then deleted (hourly).
        next_retention += std::chrono::hours(1);
        auto n = shared_store->delete_ended_before(session::wall_clock_ms() - retention_ms);
        if (!n) core::log_error("store", "retention: " + n.status().message());
        else if (*n > 0) core::log_info("store", "retention: deleted " + std::to_string(*n) + " ended session(s)");
      }
      lock.lock();
    } while (!reaper_cv.wait_for(lock, std::chrono::seconds(5), [&] { return reaper_stop; }));
  });
  // Several nodes: every second, the sessions' heartbeats (leases, who
  // listens where), on a thread of their own, so a slow reap or retention
  // delete never lets a lease lapse.
  std::thread heartbeat;
  if (redis) {
    heartbeat = std::thread([&] {
      std::unique_lock lock(reaper_mu);
      while (!reaper_cv.wait_for(lock, std::chrono::seconds(1), [&] { return reaper_stop; })) {
        lock.unlock();
        registry.tick();
        lock.lock();
      }
    });
  }

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "parley: %s received, finishing live sessions…\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    draining = true;
    conversations.end_all("the server is shutting down");
    registry.leave_all("the server is shutting down");
    server.stop(std::chrono::milliseconds(3000));
  });

  const std::string shown_host = config.get("host") == "0.0.0.0" ? "127.0.0.1" : config.get("host");
  const std::string base = config.get("public-url").empty()
                               ? std::string(server.tls() ? "https://" : "http://") + shown_host + ":" + std::to_string(server.port())
                               : config.get("public-url");
  std::printf("parley is serving on port %u — open %s/speaker (a talk) or %s/c (a conversation)\n", server.port(),
              base.c_str(), base.c_str());
  std::fflush(stdout);
  server.run();
  // Requests still on the blocking pool finish now, while the registry and
  // the network contexts they use still exist.
  server.context().api.blocking->stop();
  if (server.context().api.engine_pool) server.context().api.engine_pool->stop();
  // The loop has ended: the signal thread did it, or the loop had nothing left.
  if (signal_thread.joinable()) {
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
  }
  {
    std::lock_guard lock(reaper_mu);
    reaper_stop = true;
  }
  reaper_cv.notify_all();
  reaper.join();
  if (heartbeat.joinable()) heartbeat.join();
  conversations.end_all("the server is shutting down");
  registry.leave_all("the server is shutting down");
  registry.reap(0);
  std::fprintf(stderr, "parley: stopped\n");
  return 0;
}

}  // namespace parley::app

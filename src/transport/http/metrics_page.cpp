// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/metrics_page.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "core/process_stats.h"
#include "engines/remote/endpoint.h"
#include "store/async_store.h"

namespace parley::transport {

namespace {

class Writer {
 public:
  void family(const std::string& name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(const std::string& name, double value, const std::string& labels = "") {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << number(value) << '\n';
  }
  void histogram(const std::string& name, const std::string& labels, const core::Histogram& h) {
    const auto snap = h.snapshot();
    const std::string sep = labels.empty() ? "" : ",";
    for (size_t i = 0; i < core::Histogram::kBounds.size(); ++i) {
      sample(name + "_bucket", static_cast<double>(snap.cumulative[i]),
             labels + sep + "le=\"" + number(core::Histogram::kBounds[i]) + "\"");
    }
    sample(name + "_bucket", static_cast<double>(snap.count()), labels + sep + "le=\"+Inf\"");
    sample(name + "_sum", snap.sum_seconds, labels);
    sample(name + "_count", static_cast<double>(snap.count()), labels);
  }
  // A family with one unlabelled sample.
  void single(const char* name, const char* type, const char* help, double value) {
    family(name, type, help);
    sample(name, value);
  }
  void counter(const char* name, const char* help, const std::atomic<uint64_t>& v) {
    single(name, "counter", help, static_cast<double>(v.load()));
  }
  void gauge(const char* name, const char* help, const std::atomic<uint64_t>& v) {
    single(name, "gauge", help, static_cast<double>(v.load()));
  }
  std::string str() const { return out_.str(); }

 private:
  static std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
  }
  std::ostringstream out_;
};

std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out;
}

}  // namespace

std::string render_metrics(const ApiContext& ctx) {
  Writer w;
  if (ctx.registry != nullptr) {
    const auto& tm = ctx.registry->telemetry();
    const std::string stage = "parley_stage_seconds";
    w.family(stage, "histogram", "Time spent in one pipeline stage per utterance (per language for mt and tts).");
    w.histogram(stage, "stage=\"stt_final\"", tm.stt_final);
    w.histogram(stage, "stage=\"mt\"", tm.mt);
    w.histogram(stage, "stage=\"tts_first_audio\"", tm.tts_first_audio);
    w.histogram(stage, "stage=\"encode\"", tm.encode);
    const std::string e2e = "parley_latency_seconds";
    w.family(e2e, "histogram",
             "From the last audio frame of an utterance reaching the server to its output being sent.");
    w.histogram(e2e, "output=\"final_caption\"", tm.final_caption);
    w.histogram(e2e, "output=\"translated_caption\"", tm.translated_caption);
    w.histogram(e2e, "output=\"translated_speech\"", tm.translated_speech);

    const auto& wb = ctx.registry->words_builder();
    const std::string wfam = "parley_vocabulary_builds_total";
    w.family(wfam, "counter",
             "Session vocabularies and scripts learnt by the recogniser, by result (refused: the builder was "
             "full or every place was taken).");
    w.sample(wfam, static_cast<double>(wb.builds_ok.load()), "result=\"ok\"");
    w.sample(wfam, static_cast<double>(wb.builds_failed.load()), "result=\"failed\"");
    w.sample(wfam, static_cast<double>(wb.builds_refused.load()), "result=\"refused\"");
    w.family("parley_vocabulary_build_seconds", "histogram", "Time to learn one session's vocabulary and script.");
    w.histogram("parley_vocabulary_build_seconds", "", wb.build_seconds);
    w.single("parley_vocabulary_sessions", "gauge", "Sessions holding a vocabulary or script (each its own decoder).",
             static_cast<double>(wb.n_sessions()));
    const std::string pace = "parley_speech_lag_seconds";
    w.family(pace, "histogram",
             "Translated speech against the speaker, per language: from the end of an utterance's source speech "
             "to a listener starting to hear its translation (edge=\"start\") and having heard it all "
             "(edge=\"end\"), on the server's model of the listeners' playback; edge=\"reported\": the end "
             "as listener pages measured it.");
    tm.pace.for_each([&](const std::string& lang, const session::LanguagePace& p) {
      const std::string l = "language=\"" + label_value(lang) + "\"";
      w.histogram(pace, l + ",edge=\"start\"", p.wait);
      w.histogram(pace, l + ",edge=\"end\"", p.end_lag);
      w.histogram(pace, l + ",edge=\"reported\"", p.reported_lag);
    });
    const std::string direction = "parley_direction_latency_seconds";
    w.family(direction, "histogram",
             "Per direction of translation (source → target language): seconds from the true end of the source "
             "speech (or a typed caption's arrival) to the translated caption being sent (edge=\"caption\") and "
             "to its translated speech being sent (edge=\"speech\"). A conversation's latency, one way.");
    tm.directions.for_each([&](const std::string& label, const session::DirectionLatency& d) {
      const auto cut = label.find('>');
      const std::string l = "source=\"" + label_value(label.substr(0, cut)) + "\",target=\"" +
                            label_value(cut == std::string::npos ? "" : label.substr(cut + 1)) + "\"";
      w.histogram(direction, l + ",edge=\"caption\"", d.caption);
      w.histogram(direction, l + ",edge=\"speech\"", d.speech);
    });
    const std::string paced = "parley_speech_pace_total";
    w.family(paced, "counter",
             "Translated utterances per language by what the pace controller did: spoken, spoken faster than "
             "the voice's rate, edges trimmed, skipped to catch up (caption sent).");
    tm.pace.for_each([&](const std::string& lang, const session::LanguagePace& p) {
      const std::string l = "language=\"" + label_value(lang) + "\",action=";
      w.sample(paced, static_cast<double>(p.spoken.load()), l + "\"spoken\"");
      w.sample(paced, static_cast<double>(p.sped_up.load()), l + "\"sped_up\"");
      w.sample(paced, static_cast<double>(p.trimmed.load()), l + "\"trimmed\"");
      w.sample(paced, static_cast<double>(p.skipped.load()), l + "\"skipped\"");
    });
    const std::string ends = "parley_utterance_ends_total";
    w.family(ends, "counter",
             "Utterances by how they ended: a pause the endpointer judged final, the full hangover, a forced "
             "cut at the maximum length, the end of the audio, a typed caption.");
    w.sample(ends, static_cast<double>(tm.ends.pause.load()), "reason=\"pause\"");
    w.sample(ends, static_cast<double>(tm.ends.hangover.load()), "reason=\"hangover\"");
    w.sample(ends, static_cast<double>(tm.ends.max_length.load()), "reason=\"max_length\"");
    w.sample(ends, static_cast<double>(tm.ends.end.load()), "reason=\"end\"");
    w.sample(ends, static_cast<double>(tm.ends.typed.load()), "reason=\"typed\"");

    const std::string shed = "parley_load_shed_total";
    w.family(shed, "counter",
             "Episodes in which a session worker, behind real time, shed each step of load: 1 partial "
             "translations, 2 speech but for the most-heard language, 3 partial captions, 4 the oldest audio.");
    for (auto step : {session::ShedStep::partial_translations, session::ShedStep::speech, session::ShedStep::partials,
                      session::ShedStep::oldest_audio}) {
      w.sample(shed, static_cast<double>(tm.shed.episodes[static_cast<size_t>(step)].load()),
               std::string("step=\"") + session::shed_step_name(step) + "\"");
    }
    w.counter("parley_transcript_gaps_total", "Gaps marked in transcripts where the oldest audio was dropped.",
              tm.shed.gaps);
    w.single("parley_audio_lost_seconds_total", "counter", "Speaker audio dropped because a session worker fell behind.",
             static_cast<double>(tm.shed.lost_ms.load()) / 1000.0);

    const auto& c = tm.totals;
    w.counter("parley_audio_frames_received_total", "Speaker audio frames received.", c.audio_frames_in);
    w.counter("parley_audio_frames_dropped_total", "Speaker frames dropped because a session worker fell behind.",
            c.audio_frames_dropped);
    w.counter("parley_audio_frames_ignored_total", "Speaker frames received while the session was not ACTIVE.",
            c.audio_frames_ignored);
    w.counter("parley_audio_sequence_gaps_total", "Speaker frames missing from the sequence numbers.", c.sequence_gaps);
    w.counter("parley_utterances_total", "Utterances with a final transcript.", c.utterances);
    w.counter("parley_translations_total", "Final captions translated (one per utterance and language).",
            c.translations);
    w.counter("parley_speech_utterances_total", "Translated utterances synthesized, encoded once and sent.",
            c.speech_utterances);
    w.counter("parley_engine_errors_total", "Errors reported by STT, MT or TTS engines.", c.engine_errors);
    w.counter("parley_partial_words_shown_total", "Words shown in partial captions.", c.partial_words_shown);
    w.counter("parley_partial_words_retracted_total",
              "Words shown in partial captions and later taken back (by a newer partial or the final).",
              c.partial_words_retracted);
    w.counter("parley_partial_words_shown_unstabilized_total",
              "Words the raw recogniser hypotheses would have shown (before LocalAgreement).",
              c.partial_words_shown_raw);
    w.counter("parley_partial_words_retracted_unstabilized_total",
              "Words the raw hypotheses would have taken back.", c.partial_words_retracted_raw);

    std::map<std::string, size_t> by_state, by_language;
    for (const auto& s : ctx.registry->all()) {
      ++by_state[std::string(session::state_name(s->info().state))];
      for (const auto& [lang, n] : s->listener_counts()) by_language[lang] += n;
    }
    w.family("parley_sessions", "gauge", "Live sessions (in memory) by state.");
    for (auto st : {session::State::created, session::State::active, session::State::paused, session::State::ended}) {
      const std::string name(session::state_name(st));
      w.sample("parley_sessions", static_cast<double>(by_state[name]), "state=\"" + name + "\"");
    }
    if (ctx.conversations != nullptr) {
      const auto& cc = ctx.conversations->counters();
      size_t online = 0;
      const auto conversations = ctx.conversations->all();
      for (const auto& conversation : conversations) online += conversation->n_online();
      w.family("parley_conversations", "gauge", "Live conversations (2 to 8 participants each).");
      w.sample("parley_conversations", static_cast<double>(conversations.size()));
      w.family("parley_conversation_participants_online", "gauge", "Conversation participants connected now.");
      w.sample("parley_conversation_participants_online", static_cast<double>(online));
      w.family("parley_conversations_created_total", "counter", "Conversations created.");
      w.sample("parley_conversations_created_total", static_cast<double>(cc.created.load()));
      w.family("parley_conversation_participants_joined_total", "counter", "Participants who joined a conversation.");
      w.sample("parley_conversation_participants_joined_total", static_cast<double>(cc.participants_joined.load()));
      w.family("parley_conversation_muted_seconds_total", "counter",
               "Participants' microphone audio not recognised: while their own device played translated speech "
               "and its echo margin (why=\"echo\"), or while another participant held the floor (why=\"floor\").");
      w.sample("parley_conversation_muted_seconds_total", static_cast<double>(cc.echo_muted_ms.load()) / 1000.0,
               "why=\"echo\"");
      w.sample("parley_conversation_muted_seconds_total", static_cast<double>(cc.floor_muted_ms.load()) / 1000.0,
               "why=\"floor\"");
    }
    w.family("parley_listeners", "gauge", "WebSocket listeners by language.");
    for (const auto& [lang, n] : by_language) {
      w.sample("parley_listeners", static_cast<double>(n), "language=\"" + label_value(lang) + "\"");
    }
    if (auto bus = ctx.registry->bus_stats()) {
      size_t running = 0;
      for (const auto& s : ctx.registry->all()) running += s->is_view() || s->has_ended() ? 0 : 1;
      w.family("parley_sessions_running_here", "gauge",
               "Live sessions whose pipeline this node runs (the rest are seen here from other nodes).");
      w.sample("parley_sessions_running_here", static_cast<double>(running), "");
      // Several nodes (docs/scaling.md): what crossed Redis, per node.
      auto one = [&](const char* name, const char* type, const char* help, double v) {
        w.family(name, type, help);
        w.sample(name, v, "");
      };
      one("parley_bus_published_total", "counter", "Messages this node handed to the bus (one per event, whatever the listeners).",
          static_cast<double>(bus->published));
      one("parley_bus_received_total", "counter", "Messages the bus delivered to this node's sessions (one per event and node).",
          static_cast<double>(bus->received));
      one("parley_bus_dropped_total", "counter", "Messages lost: live ones while disconnected, kept ones past the queue.",
          static_cast<double>(bus->dropped));
      one("parley_bus_gap_fills_total", "counter", "Kept messages read back from a session's log after a lost connection.",
          static_cast<double>(bus->gap_fills));
      one("parley_bus_reconnects_total", "counter", "Connections to the bus lost and made again.",
          static_cast<double>(bus->reconnects));
      one("parley_bus_connected", "gauge", "1 while this node is connected to the bus.", bus->connected ? 1.0 : 0.0);
      const auto& nodes = ctx.registry->telemetry().nodes;
      w.family("parley_session_moves_total", "counter",
               "Sessions that moved between nodes, by how: taken over here from a node that stopped renewing its "
               "lease, handed over from here to the node the speaker joined, or lost here (lease refused: another "
               "node runs it now).");
      w.sample("parley_session_moves_total", static_cast<double>(nodes.taken_over.load()), "how=\"taken_over\"");
      w.sample("parley_session_moves_total", static_cast<double>(nodes.handed_over.load()), "how=\"handed_over\"");
      w.sample("parley_session_moves_total", static_cast<double>(nodes.leases_lost.load()), "how=\"lease_lost\"");
    }
  }
  if (ctx.metrics != nullptr) {
    const auto& m = *ctx.metrics;
    w.counter("parley_http_requests_total", "HTTP requests handled.", m.http_requests);
    w.gauge("parley_ws_connections", "Open WebSocket connections.", m.ws_connections);
    w.gauge("parley_audio_streams", "Open HTTP audio streams (/listen/…).", m.audio_streams);
    w.counter("parley_ws_messages_sent_total", "WebSocket messages queued to clients.", m.ws_messages_sent);
    w.counter("parley_dropped_speech_total", "Speech messages dropped for listeners that fell behind.",
            m.ws_audio_dropped);
    w.counter("parley_dropped_partials_total", "Superseded partial captions dropped for listeners that fell behind.",
            m.ws_partials_dropped);
    w.counter("parley_evictions_total", "Listeners (WebSocket or HTTP audio stream) disconnected because they stopped reading.", m.ws_evictions);
    w.counter("parley_bad_frames_total", "Malformed or refused client messages.", m.ws_bad_frames);
    const std::string api = "parley_engine_api_";
    w.family(api + "requests_total", "counter", "Engine API requests answered (OpenAI audio, LibreTranslate), by endpoint.");
    for (size_t i = 0; i < kEngineEndpoints; ++i) {
      w.sample(api + "requests_total", static_cast<double>(m.engine_api[i].requests.load()),
               std::string("endpoint=\"") + kEngineEndpointNames[i] + "\"");
    }
    w.family(api + "errors_total", "counter", "Engine API requests answered with a 4xx or 5xx status, by endpoint.");
    for (size_t i = 0; i < kEngineEndpoints; ++i) {
      w.sample(api + "errors_total", static_cast<double>(m.engine_api[i].errors.load()),
               std::string("endpoint=\"") + kEngineEndpointNames[i] + "\"");
    }
    w.family(api + "busy_total", "counter", "Engine API requests refused with 503 because every engine worker was busy.");
    for (size_t i = 0; i < kEngineEndpoints; ++i) {
      w.sample(api + "busy_total", static_cast<double>(m.engine_api[i].busy.load()),
               std::string("endpoint=\"") + kEngineEndpointNames[i] + "\"");
    }
    w.counter("parley_engine_api_abandoned_total", "Engine API requests dropped because the client had gone before a worker took them.",
              m.engine_api_abandoned);
    w.family(api + "seconds", "histogram", "Engine API request time, from the request read to the answer made.");
    for (size_t i = 0; i < kEngineEndpoints; ++i) {
      w.histogram(api + "seconds", std::string("endpoint=\"") + kEngineEndpointNames[i] + "\"", m.engine_api[i].seconds);
    }
    w.counter("parley_handler_exceptions_total", "Exceptions that escaped a request handler (logged; the server carried on).",
              m.handler_exceptions);
  }
  if (const auto* queue = dynamic_cast<const store::AsyncStore*>(ctx.store.get())) {
    const auto q = queue->stats();
    w.single("parley_store_queue_depth", "gauge", "Store writes waiting for the writer thread.",
             static_cast<double>(q.depth));
    w.single("parley_store_writes_total", "counter", "Store writes applied.", static_cast<double>(q.written));
    w.single("parley_store_writes_failed_total", "counter", "Store writes the database refused (logged).",
             static_cast<double>(q.failed));
    w.single("parley_store_writes_dropped_total", "counter", "Store writes dropped because the queue was full.",
             static_cast<double>(q.dropped));
    w.single("parley_store_write_retries_total", "counter",
             "Store writes tried again after the database refused for a reason that may pass (a restart, a lock).",
             static_cast<double>(q.retried));
    w.single("parley_store_up", "gauge", "1 while the store keeps up with writes and answers its probe.",
             queue->health() ? 1.0 : 0.0);
  }
  if (ctx.guard) {
    const auto g = ctx.guard->stats();
    w.family("parley_rate_limited_total", "counter", "Requests refused by a per-address rate limit, by action.");
    for (size_t i = 0; i < guard::kActions; ++i) {
      w.sample("parley_rate_limited_total", static_cast<double>(g.limited[i]),
               std::string("action=\"") + guard::action_name(static_cast<guard::Action>(i)) + "\"");
    }
    w.single("parley_connections_refused_total", "counter",
             "Connections closed at accept because their address held --max-connections-per-address.",
             static_cast<double>(g.connections_refused));
  }
  if (ctx.blocking) {
    w.single("parley_blocking_queue_depth", "gauge", "Requests waiting for the blocking pool (store reads).",
             static_cast<double>(ctx.blocking->depth()));
    w.single("parley_blocking_refused_total", "counter", "Requests answered 503 because the blocking pool was full.",
             static_cast<double>(ctx.blocking->n_refused()));
  }
  if (ctx.rtc != nullptr) {
    const auto r = ctx.rtc->stats();
    w.family("parley_webrtc_peers", "gauge", "WebRTC peers: WHIP publishers and WHEP players.");
    w.sample("parley_webrtc_peers", static_cast<double>(r.publishers), "kind=\"whip\"");
    w.sample("parley_webrtc_peers", static_cast<double>(r.players), "kind=\"whep\"");
    w.single("parley_webrtc_tracks", "gauge", "Shared WHEP encodings running (one per session and language).",
             static_cast<double>(r.tracks));
    w.family("parley_webrtc_peers_closed_total", "counter", "WebRTC peers that ended, by reason.");
    w.sample("parley_webrtc_peers_closed_total", static_cast<double>(r.ended), "reason=\"ended\"");
    w.sample("parley_webrtc_peers_closed_total", static_cast<double>(r.failed), "reason=\"failed\"");
    w.sample("parley_webrtc_peers_closed_total", static_cast<double>(r.timed_out), "reason=\"timeout\"");
    w.single("parley_webrtc_answers_total", "counter", "WHIP/WHEP offers answered.", static_cast<double>(r.answered));
    w.single("parley_webrtc_refused_total", "counter", "Offers refused because --max-rtc-peers were connected.",
             static_cast<double>(r.refused_full));
    w.single("parley_webrtc_underruns_total", "counter",
             "20 ms frames of the speaker's relayed voice that arrived late (partly filled with silence).",
             static_cast<double>(r.underrun_frames));
    w.single("parley_webrtc_trimmed_seconds_total", "counter",
             "Relayed or translated audio dropped to keep a WHEP track's delay bounded.",
             static_cast<double>(r.trimmed_ms) / 1000.0);
  }
  if (const auto remotes = engines::remote::all_endpoint_stats(); !remotes.empty()) {
    auto labels = [](const engines::remote::EndpointStats& s) {
      return "kind=\"" + label_value(s.kind) + "\",engine=\"" + label_value(s.engine) + "\",url=\"" +
             label_value(s.target) + "\"";
    };
    const std::string r = "parley_remote_engine_";
    w.family(r + "calls_total", "counter", "HTTP calls made to remote engines (each retry counts).");
    for (const auto& s : remotes) w.sample(r + "calls_total", static_cast<double>(s->calls.load()), labels(*s));
    w.family(r + "failures_total", "counter",
             "Remote engine calls that gave no usable answer, by reason (timeout, unreachable, http_status, "
             "bad_answer, shed: no free call slot, breaker_open: not tried).");
    for (const auto& s : remotes) {
      for (size_t i = 0; i < engines::remote::kFailureKinds; ++i) {
        w.sample(r + "failures_total", static_cast<double>(s->failures[i].load()),
                 labels(*s) + ",reason=\"" + engines::remote::kFailureNames[i] + "\"");
      }
    }
    w.family(r + "fallbacks_total", "counter", "Results taken from the fallback (embedded) engine instead of the remote one.");
    for (const auto& s : remotes) w.sample(r + "fallbacks_total", static_cast<double>(s->fallbacks.load()), labels(*s));
    w.family(r + "breaker_state", "gauge", "Circuit breaker: 0 closed (calls pass), 1 open (fallback only), 2 half open (one trial call).");
    for (const auto& s : remotes) w.sample(r + "breaker_state", static_cast<double>(s->breaker_state.load()), labels(*s));
    w.family(r + "breaker_opened_total", "counter", "Times the circuit breaker opened.");
    for (const auto& s : remotes) w.sample(r + "breaker_opened_total", static_cast<double>(s->breaker_opened.load()), labels(*s));
    w.family(r + "partials_disabled_total", "counter",
             "Speakers whose remote recogniser was too slow for partial captions (finals only).");
    for (const auto& s : remotes) {
      w.sample(r + "partials_disabled_total", static_cast<double>(s->partials_disabled.load()), labels(*s));
    }
    w.family(r + "seconds", "histogram", "Remote engine calls that were answered: time from the call to the answer.");
    for (const auto& s : remotes) w.histogram(r + "seconds", labels(*s), s->seconds);
  }
  const auto p = core::read_process_stats();
  w.single("process_cpu_seconds_total", "counter", "User and system CPU time of the process.", p.cpu_seconds);
  w.single("process_resident_memory_bytes", "gauge", "Resident memory.", p.resident_bytes);
  w.single("process_virtual_memory_bytes", "gauge", "Virtual memory.", p.virtual_bytes);
  w.single("process_open_fds", "gauge", "Open file descriptors.", p.open_fds);
  w.single("process_threads", "gauge", "Threads of the process.", p.threads);
  if (ctx.started_at_ms > 0) {
    w.single("process_start_time_seconds", "gauge", "When the process started (Unix time).",
             static_cast<double>(ctx.started_at_ms) / 1000.0);
  }
  return w.str();
}

}  // namespace parley::transport

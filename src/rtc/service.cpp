// SPDX-License-Identifier: GPL-3.0-or-later
#include "rtc/service.h"

#define GST_USE_UNSTABLE_API 1
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "audio/resampler.h"
#include "core/clock.h"
#include "core/log.h"
#include "rtc/sdp.h"
#include "rtc/webrtcbin_options.h"
#include "session/session.h"

namespace parley::rtc {
namespace {

constexpr int kRateHz = 48000;
constexpr int kFrameSamples = kRateHz / 50;  // 20 ms
constexpr int64_t kFrameUs = 20000;
// Live source audio: after running dry, wait for the relay buffer
// (RtcConfig::relay_buffer_ms) before playing again; never hold more than
// kLiveMax (trim back to the relay buffer).
constexpr size_t kLiveMax = kRateHz * 200 / 1000;
// Translated speech: utterances queue up to this much audio.
constexpr size_t kSpeechMax = static_cast<size_t>(kRateHz) * 120;


// Runs a std::function on a GLib main context.
gboolean run_function(gpointer data) {
  (*static_cast<std::function<void()>*>(data))();
  return G_SOURCE_REMOVE;
}
void delete_function(gpointer data) { delete static_cast<std::function<void()>*>(data); }

std::string error_of(GstPromise* promise) {
  const GstStructure* reply = gst_promise_get_reply(promise);
  if (!reply) return "";
  GError* error = nullptr;
  if (gst_structure_has_field(reply, "error")) gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
  if (!error) return "";
  std::string msg = error->message;
  g_error_free(error);
  return msg;
}

}  // namespace

struct Track;

struct Peer {
  std::string id;
  PeerKind kind = PeerKind::publisher;
  std::shared_ptr<session::LiveSession> live;
  std::string language;
  bool in_audience = false;  // players: counted by live->add_player, until released
  OfferSummary offer;
  std::string offer_text;
  Service::Done done;
  bool answered = false;
  bool connected = false;
  bool watch_media = false;  // players: RTCP seen; publishers: always
  int64_t created_ms = 0;
  std::atomic<int64_t> last_media_ms{0};
  GstElement* pipeline = nullptr;  // the publisher's own; the track's for players
  GstElement* webrtc = nullptr;
  // Players: the branch off the track's tee.
  std::shared_ptr<Track> track;
  GstElement* queue = nullptr;
  GstElement* pay = nullptr;
  GstPad* tee_pad = nullptr;
  GObject* rtp_session = nullptr;
  gulong rtcp_handler = 0;
};

// One language of one session, encoded once for all its players.
struct Track final : session::AudioTap {
  Service::Impl* impl = nullptr;
  std::string key, language;
  std::weak_ptr<session::LiveSession> live;
  bool live_source = false;  // the speaker's own voice: keep the delay short
  GstElement* pipeline = nullptr;
  GstElement* appsrc = nullptr;
  GstElement* tee = nullptr;
  size_t players = 0;  // GLib thread
  // Pacing (GLib thread).
  int64_t start_us = 0;
  uint64_t frames_pushed = 0;
  GstClockTime t0 = 0;

  std::mutex mu;
  std::deque<int16_t> fifo;  // 48 kHz mono, guarded by mu
  bool primed = false;       // live source: prebuffer reached since running dry
  size_t prebuffer = 0;      // samples
  std::unique_ptr<audio::StreamResampler> resampler;
  std::vector<float> in_f, out_f;
  std::atomic<uint64_t>* underruns = nullptr;
  std::atomic<uint64_t>* trimmed_ms = nullptr;

  void on_audio(std::span<const int16_t> pcm, int rate_hz) override {
    std::lock_guard lock(mu);
    if (rate_hz == kRateHz) {
      fifo.insert(fifo.end(), pcm.begin(), pcm.end());
    } else {
      if (!resampler || resampler->in_rate_hz() != rate_hz) {
        auto r = audio::StreamResampler::create(rate_hz, kRateHz);
        if (!r) return;
        resampler = std::move(*r);
      }
      in_f = audio::from_pcm16(pcm);
      out_f.clear();
      resampler->process(in_f, out_f);
      if (!live_source) resampler->flush(out_f);  // an utterance is whole
      auto pcm16 = audio::to_pcm16(out_f);
      fifo.insert(fifo.end(), pcm16.begin(), pcm16.end());
      if (!live_source) resampler.reset();
    }
    const size_t max = live_source ? kLiveMax : kSpeechMax;
    if (fifo.size() > max) {
      const size_t keep = live_source ? prebuffer : max;
      const size_t drop = fifo.size() - keep;
      fifo.erase(fifo.begin(), fifo.begin() + static_cast<std::ptrdiff_t>(drop));
      trimmed_ms->fetch_add(drop * 1000 / kRateHz);
    }
  }
  void on_session_end() override;

  // Live source audio: after a stall (a busy loop, a burst from the network)
  // the queue can settle above the relay buffer and stay there, adding delay
  // for good. When it has not gone below buffer + one frame for a second,
  // the excess is dropped (counted). Under mu.
  size_t low_water = SIZE_MAX;
  int frames_watched = 0;
  void keep_delay_short() {
    low_water = std::min(low_water, fifo.size());
    if (++frames_watched < 50) return;
    if (low_water != SIZE_MAX && low_water > prebuffer + kFrameSamples) {
      const size_t drop = low_water - prebuffer;
      fifo.erase(fifo.begin(), fifo.begin() + static_cast<std::ptrdiff_t>(drop));
      trimmed_ms->fetch_add(drop * 1000 / kRateHz);
    }
    low_water = SIZE_MAX;
    frames_watched = 0;
  }

  // One 20 ms frame: queued audio, else silence.
  void take_frame(int16_t* out) {
    std::lock_guard lock(mu);
    if (live_source) keep_delay_short();
    if (live_source && !primed) {
      if (fifo.size() < prebuffer) {
        std::fill(out, out + kFrameSamples, int16_t{0});
        return;
      }
      primed = true;
    }
    const size_t n = std::min<size_t>(fifo.size(), kFrameSamples);
    std::copy(fifo.begin(), fifo.begin() + static_cast<std::ptrdiff_t>(n), out);
    std::fill(out + n, out + kFrameSamples, int16_t{0});
    fifo.erase(fifo.begin(), fifo.begin() + static_cast<std::ptrdiff_t>(n));
    if (live_source && n < static_cast<size_t>(kFrameSamples)) {
      if (n > 0) underruns->fetch_add(1);
      primed = false;
    }
  }
};

struct Service::Impl {
  RtcConfig config;
  GMainContext* context = nullptr;
  GMainLoop* loop = nullptr;
  std::thread thread;
  GSource* pacer = nullptr;
  GSource* watchdog = nullptr;

  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Peer>> peers;   // guarded by mu
  std::map<std::string, std::shared_ptr<Track>> tracks;  // GLib thread only
  std::atomic<size_t> n_tracks{0};
  std::atomic<uint64_t> answered{0}, refused_full{0}, failed{0}, timed_out{0}, ended{0};
  std::atomic<uint64_t> underruns{0}, trimmed_ms{0};

  // Runs fn on the GLib thread, in order with everything else posted.
  void invoke(std::function<void()> fn) {
    GSource* s = g_idle_source_new();
    g_source_set_priority(s, G_PRIORITY_DEFAULT);
    g_source_set_callback(s, run_function, new std::function<void()>(std::move(fn)), delete_function);
    g_source_attach(s, context);
    g_source_unref(s);
  }
  GSource* every(guint ms, GSourceFunc fn) {
    GSource* s = g_timeout_source_new(ms);
    g_source_set_callback(s, fn, this, nullptr);
    g_source_attach(s, context);
    return s;
  }

  std::shared_ptr<Peer> find(const std::string& id) {
    std::lock_guard lock(mu);
    auto it = peers.find(id);
    return it == peers.end() ? nullptr : it->second;
  }

  void configure(GstElement* webrtc) {
    g_object_set(webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
    disable_upnp(webrtc);
    if (!config.stun_server.empty()) g_object_set(webrtc, "stun-server", config.stun_server.c_str(), nullptr);
    for (const auto& turn : config.turn_servers) {
      gboolean ok = FALSE;
      g_signal_emit_by_name(webrtc, "add-turn-server", turn.c_str(), &ok);
      if (!ok) core::log_warn("rtc", "webrtcbin refused TURN server " + turn);
    }
    g_signal_connect(webrtc, "notify::ice-gathering-state", G_CALLBACK(on_gathering), this);
    g_signal_connect(webrtc, "notify::ice-connection-state", G_CALLBACK(on_connection), this);
  }

  // --- negotiation -------------------------------------------------------

  static std::string peer_id(GstElement* webrtc) {
    const char* id = static_cast<const char*>(g_object_get_data(G_OBJECT(webrtc), "parley-peer"));
    return id ? id : "";
  }

  void negotiate(const std::shared_ptr<Peer>& p) {
    GstSDPMessage* sdp = nullptr;
    if (gst_sdp_message_new_from_text(p->offer_text.c_str(), &sdp) != GST_SDP_OK || !sdp) {
      return fail(p->id, core::invalid_argument("the offer is not valid SDP"));
    }
    GstWebRTCSessionDescription* offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
    auto* ctx = new std::pair<Impl*, std::string>(this, p->id);
    GstPromise* promise = gst_promise_new_with_change_func(on_remote_set, ctx, [](gpointer d) {
      delete static_cast<std::pair<Impl*, std::string>*>(d);
    });
    g_signal_emit_by_name(p->webrtc, "set-remote-description", offer, promise);
    gst_webrtc_session_description_free(offer);
  }

  // webrtcbin's thread.
  static void on_remote_set(GstPromise* promise, gpointer data) {
    auto* ctx = static_cast<std::pair<Impl*, std::string>*>(data);
    Impl* self = ctx->first;
    std::string err = error_of(promise);
    gst_promise_unref(promise);
    auto p = self->find(ctx->second);
    if (!p) return;
    if (!err.empty()) return self->post_fail(p->id, core::invalid_argument("the offer was refused: " + err));
    auto* next = new std::pair<Impl*, std::string>(self, p->id);
    GstPromise* answer = gst_promise_new_with_change_func(on_answer_created, next, [](gpointer d) {
      delete static_cast<std::pair<Impl*, std::string>*>(d);
    });
    g_signal_emit_by_name(p->webrtc, "create-answer", nullptr, answer);
  }

  static void on_answer_created(GstPromise* promise, gpointer data) {
    auto* ctx = static_cast<std::pair<Impl*, std::string>*>(data);
    Impl* self = ctx->first;
    auto p = self->find(ctx->second);
    GstWebRTCSessionDescription* answer = nullptr;
    std::string err = error_of(promise);
    if (const GstStructure* reply = gst_promise_get_reply(promise); reply && err.empty()) {
      gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
    }
    gst_promise_unref(promise);
    if (!p) {
      if (answer) gst_webrtc_session_description_free(answer);
      return;
    }
    if (!answer) {
      return self->post_fail(p->id, core::invalid_argument("no answer to this offer" + (err.empty() ? "" : ": " + err)));
    }
    g_signal_emit_by_name(p->webrtc, "set-local-description", answer, nullptr);
    gst_webrtc_session_description_free(answer);
    // Gathering may have completed before anyone listened.
    GstWebRTCICEGatheringState state{};
    g_object_get(p->webrtc, "ice-gathering-state", &state, nullptr);
    if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) {
      std::string id = p->id;
      self->invoke([self, id] { self->answer(id); });
    }
  }

  static void on_gathering(GstElement* webrtc, GParamSpec*, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    GstWebRTCICEGatheringState state{};
    g_object_get(webrtc, "ice-gathering-state", &state, nullptr);
    if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
    std::string id = peer_id(webrtc);
    self->invoke([self, id] { self->answer(id); });
  }

  static void on_connection(GstElement* webrtc, GParamSpec*, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    GstWebRTCICEConnectionState state{};
    g_object_get(webrtc, "ice-connection-state", &state, nullptr);
    std::string id = peer_id(webrtc);
    if (state == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED || state == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED) {
      self->invoke([self, id] { self->on_connected(id); });
    } else if (state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED) {
      self->invoke([self, id] { self->remove(id, &Impl::failed, "ICE failed"); });
    }
  }

  // GLib thread: the answer goes out with every candidate gathered so far.
  void answer(const std::string& id) {
    auto p = find(id);
    if (!p || p->answered) return;
    GstWebRTCSessionDescription* local = nullptr;
    g_object_get(p->webrtc, "local-description", &local, nullptr);
    if (!local) return;  // not yet: the answer task or the gather timeout will call again
    gchar* text = gst_sdp_message_as_text(local->sdp);
    std::string sdp = text;
    g_free(text);
    gst_webrtc_session_description_free(local);
    p->answered = true;
    answered.fetch_add(1);
    auto done = std::move(p->done);
    p->done = nullptr;
    if (done) done(Answer{std::move(sdp), id});
  }

  void gather_deadline(const std::string& id) {
    auto p = find(id);
    if (!p || p->answered) return;
    answer(id);
    if (!p->answered) fail(id, core::unavailable("could not negotiate WebRTC in time; try again or use the WebSocket"));
  }

  void post_fail(const std::string& id, core::Status st) {
    invoke([this, id, st] { fail(id, st); });
  }

  void fail(const std::string& id, const core::Status& st) {
    auto p = find(id);
    if (!p) return;
    if (!p->answered && p->done) {
      auto done = std::move(p->done);
      p->done = nullptr;
      done(st);
    }
    remove(id, &Impl::failed, st.message());
  }

  void on_connected(const std::string& id) {
    auto p = find(id);
    if (!p || p->connected) return;
    p->connected = true;
    p->last_media_ms = core::now_ms();
    if (p->kind == PeerKind::publisher) {
      p->watch_media = true;
      return;
    }
    // Players send RTCP receiver reports: their silence means they are gone.
    GstElement* rtpbin = gst_bin_get_by_name(GST_BIN(p->webrtc), "rtpbin");
    if (!rtpbin) return;
    GObject* session = nullptr;
    g_signal_emit_by_name(rtpbin, "get-internal-session", 0u, &session);
    gst_object_unref(rtpbin);
    if (!session) return;
    p->rtp_session = session;
    p->rtcp_handler = g_signal_connect(session, "on-receiving-rtcp", G_CALLBACK(on_rtcp), p.get());
    p->watch_media = true;
  }

  static void on_rtcp(GObject*, GstBuffer*, gpointer data) { static_cast<Peer*>(data)->last_media_ms = core::now_ms(); }

  // --- publishers ----------------------------------------------------------

  static void on_incoming_pad(GstElement* webrtc, GstPad* pad, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    auto p = self->find(peer_id(webrtc));
    if (!p) return;
    GstElement* bin = gst_parse_bin_from_description(
        "rtpopusdepay ! opusdec plc=true use-inband-fec=true ! audioconvert ! audioresample ! "
        "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1 ! "
        "appsink name=out sync=false max-buffers=50 drop=true",
        TRUE, nullptr);
    if (!bin) return;
    GstElement* sink = gst_bin_get_by_name(GST_BIN(bin), "out");
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = on_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, p.get(), nullptr);
    gst_object_unref(sink);
    gst_bin_add(GST_BIN(p->pipeline), bin);
    gst_element_sync_state_with_parent(bin);
    GstPad* sinkpad = gst_element_get_static_pad(bin, "sink");
    if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK) core::log_warn("rtc", "publisher " + p->id.substr(0, 8) + ": the track is not Opus");
    gst_object_unref(sinkpad);
  }

  static GstFlowReturn on_sample(GstAppSink* sink, gpointer data) {
    auto* p = static_cast<Peer*>(data);
    GstSample* sample = gst_app_sink_pull_sample(sink);
    if (!sample) return GST_FLOW_EOS;
    GstBuffer* buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
      std::span<const int16_t> pcm(reinterpret_cast<const int16_t*>(map.data), map.size / 2);
      p->last_media_ms = core::now_ms();
      // Sequence 0: WebRTC has its own; frames may interleave with none other.
      (void)p->live->push_audio(std::nullopt, pcm, kRateHz, nullptr);
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }

  void start_publisher(const std::shared_ptr<Peer>& p) {
    p->pipeline = gst_pipeline_new(("whip-" + p->id.substr(0, 8)).c_str());
    p->webrtc = gst_element_factory_make("webrtcbin", nullptr);
    g_object_set_data_full(G_OBJECT(p->webrtc), "parley-peer", g_strdup(p->id.c_str()), g_free);
    configure(p->webrtc);
    g_object_set(p->webrtc, "latency", static_cast<guint>(config.jitter_ms), nullptr);
    g_signal_connect(p->webrtc, "pad-added", G_CALLBACK(on_incoming_pad), this);
    gst_bin_add(GST_BIN(p->pipeline), p->webrtc);
    if (gst_element_set_state(p->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      return fail(p->id, core::internal_error("the WebRTC pipeline did not start"));
    }
    negotiate(p);
  }

  // --- players and tracks --------------------------------------------------

  std::shared_ptr<Track> track_for(const std::shared_ptr<session::LiveSession>& live, const std::string& language,
                                   core::Status& st) {
    const std::string key = live->code() + "/" + language;
    if (auto it = tracks.find(key); it != tracks.end()) return it->second;
    auto t = std::make_shared<Track>();
    t->impl = this;
    t->key = key;
    t->language = language;
    t->live = live;
    t->live_source = language == live->source_language();
    t->prebuffer = static_cast<size_t>(kRateHz) * static_cast<size_t>(std::clamp(config.relay_buffer_ms, 0, 150)) / 1000;
    t->underruns = &underruns;
    t->trimmed_ms = &trimmed_ms;
    // The session says first whether it can be heard in this language (no
    // pipeline is built for a language it cannot reach). Audio that arrives
    // before the encoder runs waits in the track's queue.
    if (st = live->add_tap(language, t); !st) return nullptr;
    const std::string desc =
        "appsrc name=src format=time is-live=true do-timestamp=false "
        "caps=audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1 ! "
        "opusenc bitrate=" + std::to_string(config.opus_bitrate) + " frame-size=20 audio-type=voice ! "
        "tee name=tee allow-not-linked=true";
    GError* error = nullptr;
    t->pipeline = gst_parse_launch(desc.c_str(), &error);
    if (!t->pipeline) {
      st = core::internal_error(std::string("cannot build the encoder: ") + (error ? error->message : "?"));
      if (error) g_error_free(error);
      stop_track(t);
      return nullptr;
    }
    t->appsrc = gst_bin_get_by_name(GST_BIN(t->pipeline), "src");
    t->tee = gst_bin_get_by_name(GST_BIN(t->pipeline), "tee");
    if (gst_element_set_state(t->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      st = core::internal_error("the encoder pipeline did not start");
      stop_track(t);
      return nullptr;
    }
    tracks[key] = t;
    n_tracks = tracks.size();
    return t;
  }

  void stop_track(const std::shared_ptr<Track>& t) {
    if (auto live = t->live.lock()) live->remove_tap(t->language, t.get());
    if (t->appsrc) gst_object_unref(t->appsrc);
    if (t->tee) gst_object_unref(t->tee);
    t->appsrc = t->tee = nullptr;
    if (t->pipeline) {
      gst_element_set_state(t->pipeline, GST_STATE_NULL);
      gst_object_unref(t->pipeline);
      t->pipeline = nullptr;
    }
    tracks.erase(t->key);
    n_tracks = tracks.size();
  }

  void start_player(const std::shared_ptr<Peer>& p) {
    core::Status st;
    auto t = track_for(p->live, p->language, st);
    if (!t) return fail(p->id, st);
    p->track = t;
    p->pipeline = t->pipeline;
    ++t->players;
    p->queue = gst_element_factory_make("queue", nullptr);
    // A player that stalls loses its oldest audio, never holds up the others.
    g_object_set(p->queue, "leaky", 2, "max-size-buffers", 25u, "max-size-bytes", 0u, "max-size-time",
                 static_cast<guint64>(0), nullptr);
    p->pay = gst_element_factory_make("rtpopuspay", nullptr);
    g_object_set(p->pay, "pt", static_cast<guint>(p->offer.opus_payload_type), nullptr);
    p->webrtc = gst_element_factory_make("webrtcbin", nullptr);
    if (!p->queue || !p->pay || !p->webrtc) return fail(p->id, core::internal_error("cannot create the WebRTC elements"));
    g_object_set_data_full(G_OBJECT(p->webrtc), "parley-peer", g_strdup(p->id.c_str()), g_free);
    configure(p->webrtc);
    gst_bin_add_many(GST_BIN(t->pipeline), p->queue, p->pay, p->webrtc, nullptr);
    GstPad* sink = gst_element_request_pad_simple(p->webrtc, "sink_%u");
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(sink, "transceiver", &trans, nullptr);
    if (trans) {
      const std::string caps_text = "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=" +
                                    std::to_string(p->offer.opus_payload_type);
      GstCaps* caps = gst_caps_from_string(caps_text.c_str());
      g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences", caps,
                   nullptr);
      gst_caps_unref(caps);
      gst_object_unref(trans);
    }
    GstPad* paysrc = gst_element_get_static_pad(p->pay, "src");
    const bool linked = gst_pad_link(paysrc, sink) == GST_PAD_LINK_OK && gst_element_link(p->queue, p->pay);
    gst_object_unref(paysrc);
    gst_object_unref(sink);
    if (!linked) return fail(p->id, core::internal_error("cannot link the player's branch"));
    for (GstElement* e : {p->webrtc, p->pay, p->queue}) gst_element_sync_state_with_parent(e);
    p->tee_pad = gst_element_request_pad_simple(t->tee, "src_%u");
    GstPad* qsink = gst_element_get_static_pad(p->queue, "sink");
    gst_pad_link(p->tee_pad, qsink);
    gst_object_unref(qsink);
    negotiate(p);
  }

  // Unlinks a player's branch once the tee is not pushing into it.
  static GstPadProbeReturn unlink_when_idle(GstPad* tee_pad, GstPadProbeInfo*, gpointer) {
    GstPad* peer = gst_pad_get_peer(tee_pad);
    if (peer) {
      gst_pad_unlink(tee_pad, peer);
      gst_object_unref(peer);
    }
    return GST_PAD_PROBE_REMOVE;
  }

  // GLib thread. `counter` says why (ended, failed, timed out).
  void remove(const std::string& id, std::atomic<uint64_t> Impl::*counter, const std::string& why) {
    std::shared_ptr<Peer> p;
    {
      std::lock_guard lock(mu);
      auto it = peers.find(id);
      if (it == peers.end()) return;
      p = it->second;
      peers.erase(it);
    }
    (this->*counter).fetch_add(1);
    release_audience(*p);
    core::log_debug("rtc", std::string(p->kind == PeerKind::publisher ? "publisher " : "player ") + id.substr(0, 8) +
                               " closed: " + why);
    if (p->done) {
      auto done = std::move(p->done);
      p->done = nullptr;
      done(core::unavailable("WebRTC negotiation stopped: " + why));
    }
    if (p->rtp_session) {
      g_signal_handler_disconnect(p->rtp_session, p->rtcp_handler);
      g_object_unref(p->rtp_session);
    }
    if (p->kind == PeerKind::publisher) {
      if (p->pipeline) {
        gst_element_set_state(p->pipeline, GST_STATE_NULL);
        gst_object_unref(p->pipeline);
      }
      p->live->end_of_audio();
      return;
    }
    auto t = p->track;
    if (!t) return;
    if (p->tee_pad) {
      gst_pad_add_probe(p->tee_pad, GST_PAD_PROBE_TYPE_IDLE, unlink_when_idle, nullptr, nullptr);
    }
    // The probe has run (idle pad) or runs after the tee's current push; the
    // elements go once it has, on this thread, keeping the peer alive until then.
    invoke([this, p, t] {
      if (p->tee_pad) {
        GstPad* peer = gst_pad_get_peer(p->tee_pad);
        if (peer) {  // the push never ended (stalled pipeline): unlink here
          gst_pad_unlink(p->tee_pad, peer);
          gst_object_unref(peer);
        }
        gst_element_release_request_pad(t->tee, p->tee_pad);
        gst_object_unref(p->tee_pad);
        p->tee_pad = nullptr;
      }
      for (GstElement* e : {p->queue, p->pay, p->webrtc}) {
        if (!e) continue;
        gst_element_set_state(e, GST_STATE_NULL);
        gst_bin_remove(GST_BIN(t->pipeline), e);
      }
      if (--t->players == 0) stop_track(t);
    });
  }

  // --- timers (GLib thread) ------------------------------------------------

  static gboolean pace(gpointer data) {
    auto* self = static_cast<Impl*>(data);
    const int64_t now = core::now_us();
    std::vector<int16_t> frame(kFrameSamples);
    for (auto& [key, t] : self->tracks) {
      if (!t->start_us) {
        GstClock* clock = gst_element_get_clock(t->pipeline);
        if (!clock) continue;  // not playing yet
        t->t0 = gst_clock_get_time(clock) - gst_element_get_base_time(t->pipeline);
        gst_object_unref(clock);
        t->start_us = now;
      }
      auto due = static_cast<uint64_t>((now - t->start_us) / kFrameUs) + 1;
      if (due > t->frames_pushed + 50) t->frames_pushed = due - 1;  // the loop stalled: do not burst a second of audio
      while (t->frames_pushed < due) {
        t->take_frame(frame.data());
        GstBuffer* buf = gst_buffer_new_memdup(frame.data(), frame.size() * sizeof(int16_t));
        GST_BUFFER_PTS(buf) = t->t0 + t->frames_pushed * kFrameUs * GST_USECOND;
        GST_BUFFER_DURATION(buf) = kFrameUs * GST_USECOND;
        gst_app_src_push_buffer(GST_APP_SRC(t->appsrc), buf);
        ++t->frames_pushed;
      }
    }
    return G_SOURCE_CONTINUE;
  }

  // Players are judged by their RTCP receiver reports, which browsers send
  // about every 5 s (randomised up to 7.5 s): never less than 15 s for them.
  int media_timeout_ms(const Peer& p) const {
    return p.kind == PeerKind::player ? std::max(config.media_timeout_ms, 15000) : config.media_timeout_ms;
  }

  static gboolean check_peers(gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::vector<std::shared_ptr<Peer>> all;
    {
      std::lock_guard lock(self->mu);
      for (const auto& [id, p] : self->peers) all.push_back(p);
    }
    const int64_t now = core::now_ms();
    for (const auto& p : all) {
      if (p->live->has_ended()) {
        self->remove(p->id, &Impl::ended, "the session ended");
      } else if (p->answered && !p->connected && now - p->created_ms > self->config.connect_timeout_ms) {
        self->remove(p->id, &Impl::timed_out, "ICE did not connect");
      } else if (p->connected && p->watch_media && now - p->last_media_ms > self->media_timeout_ms(*p)) {
        self->remove(p->id, &Impl::timed_out, "no media");
      }
    }
    return G_SOURCE_CONTINUE;
  }

  // A player leaves the session's audience once, whichever way it ends.
  static void release_audience(Peer& p) {
    if (p.in_audience) p.live->remove_player(p.language);
    p.in_audience = false;
  }

  void admit(std::shared_ptr<Peer> p, std::string offer, Done done) {
    auto summary = inspect_offer(offer);
    if (!summary) {
      release_audience(*p);
      return done(summary.status());
    }
    p->offer = *summary;
    p->offer_text = std::move(offer);
    p->id = session::random_token().substr(0, 32);
    p->created_ms = core::now_ms();
    p->done = std::move(done);
    {
      std::lock_guard lock(mu);
      if (peers.size() >= config.max_peers) {
        refused_full.fetch_add(1);
        release_audience(*p);
        auto d = std::move(p->done);
        d(core::resource_exhausted("this server holds its maximum of " + std::to_string(config.max_peers) +
                                   " WebRTC peers; use the WebSocket or try later"));
        return;
      }
      // One voice per session: a second publisher is refused, not mixed in.
      if (p->kind == PeerKind::publisher) {
        for (const auto& [id, other] : peers) {
          if (other->kind == PeerKind::publisher && other->live == p->live) {
            auto d = std::move(p->done);
            d(core::failed_precondition("session " + p->live->code() +
                                        " already has a WHIP publisher; DELETE its resource first"));
            return;
          }
        }
      }
      peers[p->id] = p;
    }
    std::string id = p->id;
    invoke([this, p] {
      if (p->kind == PeerKind::publisher) {
        start_publisher(p);
      } else {
        start_player(p);
      }
    });
    GSource* deadline = g_timeout_source_new(static_cast<guint>(config.gather_timeout_ms));
    auto* fn = new std::function<void()>([this, id] { gather_deadline(id); });
    g_source_set_callback(deadline, run_function, fn, delete_function);
    g_source_attach(deadline, context);
    g_source_unref(deadline);
  }
};

void Track::on_session_end() {
  auto* self = impl;
  std::string k = key;
  self->invoke([self, k] {
    std::vector<std::string> ids;
    {
      std::lock_guard lock(self->mu);
      for (const auto& [id, p] : self->peers) {
        if (p->track && p->track->key == k) ids.push_back(id);
      }
    }
    for (const auto& id : ids) self->remove(id, &Service::Impl::ended, "the session ended");
  });
}

core::Result<std::unique_ptr<Service>> Service::create(RtcConfig config) {
  GError* error = nullptr;
  if (!gst_init_check(nullptr, nullptr, &error)) {
    std::string msg = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    return core::failed_precondition("GStreamer did not start: " + msg);
  }
  struct Need {
    const char* element;
    const char* package;
  };
  for (const Need& n : {Need{"webrtcbin", "gstreamer1.0-plugins-bad"}, Need{"dtlssrtpenc", "gstreamer1.0-plugins-bad"},
                        Need{"nicesrc", "gstreamer1.0-nice"}, Need{"opusenc", "gstreamer1.0-plugins-base"},
                        Need{"opusdec", "gstreamer1.0-plugins-base"}, Need{"appsrc", "gstreamer1.0-plugins-base"},
                        Need{"audioresample", "gstreamer1.0-plugins-base"},
                        Need{"rtpopuspay", "gstreamer1.0-plugins-good"}, Need{"rtpopusdepay", "gstreamer1.0-plugins-good"}}) {
    GstElementFactory* f = gst_element_factory_find(n.element);
    if (!f) {
      return core::failed_precondition(std::string("GStreamer element '") + n.element + "' is missing; install " +
                                       n.package + " (scripts/install-deps.sh does)");
    }
    gst_object_unref(f);
  }
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->context = g_main_context_new();
  impl->loop = g_main_loop_new(impl->context, FALSE);
  impl->pacer = impl->every(10, Impl::pace);
  impl->watchdog = impl->every(1000, Impl::check_peers);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    g_main_context_push_thread_default(raw->context);
    g_main_loop_run(raw->loop);
    g_main_context_pop_thread_default(raw->context);
  });
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() {
  Impl* self = impl_.get();
  self->invoke([self] {
    std::vector<std::string> ids;
    {
      std::lock_guard lock(self->mu);
      for (const auto& [id, p] : self->peers) ids.push_back(id);
    }
    for (const auto& id : ids) self->remove(id, &Impl::ended, "the server is shutting down");
    // Branch removals were queued behind this; quit after them.
    self->invoke([self] {
      auto tracks = self->tracks;
      for (auto& [k, t] : tracks) self->stop_track(t);
      g_main_loop_quit(self->loop);
    });
  });
  if (self->thread.joinable()) self->thread.join();
  for (GSource* s : {self->pacer, self->watchdog}) {
    g_source_destroy(s);
    g_source_unref(s);
  }
  g_main_loop_unref(self->loop);
  g_main_context_unref(self->context);
}

void Service::publish(std::shared_ptr<session::LiveSession> live, std::string offer, Done done) {
  auto p = std::make_shared<Peer>();
  p->kind = PeerKind::publisher;
  p->live = std::move(live);
  impl_->admit(std::move(p), std::move(offer), std::move(done));
}

void Service::play(std::shared_ptr<session::LiveSession> live, std::string language, std::string offer, Done done) {
  auto p = std::make_shared<Peer>();
  p->kind = PeerKind::player;
  p->live = std::move(live);
  p->language = std::move(language);
  // A player is part of the audience, within the session's caps.
  if (auto st = p->live->add_player(p->language); !st) return done(st);
  p->in_audience = true;
  impl_->admit(std::move(p), std::move(offer), std::move(done));
}

namespace {
// The peer a WHIP/WHEP resource URL names, when every part of the URL matches
// it: an id alone does not let one session's client end another's peer.
std::shared_ptr<Peer> resource_peer(const std::shared_ptr<Peer>& p, const ResourceRef& ref) {
  if (!p || p->kind != ref.kind || !p->live || p->live->code() != ref.code) return nullptr;
  if (ref.kind == PeerKind::player && p->language != ref.language) return nullptr;
  return p;
}
}  // namespace

core::Status Service::trickle(const ResourceRef& ref, std::string_view fragment) {
  auto p = resource_peer(impl_->find(ref.id), ref);
  if (!p) return core::not_found("no WebRTC resource " + ref.id.substr(0, 40) + " in session " + ref.code.substr(0, 16));
  auto candidates = parse_trickle_fragment(fragment, p->offer);
  if (!candidates) return candidates.status();
  impl_->invoke([p, c = std::move(*candidates)] {
    if (!p->webrtc) return;
    for (const auto& cand : c) g_signal_emit_by_name(p->webrtc, "add-ice-candidate", cand.mline, cand.candidate.c_str());
  });
  return {};
}

core::Status Service::end(const ResourceRef& ref) {
  auto p = resource_peer(impl_->find(ref.id), ref);
  if (!p) return core::not_found("no WebRTC resource " + ref.id.substr(0, 40) + " in session " + ref.code.substr(0, 16));
  Impl* self = impl_.get();
  self->invoke([self, id = ref.id] { self->remove(id, &Impl::ended, "ended by the client"); });
  return {};
}

RtcStats Service::stats() const {
  RtcStats s;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [id, p] : impl_->peers) (p->kind == PeerKind::publisher ? s.publishers : s.players)++;
  }
  s.tracks = impl_->n_tracks.load();
  s.answered = impl_->answered.load();
  s.refused_full = impl_->refused_full.load();
  s.failed = impl_->failed.load();
  s.timed_out = impl_->timed_out.load();
  s.ended = impl_->ended.load();
  s.underrun_frames = impl_->underruns.load();
  s.trimmed_ms = impl_->trimmed_ms.load();
  return s;
}

std::vector<std::string> Service::ice_server_links() const {
  std::vector<std::string> links;
  auto strip = [](std::string url) {  // stun://h:p → stun:h:p
    auto pos = url.find("://");
    if (pos != std::string::npos) url.erase(pos + 1, 2);
    return url;
  };
  if (!impl_->config.stun_server.empty()) {
    links.push_back("<" + strip(impl_->config.stun_server) + ">; rel=\"ice-server\"");
  }
  for (const auto& t : impl_->config.turn_servers) {
    // turn://user:pass@host:port → <turn:host:port>; username=…; credential=…
    std::string url = strip(t);
    auto colon = url.find(':');
    auto at = url.find('@');
    if (at == std::string::npos) {
      links.push_back("<" + url + ">; rel=\"ice-server\"");
      continue;
    }
    std::string scheme = url.substr(0, colon + 1), creds = url.substr(colon + 1, at - colon - 1);
    std::string host = url.substr(at + 1);
    auto sep = creds.find(':');
    links.push_back("<" + scheme + host + ">; rel=\"ice-server\"; username=\"" + creds.substr(0, sep) +
                    "\"; credential=\"" + (sep == std::string::npos ? "" : creds.substr(sep + 1)) +
                    "\"; credential-type=\"password\"");
  }
  return links;
}

}  // namespace parley::rtc

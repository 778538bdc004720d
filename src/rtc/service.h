// SPDX-License-Identifier: GPL-3.0-or-later
// WebRTC for speakers and listeners, through GStreamer's webrtcbin:
//
//  - WHIP ingest: one pipeline per publisher. Its Opus is decoded to 48 kHz
//    mono and pushed into the live session like WebSocket audio.
//  - WHEP playback: one pipeline per (session, language) — a "track" — that
//    paces the language's audio in real time and encodes it to Opus once; each
//    listener is a branch off a tee (queue → RTP payloader → webrtcbin), so a
//    listener costs packetisation and encryption, never an encoding.
//
// Threads. Every GStreamer object is created, linked and torn down on the
// service's own GLib main-loop thread; public methods post work there and
// never block on it (answers come back through a callback). Offers are
// answered without trickle: the answer waits for ICE gathering (≤ 5 s) and
// carries every candidate. Trickled client candidates (PATCH) are accepted.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "session/live_session.h"

namespace parley::rtc {

struct RtcConfig {
  std::string stun_server;                // "stun://host:port"; empty: none (fine on a LAN)
  std::vector<std::string> turn_servers;  // "turn(s)://user:pass@host:port"
  size_t max_peers = 500;                 // publishers and players together
  int gather_timeout_ms = 5000;           // answer with what has been gathered by then
  int connect_timeout_ms = 20000;         // ICE must connect by then
  int media_timeout_ms = 30000;           // no RTP (publisher) or RTCP (player, ≥ 15 s) for this long: gone
  int jitter_ms = 60;                     // publishers' jitter buffer: reorders (no added delay)
  int relay_buffer_ms = 20;               // the speaker's voice relayed to WHEP players: absorbs arrival jitter
  int opus_bitrate = 32000;               // of each language's shared encoding
};

struct Answer {
  std::string sdp;
  std::string id;  // the resource, for PATCH and DELETE
};

enum class PeerKind { publisher, player };

// A WHIP resource /whip/<code>/<id> or WHEP resource /whep/<code>/<language>/<id>.
struct ResourceRef {
  PeerKind kind = PeerKind::publisher;
  std::string code;
  std::string language;  // players only
  std::string id;
};

struct RtcStats {
  size_t publishers = 0;
  size_t players = 0;
  size_t tracks = 0;  // shared encodings running
  uint64_t answered = 0;
  uint64_t refused_full = 0;
  uint64_t failed = 0;          // negotiation failed, ICE failed
  uint64_t timed_out = 0;       // never connected, or media stopped
  uint64_t ended = 0;           // DELETE or session end
  uint64_t underrun_frames = 0;  // live source audio missing when due: silence sent
  uint64_t trimmed_ms = 0;       // live source audio dropped to keep the delay bounded
};

class Service {
 public:
  // failed_precondition when a GStreamer plugin is missing (with the package to install).
  static core::Result<std::unique_ptr<Service>> create(RtcConfig config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  using Done = std::function<void(core::Result<Answer>)>;
  // WHIP: the speaker's audio into `live`. `done` runs once, on the service's
  // thread. resource_exhausted when max_peers are connected.
  void publish(std::shared_ptr<session::LiveSession> live, std::string offer, Done done);
  // WHEP: `language`'s audio of `live` (the speaker's own voice for the source language).
  void play(std::shared_ptr<session::LiveSession> live, std::string language, std::string offer, Done done);
  // PATCH: trickled candidates. not_found for an unknown resource, or one
  // that is not of this kind, session and language.
  core::Status trickle(const ResourceRef& ref, std::string_view fragment);
  // DELETE. not_found as for trickle.
  core::Status end(const ResourceRef& ref);

  RtcStats stats() const;
  // For WHIP/WHEP Link headers: "<stun:host:port>; rel=\"ice-server\"".
  std::vector<std::string> ice_server_links() const;

  struct Impl;  // service.cpp; public so the tracks there can reach it

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::rtc

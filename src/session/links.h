// SPDX-License-Identifier: GPL-3.0-or-later
// What transports may do with a live session, by role. A speaker's
// connection sends audio, text and state changes; a listener's connection
// (WebSocket, HTTP audio stream, WebRTC player) receives. Each transport
// holds the one it needs, never the whole session.
//
// Every method is thread-safe and returns without waiting on engines or
// disk: network threads call them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/status.h"
#include "fanout/message.h"
#include "session/session.h"

namespace parley::session {

class TalkWords;

// Receives a language's audio as PCM, for transports that encode it
// themselves (WebRTC): the speaker's own audio for the source language, as it
// arrives; each utterance's translated speech, whole, for a target language.
// Called from network threads (source) or the session's worker (targets);
// must not block.
class AudioTap {
 public:
  virtual ~AudioTap() = default;
  virtual void on_audio(std::span<const int16_t> pcm, int rate_hz) = 0;
  // The session has ended; the tap has been removed.
  virtual void on_session_end() {}
};

class SpeakerLink {
 public:
  virtual ~SpeakerLink() = default;
  // State changes; the caller has checked the token.
  virtual core::Result<State> apply(Action action) = 0;
  // The speaker's connection: receives its transcript and listener counts.
  // One at a time: failed_precondition while another is attached, unless
  // `takeover`, which tells the other ("replaced") and closes it. Each
  // attached connection gets a generation (the welcome's
  // "speakerGeneration"); `resume` is the one a page held before it lost
  // its connection: a takeover from it replaces only that same generation
  // (its own connection the server has not yet seen drop), never another
  // page's that took over meanwhile (permission_denied: it was replaced).
  virtual core::Status attach_speaker(std::shared_ptr<fanout::Subscriber> speaker, bool takeover,
                                      std::optional<uint64_t> resume = std::nullopt) = 0;
  virtual void detach_speaker(const fanout::Subscriber* speaker) = 0;
  // One frame of mono PCM16 at `rate_hz`. `seq` counts frames from the
  // speaker's connection, 1, 2, 3, … (gaps are counted as lost audio); nullopt
  // for a transport that orders frames itself (WebRTC). invalid_argument for
  // an unusable rate, an oversized frame, or a sequence number that goes back
  // or jumps by more than a minute of frames.
  // `source` is the speaker connection sending it (as attached); frames from
  // a connection that was taken over are refused. nullptr: not checked.
  virtual core::Status push_audio(std::optional<uint32_t> seq, std::span<const int16_t> pcm, int rate_hz,
                                  const fanout::Subscriber* source) = 0;
  // The speaker's audio source stopped (a WebRTC publisher left): the
  // utterance in flight is finished rather than left open.
  virtual void end_of_audio() = 0;
  // A typed caption from the speaker, handled like a spoken utterance (after
  // the audio already sent). failed_precondition unless ACTIVE;
  // resource_exhausted when too many wait.
  virtual core::Status push_text(std::string text) = 0;
  // The session's vocabulary and script (talk_words.h).
  virtual TalkWords& words() = 0;
};

class ListenerLink {
 public:
  virtual ~ListenerLink() = default;
  static constexpr size_t kDefaultReplayBytes = 256 * 1024;
  // A listener in `language` (the source language, or any reachable target).
  // Registers it, then sends the welcome and the newest finals with
  // seq > after_seq that fit in max_replay_bytes, then the live stream; the
  // welcome's olderHistory names the finals left to fetch over REST. Reads
  // no store. not_found when the language cannot be reached.
  virtual core::Status add_listener(std::shared_ptr<fanout::Subscriber> listener, const std::string& language,
                                    int64_t after_seq, size_t max_replay_bytes = kDefaultReplayBytes) = 0;
  virtual void remove_listener(const std::string& language, const fanout::Subscriber* listener) = 0;
  // WebSocket listeners that want translated speech (speech mode full or
  // timeline), per language: +1 when one starts wanting it, -1 when it stops
  // or leaves. A language whose listeners all read captions only is not
  // synthesised (HTTP streams and taps always want it).
  virtual void count_speech_listener(const std::string& language, int delta) = 0;
  // A listener page heard the speech of final `seq` in full `lag_ms` after
  // its source speech ended (its own measure; /metrics aggregates them per
  // language). Taken only for speech the session sent in that language since
  // the listener joined at `joined_us` (one of the last 256; skipped speech
  // has none) and for a lag no longer than the time since its source speech
  // ended (+1 s), at most ten minutes. Returns whether the report was taken.
  virtual bool report_playback(const std::string& language, int64_t seq, int64_t lag_ms, int64_t joined_us) = 0;
  static constexpr int64_t kMaxReportedLagMs = 600'000;

  // Plain HTTP players: chained Ogg Opus links of the language's speech.
  // check_audio_stream says, without adding anything, whether
  // add_audio_stream would accept the language: not_found for the source
  // language or an unreachable one, unavailable without speech synthesis.
  virtual core::Status check_audio_stream(const std::string& language) const = 0;
  virtual core::Status add_audio_stream(std::shared_ptr<fanout::Subscriber> stream, const std::string& language) = 0;
  virtual void remove_audio_stream(const std::string& language, const fanout::Subscriber* stream) = 0;
  // A WebRTC player of `language`: counted in the audience and its caps
  // (resource_exhausted when full; not_found for an unreachable language).
  // Every add_player that succeeded is matched by one remove_player.
  virtual core::Status add_player(const std::string& language) = 0;
  virtual void remove_player(const std::string& language) = 0;
  // PCM of a language (AudioTap). A target language is translated and spoken
  // while it has a tap. not_found when the language cannot be reached;
  // unavailable without speech synthesis (targets only).
  virtual core::Status add_tap(const std::string& language, std::shared_ptr<AudioTap> tap) = 0;
  virtual void remove_tap(const std::string& language, const AudioTap* tap) = 0;
};

}  // namespace parley::session

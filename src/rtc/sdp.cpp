// SPDX-License-Identifier: GPL-3.0-or-later
#include "rtc/sdp.h"

#include <charconv>

namespace parley::rtc {
namespace {

// Calls fn(line) for every line, without its CR/LF.
template <class Fn>
void each_line(std::string_view text, Fn fn) {
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view line = text.substr(i, j - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(line);
    i = j + 1;
  }
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool lower_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

}  // namespace

core::Result<OfferSummary> inspect_offer(std::string_view sdp) {
  if (!starts_with(sdp, "v=0")) {
    return core::invalid_argument("the body is not an SDP offer (it must start with v=0); send the offer "
                                  "of RTCPeerConnection.createOffer() as application/sdp");
  }
  OfferSummary out;
  int mline = -1;
  bool in_audio = false, have_audio = false;
  std::string session_direction = "sendrecv";
  std::string audio_direction;
  each_line(sdp, [&](std::string_view line) {
    if (starts_with(line, "m=")) {
      ++mline;
      out.mids.emplace_back();
      in_audio = starts_with(line, "m=audio ") && !have_audio;
      if (in_audio) {
        have_audio = true;
        out.audio_mline = static_cast<size_t>(mline);
      }
      return;
    }
    if (mline >= 0 && starts_with(line, "a=mid:")) out.mids.back() = std::string(line.substr(6));
    const bool direction = line == "a=sendonly" || line == "a=recvonly" || line == "a=sendrecv" || line == "a=inactive";
    if (direction && mline < 0) session_direction = std::string(line.substr(2));
    if (!in_audio) return;
    if (direction) audio_direction = std::string(line.substr(2));
    // a=rtpmap:111 opus/48000/2
    if (starts_with(line, "a=rtpmap:") && out.opus_payload_type < 0) {
      auto rest = line.substr(9);
      auto space = rest.find(' ');
      if (space == std::string_view::npos) return;
      auto codec = rest.substr(space + 1, rest.find('/', space) - space - 1);
      if (!lower_equals(codec, "opus")) return;
      int pt = -1;
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + space, pt);
      if (ec == std::errc() && pt >= 0 && pt < 128) out.opus_payload_type = pt;
    }
  });
  if (!have_audio) return core::invalid_argument("the offer has no audio m-line; parley carries audio only");
  if (out.opus_payload_type < 0) return core::invalid_argument("the offer's audio does not offer Opus; parley speaks Opus");
  out.audio_direction = audio_direction.empty() ? session_direction : audio_direction;
  return out;
}

core::Result<std::vector<TrickleCandidate>> parse_trickle_fragment(std::string_view fragment,
                                                                   const OfferSummary& offer) {
  std::vector<TrickleCandidate> out;
  int mline = -1;  // fragment m-line, mapped to the offer's
  unsigned mapped = 0;
  bool bad = false;
  each_line(fragment, [&](std::string_view line) {
    if (starts_with(line, "m=")) {
      ++mline;
      mapped = static_cast<unsigned>(mline);
      return;
    }
    if (starts_with(line, "a=mid:")) {
      auto mid = line.substr(6);
      for (size_t i = 0; i < offer.mids.size(); ++i) {
        if (offer.mids[i] == mid) mapped = static_cast<unsigned>(i);
      }
      return;
    }
    if (starts_with(line, "a=candidate:")) {
      if (mline < 0 || line.size() > 512) {
        bad = true;
        return;
      }
      out.push_back({mapped, std::string(line.substr(2))});
    }
  });
  if (bad) return core::invalid_argument("a candidate line must follow its m= line and be shorter than 512 bytes");
  if (out.size() > 64) return core::invalid_argument("at most 64 candidates per request");
  return out;
}

}  // namespace parley::rtc

// SPDX-License-Identifier: GPL-3.0-or-later
#include "rtc/sdp.h"

#include <gtest/gtest.h>

namespace parley::rtc {
namespace {

// The shape of Chromium's WHIP offer (audio only, bundled), trimmed.
const char* kChromiumOffer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\n"
    "a=mid:0\r\n"
    "a=sendonly\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=rtpmap:9 G722/8000\r\n";

TEST(Sdp, FindsOpusPayloadTypeMidAndDirection) {
  auto o = inspect_offer(kChromiumOffer);
  ASSERT_TRUE(o.is_ok()) << o.status().message();
  EXPECT_EQ(o->opus_payload_type, 111);
  EXPECT_EQ(o->audio_mline, 0u);
  ASSERT_EQ(o->mids.size(), 1u);
  EXPECT_EQ(o->mids[0], "0");
  EXPECT_EQ(o->audio_direction, "sendonly");
}

TEST(Sdp, AudioAfterVideoAndLfLineEndings) {
  const std::string offer =
      "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=recvonly\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:v\na=rtpmap:96 VP8/90000\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 100\na=mid:a\na=rtpmap:100 OPUS/48000/2\n";
  auto o = inspect_offer(offer);
  ASSERT_TRUE(o.is_ok()) << o.status().message();
  EXPECT_EQ(o->opus_payload_type, 100);
  EXPECT_EQ(o->audio_mline, 1u);
  EXPECT_EQ(o->audio_direction, "recvonly");  // from the session level
}

TEST(Sdp, RefusesWhatIsNotAnOpusAudioOffer) {
  EXPECT_EQ(inspect_offer("").status().code(), core::Code::invalid_argument);
  EXPECT_EQ(inspect_offer("{\"sdp\": 1}").status().code(), core::Code::invalid_argument);
  auto video = inspect_offer("v=0\r\nm=video 9 RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n");
  EXPECT_NE(video.status().message().find("no audio"), std::string::npos);
  auto pcmu = inspect_offer("v=0\r\nm=audio 9 RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n");
  EXPECT_NE(pcmu.status().message().find("Opus"), std::string::npos);
  // A malformed payload type is not taken for one.
  auto bad = inspect_offer("v=0\r\nm=audio 9 RTP/SAVPF 300\r\na=rtpmap:300 opus/48000/2\r\n");
  EXPECT_FALSE(bad.is_ok());
}

TEST(Sdp, TrickleFragmentsMapToTheOffersMlines) {
  auto o = inspect_offer(
      "v=0\r\nm=video 9 X 96\r\na=mid:v\r\na=rtpmap:96 VP8/90000\r\nm=audio 9 X 111\r\na=mid:a\r\na=rtpmap:111 opus/48000/2\r\n");
  ASSERT_TRUE(o.is_ok());
  const std::string frag =
      "a=ice-ufrag:abcd\r\na=ice-pwd:xyz\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:a\r\n"
      "a=candidate:1 1 udp 2113937151 127.0.0.2 50000 typ host\r\n"
      "a=candidate:2 1 udp 2113937150 127.0.0.2 50001 typ host\r\n"
      "a=end-of-candidates\r\n";
  auto c = parse_trickle_fragment(frag, *o);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].mline, 1u);  // mid "a" is the offer's second m-line
  EXPECT_EQ((*c)[0].candidate, "candidate:1 1 udp 2113937151 127.0.0.2 50000 typ host");
}

TEST(Sdp, TrickleFragmentsAreBounded) {
  auto o = inspect_offer(kChromiumOffer);
  ASSERT_TRUE(o.is_ok());
  EXPECT_FALSE(parse_trickle_fragment("a=candidate:1 1 udp 1 127.0.0.2 1 typ host\r\n", *o).is_ok())
      << "a candidate before any m= line";
  std::string many = "m=audio 9 X 0\r\n";
  for (int i = 0; i < 65; ++i) many += "a=candidate:" + std::to_string(i) + " 1 udp 1 127.0.0.2 1 typ host\r\n";
  EXPECT_FALSE(parse_trickle_fragment(many, *o).is_ok());
  EXPECT_FALSE(parse_trickle_fragment("m=audio 9 X 0\r\na=candidate:" + std::string(600, 'x') + "\r\n", *o).is_ok());
  auto none = parse_trickle_fragment("a=end-of-candidates\r\n", *o);
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace parley::rtc

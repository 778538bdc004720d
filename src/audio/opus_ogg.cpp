// SPDX-License-Identifier: GPL-3.0-or-later
#include "audio/opus_ogg.h"

#include <ogg/ogg.h>
#include <opus/opus.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "audio/resampler.h"

namespace parley::audio {
namespace {

void put_le16(std::string& s, uint16_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>(v >> 8);
}
void put_le32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

struct OggStream {
  ogg_stream_state os{};
  explicit OggStream(uint32_t serial) { ogg_stream_init(&os, static_cast<int>(serial)); }
  ~OggStream() { ogg_stream_clear(&os); }
  OggStream(const OggStream&) = delete;
  OggStream& operator=(const OggStream&) = delete;

  void packet(const unsigned char* data, size_t n, int64_t granule, int64_t packetno, bool bos,
              bool eos) {
    ogg_packet p{};
    p.packet = const_cast<unsigned char*>(data);
    p.bytes = static_cast<long>(n);
    p.b_o_s = bos ? 1 : 0;
    p.e_o_s = eos ? 1 : 0;
    p.granulepos = granule;
    p.packetno = packetno;
    ogg_stream_packetin(&os, &p);
  }
  void drain(std::string& out, bool flush) {
    ogg_page page;
    while ((flush ? ogg_stream_flush(&os, &page) : ogg_stream_pageout(&os, &page)) != 0) {
      out.append(reinterpret_cast<const char*>(page.header), static_cast<size_t>(page.header_len));
      out.append(reinterpret_cast<const char*>(page.body), static_cast<size_t>(page.body_len));
    }
  }
};

struct EncoderDeleter {
  void operator()(OpusEncoder* e) const { opus_encoder_destroy(e); }
};

}  // namespace

core::Result<std::string> encode_ogg_opus(const MonoPcm& pcm_in, uint32_t serial,
                                          const OpusSettings& s) {
  const int rate = s.sample_rate_hz;
  if (rate != 8000 && rate != 12000 && rate != 16000 && rate != 24000 && rate != 48000) {
    return core::invalid_argument("Opus cannot encode at " + std::to_string(rate) + " Hz");
  }
  MonoPcm pcm = pcm_in;
  if (pcm.sample_rate_hz != rate) {
    auto r = resample(pcm_in, rate);
    if (!r) return r.status();
    pcm = std::move(*r);
  }
  int err = 0;
  std::unique_ptr<OpusEncoder, EncoderDeleter> enc(
      opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, &err));
  if (err != OPUS_OK) return core::internal_error(std::string("opus: ") + opus_strerror(err));
  opus_encoder_ctl(enc.get(), OPUS_SET_BITRATE(s.bitrate_bps));
  opus_encoder_ctl(enc.get(), OPUS_SET_COMPLEXITY(s.complexity));
  opus_encoder_ctl(enc.get(), OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  opus_int32 lookahead = 0;
  opus_encoder_ctl(enc.get(), OPUS_GET_LOOKAHEAD(&lookahead));
  const int scale = 48000 / rate;  // granule positions count 48 kHz samples
  const auto pre_skip = static_cast<uint16_t>(lookahead * scale);

  std::string out;
  OggStream ogg(serial);
  std::string head = "OpusHead";
  head += static_cast<char>(1);  // version
  head += static_cast<char>(1);  // channels
  put_le16(head, pre_skip);
  put_le32(head, static_cast<uint32_t>(rate));
  put_le16(head, 0);             // output gain
  head += static_cast<char>(0);  // mapping family
  ogg.packet(reinterpret_cast<const unsigned char*>(head.data()), head.size(), 0, 0, true, false);
  ogg.drain(out, true);
  std::string tags = "OpusTags";
  const std::string vendor = "parley";
  put_le32(tags, static_cast<uint32_t>(vendor.size()));
  tags += vendor;
  put_le32(tags, 0);
  ogg.packet(reinterpret_cast<const unsigned char*>(tags.data()), tags.size(), 0, 1, false, false);
  ogg.drain(out, true);

  const int frame = rate / 50;  // 20 ms
  const size_t n = pcm.samples.size();
  // Enough frames to push the encoder's lookahead out after the last sample.
  const size_t n_frames =
      (n + static_cast<size_t>(lookahead) + static_cast<size_t>(frame) - 1) / static_cast<size_t>(frame);
  std::vector<float> buf(static_cast<size_t>(frame));
  std::array<unsigned char, 4000> packet{};
  int64_t packetno = 2;
  for (size_t f = 0; f < std::max<size_t>(n_frames, 1); ++f) {
    size_t off = f * static_cast<size_t>(frame);
    std::fill(buf.begin(), buf.end(), 0.0F);
    if (off < n) std::memcpy(buf.data(), pcm.samples.data() + off, sizeof(float) * std::min<size_t>(frame, n - off));
    opus_int32 bytes = opus_encode_float(enc.get(), buf.data(), frame, packet.data(), packet.size());
    if (bytes < 0) return core::internal_error(std::string("opus_encode: ") + opus_strerror(bytes));
    const bool last = f + 1 >= std::max<size_t>(n_frames, 1);
    // The last page's granule marks the true end, trimming the padding.
    int64_t granule = last ? static_cast<int64_t>(pre_skip) + static_cast<int64_t>(n) * scale
                           : static_cast<int64_t>(pre_skip) + static_cast<int64_t>((f + 1) * frame) * scale;
    ogg.packet(packet.data(), static_cast<size_t>(bytes), granule, packetno++, false, last);
    ogg.drain(out, false);
  }
  ogg.drain(out, true);
  return out;
}

}  // namespace parley::audio

// SPDX-License-Identifier: GPL-3.0-or-later
// Reading and writing audio files through libsndfile. Any rate, any channel
// count and any PCM/float encoding libsndfile understands is accepted; channels
// are averaged to mono. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "audio/pcm.h"
#include "core/status.h"

namespace parley::audio {

// Reads a whole file as mono float at its own sample rate. Fails with
// invalid_argument and a one-line reason when the file is not audio, is empty
// or is truncated beyond use; not_found when it cannot be opened.
core::Result<MonoPcm> read_audio_file(const std::string& path);

// The same from bytes in memory (an uploaded file); `what` names it in
// errors. invalid_argument, without decoding further, once the audio runs
// past `max_seconds` (a small compressed file can hold hours).
core::Result<MonoPcm> decode_audio(std::string_view bytes, const std::string& what, int max_seconds = 6 * 3600);

// A whole mono PCM16 WAV file in memory, at pcm.sample_rate_hz.
std::string encode_wav16(const MonoPcm& pcm);

// A whole file in memory through libsndfile: "wav" (PCM16), "flac" or "mp3".
// invalid_argument for another format; unavailable when this libsndfile
// cannot write it.
core::Result<std::string> encode_audio(const MonoPcm& pcm, std::string_view format);

// Reads and converts to the pipeline's 16 kHz mono.
core::Result<MonoPcm> read_audio_file_16k(const std::string& path);

// Writes mono PCM16 WAV at pcm.sample_rate_hz.
core::Status write_wav16(const std::string& path, const MonoPcm& pcm);

}  // namespace parley::audio

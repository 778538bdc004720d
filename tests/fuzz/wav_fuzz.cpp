// SPDX-License-Identifier: GPL-3.0-or-later
// Uploaded audio files (`parley translate`): any bytes, read through
// libsndfile from an in-memory file, then mixed and resampled to 16 kHz.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "audio/wav_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("parley-fuzz-audio", 0);
  if (fd < 0) return 0;
  size_t off = 0;
  while (off < size) {
    ssize_t n = write(fd, data + off, size - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  (void)parley::audio::read_audio_file_16k("/proc/self/fd/" + std::to_string(fd));
  close(fd);
  return 0;
}

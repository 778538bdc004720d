// SPDX-License-Identifier: GPL-3.0-or-later
// `parley serve --config FILE`: any bytes as the file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "app/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("parley-fuzz-config", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    return 0;
  }
  parley::app::Config config({{"port", "8080", "port"}, {"db", "x.db", "database"}, {"api-keys", "", "keys"}});
  char* no_environment[] = {nullptr};
  if (config.load({"--config", "/proc/self/fd/" + std::to_string(fd)}, no_environment)) {
    (void)config.get_long("port", 0, 65535);
  }
  close(fd);
  return 0;
}

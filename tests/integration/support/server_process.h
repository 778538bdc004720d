// SPDX-License-Identifier: GPL-3.0-or-later
// A real `parley serve` on 127.0.0.1 with a free port and its own database,
// and small synchronous HTTP helpers to talk to it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace parley::testing {

class ServerProcess {
 public:
  // Starts the binary from $PARLEY_BIN; waits until it prints its port.
  // max_file_bytes > 0 limits the size of any file it writes (RLIMIT_FSIZE:
  // a disk that is full).
  explicit ServerProcess(std::string db_path, std::vector<std::string> extra_args = {},
                         uint64_t max_file_bytes = 0);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  unsigned short port() const { return port_; }
  // Sends a signal and waits for exit; returns the exit status (128+sig if killed).
  int stop(int signal);
  const std::string& stderr_path() const { return stderr_path_; }

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  std::string stderr_path_;
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string location;  // the Location header, where one was sent
};

HttpResult http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body = "", const std::string& bearer = "",
                        const std::string& content_type = "application/json");

// One sample of the server's GET /metrics (the line "series value"), or -1 when absent.
double metric(unsigned short port, const std::string& series);

// A loopback TCP port nothing listens on now (for servers a test starts).
unsigned short free_port();
// Whether something accepts connections on 127.0.0.1:port.
bool accepts(unsigned short port);

// Polls `condition` every 100 ms until it holds or `within` has passed.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds within);

}  // namespace parley::testing

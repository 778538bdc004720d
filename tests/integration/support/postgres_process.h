// SPDX-License-Identifier: GPL-3.0-or-later
// A PostgreSQL server of the test's own (Debian's postgresql package): a
// fresh cluster made with initdb in a temporary directory, on a free
// loopback port, run as the unprivileged `postgres` user when the test runs
// as root. Trust authentication on loopback only; the cluster is deleted
// afterwards.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace parley::testing {

class PostgresProcess {
 public:
  PostgresProcess();
  ~PostgresProcess();
  PostgresProcess(const PostgresProcess&) = delete;
  PostgresProcess& operator=(const PostgresProcess&) = delete;

  // postgresql://parley@127.0.0.1:<port>/postgres
  std::string address() const;
  void start();
  void stop(int signal);

 private:
  std::filesystem::path dir_;
  std::string bin_;  // the server's bin directory
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace parley::testing

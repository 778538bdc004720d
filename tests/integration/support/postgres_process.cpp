// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/postgres_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "support/server_process.h"

namespace parley::testing {

namespace {

// Debian installs the server under /usr/lib/postgresql/<version>/bin.
std::string server_bin() {
  std::string best;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (std::filesystem::exists(e.path() / "bin" / "postgres") && e.path().string() > best) best = e.path().string();
  }
  if (best.empty()) throw std::runtime_error("no PostgreSQL server under /usr/lib/postgresql (scripts/install-deps.sh)");
  return best + "/bin";
}

// Runs argv as `postgres` when root (the server refuses to run as root).
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);  // the server and its backends: one group, killed together
    if (FILE* f = std::fopen(log.c_str(), "a")) {
      ::dup2(::fileno(f), 1);
      ::dup2(::fileno(f), 2);
    }
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) std::_Exit(126);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  return pid;
}

}  // namespace

PostgresProcess::PostgresProcess()
    : dir_(std::filesystem::temp_directory_path() / ("parley-pg-" + std::to_string(::getpid()) + "-" +
                                                      std::to_string(free_port()))),
      bin_(server_bin()),
      port_(free_port()) {
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_ / "data");
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) throw std::runtime_error("no postgres user (is Debian's postgresql package installed?)");
    for (const auto& p : {dir_, dir_ / "data"}) {
      if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("cannot chown " + p.string());
    }
  }
  const pid_t init = spawn({bin_ + "/initdb", "-D", (dir_ / "data").string(), "-U", "parley", "-A", "trust",
                            "--no-sync", "-E", "UTF8", "--locale", "C"},
                           dir_ / "initdb.log");
  int status = 0;
  ::waitpid(init, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("initdb failed; see " + (dir_ / "initdb.log").string());
  }
  start();
}

PostgresProcess::~PostgresProcess() {
  stop(SIGQUIT);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PostgresProcess::address() const {
  return "postgresql://parley@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

void PostgresProcess::start() {
  // The port accepts while the server is still starting up (it then
  // answers "the database system is starting up"): ready is when its log
  // says so, once more than before this start (a restart appends).
  const auto log = dir_ / "server.log";
  const auto times_ready = [&] {
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t n = 0;
    for (size_t at = text.find("ready to accept connections"); at != std::string::npos;
         at = text.find("ready to accept connections", at + 1)) {
      ++n;
    }
    return n;
  };
  const size_t before = times_ready();
  // Loopback only, no Unix socket outside the cluster's directory.
  pid_ = spawn({bin_ + "/postgres", "-D", (dir_ / "data").string(), "-p", std::to_string(port_), "-h", "127.0.0.1",
                "-k", dir_.string(), "-c", "max_connections=100"},
               log);
  if (!eventually([&] { return accepts(port_) && times_ready() > before; }, std::chrono::seconds(20))) {
    throw std::runtime_error("PostgreSQL did not start; see " + log.string());
  }
}

void PostgresProcess::stop(int signal) {
  if (pid_ <= 0) return;
  // SIGKILL: the whole server at once, as a crash of its machine would.
  ::kill(signal == SIGKILL ? -pid_ : pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace parley::testing

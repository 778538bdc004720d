// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/http_client.h"

namespace parley::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

ServerProcess::ServerProcess(std::string db_path, std::vector<std::string> extra_args, uint64_t max_file_bytes) {
  const char* bin = std::getenv("PARLEY_BIN");
  if (bin == nullptr) throw std::runtime_error("PARLEY_BIN is not set (run through ctest)");
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe");
  // Beside the database file; for a PostgreSQL database, in the temp directory.
  static std::atomic<int> n_servers{0};
  if (db_path.rfind("postgresql://", 0) == 0) {
    std::string name = "parley-";
    name += std::to_string(::getpid());
    name += '-';
    name += std::to_string(n_servers++);
    name += ".stderr.log";
    stderr_path_ = (std::filesystem::temp_directory_path() / name).string();
  } else {
    stderr_path_ = db_path;
    stderr_path_ += ".stderr.log";
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) ::dup2(err, 2);
    ::close(out[0]);
    ::close(out[1]);
    if (max_file_bytes > 0) {
      const rlimit limit{max_file_bytes, max_file_bytes};
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    std::vector<std::string> args = {bin, "serve", "--host", "127.0.0.1", "--port", "0", "--db", db_path};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin, argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  // "parley is serving on port N — …"
  std::string line;
  char c = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && ::read(out[0], &c, 1) == 1) {
    if (c == '\n') break;
    line += c;
  }
  ::close(out[0]);
  auto at = line.find("port ");
  if (at == std::string::npos) {
    stop(SIGKILL);
    throw std::runtime_error("parley serve did not start: '" + line + "'");
  }
  port_ = static_cast<unsigned short>(std::stoi(line.substr(at + 5)));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGKILL);
}

int ServerProcess::stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

HttpResult http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body, const std::string& bearer, const std::string& content_type) {
  auto r = tools::http_call("127.0.0.1", port, http::string_to_verb(method), target, body, bearer, content_type);
  return {r.status, std::move(r.body), std::move(r.content_type), std::move(r.location)};
}

double metric(unsigned short port, const std::string& series) {
  auto r = http_request(port, "GET", "/metrics");
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

}  // namespace parley::testing

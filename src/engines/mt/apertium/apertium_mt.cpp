// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/mt/apertium/apertium_mt.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include "core/clock.h"
#include "core/utf8.h"
#include "core/log.h"
#include "engines/language.h"

namespace parley::engines::mt {
namespace {

namespace fs = std::filesystem;

// Longest input one call accepts; callers split longer text into sentences.
constexpr size_t kMaxInputBytes = 16 * 1024;

void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

// "eng-spa" → {en, es}; nullopt for variants ("eng-cat_valencia") and
// anything that is not a plain pair ("eco-es-fr").
std::optional<Direction> parse_mode_name(const std::string& stem) {
  if (stem.find('_') != std::string::npos) return std::nullopt;
  auto dash = stem.find('-');
  if (dash == std::string::npos || stem.find('-', dash + 1) != std::string::npos) return std::nullopt;
  auto from = normalize_language(stem.substr(0, dash));
  auto to = normalize_language(stem.substr(dash + 1));
  if (!from || !to || *from == *to) return std::nullopt;
  return Direction{*from, *to};
}

// Runs a command and returns its stdout (used once per direction at start-up).
core::Result<std::string> capture(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return core::unavailable("cannot run: " + command);
  std::string out;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int rc = ::pclose(p);
  if (rc != 0) return core::unavailable("'" + command + "' failed (exit " + std::to_string(rc) + ")");
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

// One running Apertium pipeline: bash running the null-flush mode script.
class Pipeline {
 public:
  static core::Result<std::unique_ptr<Pipeline>> start(const std::string& script) {
    ignore_sigpipe_once();
    int in_pipe[2], out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) return core::unavailable("pipe() failed");
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
      ::close(in_pipe[0]);
      ::close(in_pipe[1]);
      return core::unavailable("pipe() failed");
    }
    // Everything the child needs is built before fork(): in a threaded
    // process the child may only make async-signal-safe calls (no setenv,
    // no allocation) before exec.
    std::vector<std::string> env_strings{"LC_ALL=C.UTF-8"};
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "LC_ALL=", 7) != 0) env_strings.emplace_back(*e);
    }
    std::vector<char*> env;
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    const char* const argv[] = {"bash", "-c", script.c_str(), "parley-apertium", "-n", "", nullptr};
    pid_t pid = ::fork();
    if (pid < 0) {
      for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
      return core::unavailable("fork() failed: " + std::string(std::strerror(errno)));
    }
    if (pid == 0) {
      // Child: own process group so the whole pipeline can be killed at once.
      ::setpgid(0, 0);
      ::dup2(in_pipe[0], STDIN_FILENO);
      ::dup2(out_pipe[1], STDOUT_FILENO);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, STDERR_FILENO);
      // Nothing else of the server's goes along: an inherited client socket
      // would stay open in Apertium after the server closed it (no FIN).
      if (::close_range(3, ~0U, 0) != 0) {
        for (long fd = 3, n = ::sysconf(_SC_OPEN_MAX); fd < n; ++fd) ::close(static_cast<int>(fd));
      }
      // $1 is the generator's option (-n: no marks on unknown words), $2 the
      // tagger's (none).
      ::execve("/bin/bash", const_cast<char* const*>(argv), env.data());
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    return std::unique_ptr<Pipeline>(new Pipeline(pid, in_pipe[1], out_pipe[0]));
  }

  ~Pipeline() {
    if (to_child_ >= 0) ::close(to_child_);
    if (from_child_ >= 0) ::close(from_child_);
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

  // Sends one NUL-terminated segment and reads the answer up to its NUL.
  core::Result<std::string> roundtrip(const std::string& segment, std::chrono::milliseconds timeout) {
    // A new pipeline's first answer also waits for its processes to start
    // and load their dictionaries: seconds more on a loaded machine.
    const int64_t allowance_ms = answered_ ? 0 : kStartUpMs;
    const int64_t deadline_us = core::now_us() + (timeout.count() + allowance_ms) * 1000;
    // An answer nobody asked for (a late second answer to an earlier
    // segment): this pipeline is out of step. Tried again on a fresh one.
    pollfd early{from_child_, POLLIN, 0};
    if (!pending_.empty() || ::poll(&early, 1, 0) > 0) return died("the Apertium pipeline answered out of step");
    size_t off = 0;
    while (off < segment.size()) {
      ssize_t n = ::write(to_child_, segment.data() + off, segment.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return died("the Apertium pipeline stopped accepting input");
      off += static_cast<size_t>(n);
    }
    std::array<char, 4096> buf{};
    for (;;) {
      if (auto nul = pending_.find('\0'); nul != std::string::npos) {
        std::string out = pending_.substr(0, nul);
        pending_.erase(0, nul + 1);
        // More than one answer to one segment: the pipeline is out of step,
        // and this answer may belong to another sentence. Never reused.
        if (!pending_.empty()) return broken("the Apertium pipeline answered out of step");
        answered_ = true;
        return out;
      }
      int64_t left_ms = (deadline_us - core::now_us()) / 1000;
      if (left_ms <= 0) return broken("the Apertium pipeline did not answer in time");
      pollfd p{from_child_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left_ms));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) continue;  // re-checks the deadline
      ssize_t n = ::read(from_child_, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return died("the Apertium pipeline exited");
      if (pending_.size() + static_cast<size_t>(n) > 4 * kMaxInputBytes + 65536) {
        return broken("the Apertium pipeline produced an oversized answer");
      }
      pending_.append(buf.data(), static_cast<size_t>(n));
    }
  }

  bool healthy() const { return healthy_; }
  // It died (killed, crashed) rather than failing on this input: the same
  // segment may be tried again on a fresh pipeline.
  bool died() const { return died_; }

 private:
  Pipeline(pid_t pid, int to_child, int from_child)
      : pid_(pid), to_child_(to_child), from_child_(from_child) {}

  core::Status broken(const std::string& why) {
    healthy_ = false;
    return core::unavailable(why);
  }
  core::Status died(const std::string& why) {
    died_ = true;
    return broken(why);
  }

  pid_t pid_;
  int to_child_;
  int from_child_;
  static constexpr int64_t kStartUpMs = 10'000;
  std::string pending_;
  bool healthy_ = true;
  bool died_ = false;
  bool answered_ = false;  // it has answered once: started and loaded
};

// The pipelines of one direction. Thread-safe.
class DirectionPool {
 public:
  DirectionPool(std::string mode_file, int max_pipelines)
      : mode_file_(std::move(mode_file)), max_(std::max(1, max_pipelines)) {}

  // A pipeline that died under the segment (killed, out of memory) is
  // replaced and the segment tried once more; one that timed out is not
  // (the input itself may be what is slow).
  core::Result<std::string> translate(const std::string& segment, std::chrono::milliseconds timeout) {
    for (int attempt = 0;; ++attempt) {
      auto p = borrow();
      if (!p) return p.status();
      std::unique_ptr<Pipeline> pipeline = std::move(*p);
      auto out = pipeline->roundtrip(segment, timeout);
      const bool retry = !out && pipeline->died() && attempt == 0;
      give_back(std::move(pipeline));
      if (!retry) return out;
    }
  }

 private:
  core::Result<std::unique_ptr<Pipeline>> borrow() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || n_running_ < max_; });
    if (!idle_.empty()) {
      auto p = std::move(idle_.back());
      idle_.pop_back();
      return p;
    }
    ++n_running_;
    if (script_.empty()) {
      auto s = capture("apertium-wblank-mode -z " + shell_quote(mode_file_));
      if (!s || s->empty()) {
        --n_running_;
        cv_.notify_one();
        return core::unavailable("cannot build the null-flush pipeline for " + mode_file_ +
                                 "; is the apertium package installed?");
      }
      script_ = *s;
    }
    lock.unlock();
    auto p = Pipeline::start(script_);
    if (!p) {
      lock.lock();
      --n_running_;
      cv_.notify_one();
      return p.status();
    }
    return p;
  }

  void give_back(std::unique_ptr<Pipeline> p) {
    std::lock_guard lock(mu_);
    if (p->healthy()) {
      idle_.push_back(std::move(p));
    } else {
      core::log_warn("apertium", "restarting a failed pipeline for " + mode_file_);
      --n_running_;  // the broken one is destroyed (killed) here
    }
    cv_.notify_one();
  }

  const std::string mode_file_;
  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Pipeline>> idle_;
  int n_running_ = 0;
  std::string script_;
};

class ApertiumModel;

class ApertiumStream final : public Stream {
 public:
  ApertiumStream(std::shared_ptr<DirectionPool> pool, std::chrono::milliseconds timeout)
      : pool_(std::move(pool)), timeout_(timeout) {}

  core::Result<std::string> translate(std::string_view text) override {
    if (text.size() > kMaxInputBytes) {
      return core::invalid_argument("text longer than 16 KiB; split it into sentences");
    }
    // A trailing blank keeps the final punctuation (Apertium treats the end
    // of a segment as a blank it must reproduce).
    std::string segment = apertium_escape(text);
    segment += '\n';
    segment += '\0';
    auto raw = pool_->translate(segment, timeout_);
    if (!raw) return raw.status();
    return apertium_clean_output(*raw);
  }

  // Starts a pipeline and runs one word through it: the tools load their
  // transducers on first input.
  core::Status prepare() override { return translate("Ok.").status(); }

 private:
  std::shared_ptr<DirectionPool> pool_;
  std::chrono::milliseconds timeout_;
};

class ApertiumModel final : public Model {
 public:
  ApertiumModel(ApertiumConfig c, std::vector<std::pair<Direction, std::string>> modes)
      : c_(std::move(c)) {
    for (auto& [dir, file] : modes) {
      if (pools_.count(key(dir)) != 0) continue;  // "en-gl" and "eng-glg" name one direction
      directions_.push_back(dir);
      pools_.emplace(key(dir), std::make_shared<DirectionPool>(file, c_.pipelines_per_direction));
    }
  }

  std::string name() const override { return "apertium"; }
  std::vector<Direction> directions() const override { return directions_; }

  core::Result<std::unique_ptr<Stream>> open_stream(const Direction& d) const override {
    auto it = pools_.find(key(d));
    if (it == pools_.end()) {
      return core::not_found("no Apertium pair for " + d.from + "→" + d.to);
    }
    return std::unique_ptr<Stream>(std::make_unique<ApertiumStream>(it->second, c_.timeout));
  }

 private:
  static std::string key(const Direction& d) { return d.from + ">" + d.to; }
  ApertiumConfig c_;
  std::vector<Direction> directions_;
  std::map<std::string, std::shared_ptr<DirectionPool>> pools_;
};

}  // namespace

std::string apertium_escape(std::string_view raw) {
  // Malformed UTF-8 and noncharacters (lttoolbox uses U+FFFF itself) put a
  // null-flush pipeline out of step: every later answer would belong to the
  // sentence before it.
  const std::string text = core::sanitize_utf8(raw);
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {  // NUL would end the segment; controls are noise
      out += ' ';
      continue;
    }
    if (std::strchr("\\[]^$/@<>{}*#~", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

std::string apertium_clean_output(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  bool at_word_start = true;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      out += raw[++i];
      at_word_start = false;
      continue;
    }
    // Apertium's marks for unknown (*), untransferred (@) and ungenerated (#)
    // words sit at the start of a word; a listener should hear the word only.
    if (at_word_start && (c == '*' || c == '@' || c == '#')) continue;
    at_word_start = (c == ' ' || c == '\n' || c == '\t');
    out += c;
  }
  // Trim the segment's trailing blank and any surrounding whitespace.
  auto first = out.find_first_not_of(" \n\t");
  if (first == std::string::npos) return {};
  auto last = out.find_last_not_of(" \n\t");
  return out.substr(first, last - first + 1);
}

core::Result<std::shared_ptr<const Model>> make_apertium_mt(ApertiumConfig config) {
  std::vector<std::pair<Direction, std::string>> modes;
  std::error_code ec;
  if (fs::is_directory(config.modes_dir, ec)) {
    for (const auto& entry : fs::directory_iterator(config.modes_dir, ec)) {
      if (entry.path().extension() != ".mode") continue;
      if (auto d = parse_mode_name(entry.path().stem().string())) {
        modes.emplace_back(*d, entry.path().string());
      }
    }
  }
  if (modes.empty()) {
    return core::unavailable("no Apertium language pair is installed in " + config.modes_dir +
                             "; install one, e.g. apt-get install apertium-eng-spa");
  }
  std::sort(modes.begin(), modes.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.from, a.first.to) < std::tie(b.first.from, b.first.to);
  });
  return std::shared_ptr<const Model>(std::make_shared<ApertiumModel>(std::move(config), std::move(modes)));
}

}  // namespace parley::engines::mt

// SPDX-License-Identifier: GPL-3.0-or-later
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/commands.h"
#include "core/log.h"

namespace parley::app {

void print_error(const std::string& message) {
  std::fprintf(stderr, "parley: %s\n", message.c_str());
}

}  // namespace parley::app

namespace {

constexpr const char* kHelp = R"(parley — self-hosted real-time speech translation

usage: parley COMMAND [options]

commands:
  serve                         run the live server (speaker and listener pages,
                                REST API, WebSocket, audio streams)
  translate IN.wav --to es,fr   translate a recording: captions (.vtt), speech
                                (.wav) and a timing report per target language
  translate-text --from en --to fr
                                translate lines from stdin to stdout
  languages                     list recognisable, translatable and speakable
                                languages on this machine, with their engines
  engines                       list the engines parley can use and their
                                settings (chosen with --vad, --stt, --mt, --tts)

Run 'parley COMMAND --help' for a command's options.
Set PARLEY_LOG=debug|info|warn|error for engine diagnostics on stderr.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace parley;
  if (const char* lvl = std::getenv("PARLEY_LOG")) {
    core::set_log_level(core::parse_log_level(lvl, core::LogLevel::warn));
  }
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kHelp, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::puts("parley 0.1.0");
    return 0;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "translate") return app::run_translate(args);
  if (command == "translate-text") return app::run_translate_text(args);
  if (command == "languages") return app::run_languages(args);
  if (command == "engines") return app::run_engines(args);
  if (command == "serve") return app::run_serve(args);
  app::print_error("unknown command '" + command + "'; run 'parley --help'");
  return 2;
}

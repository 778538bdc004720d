// SPDX-License-Identifier: GPL-3.0-or-later
// ONNX model files (the VAD's --vad 'silero(model=PATH)'): the protocol-buffer
// walker that reads their float tensors must fail cleanly on any bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engines/vad/silero/onnx_constants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = parley::engines::vad::onnx_float_constants(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!t) return 0;
  for (const auto& [name, tensor] : *t) {
    if (name.empty()) std::abort();  // every tensor is named
    (void)tensor.values.size();
  }
  return 0;
}

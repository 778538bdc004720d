// SPDX-License-Identifier: GPL-3.0-or-later
// Reads the float tensors of an ONNX model file: its initializers and the
// values of its Constant nodes, in every subgraph (If branches included).
//
// Only what a small fixed network needs: no graph execution, no shapes
// inferred, no external data files. The file is a protocol buffer (ModelProto
// in onnx.proto); this walks its wire format directly, so parley needs neither
// protobuf's generated code nor an ONNX runtime.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace parley::engines::vad {

struct FloatTensor {
  std::vector<int64_t> dims;
  std::vector<float> values;
};

// Every float tensor by name (a Constant node's by its output's name). Fails
// with invalid_argument when the bytes are not a well-formed ModelProto.
core::Result<std::map<std::string, FloatTensor>> onnx_float_constants(std::string_view bytes);

}  // namespace parley::engines::vad

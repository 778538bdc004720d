// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/vad/silero/onnx_constants.h"

#include <bit>
#include <cstring>
#include <optional>

namespace parley::engines::vad {
namespace {

// Protocol buffers store fixed-width numbers little-endian; they are copied as they are.
static_assert(std::endian::native == std::endian::little, "onnx_constants.cpp reads little-endian floats directly");

// Field numbers from onnx.proto.
constexpr uint32_t kModelGraph = 7;
constexpr uint32_t kGraphNode = 1, kGraphInitializer = 5;
constexpr uint32_t kNodeOutput = 2, kNodeOpType = 4, kNodeAttribute = 5;
constexpr uint32_t kAttrTensor = 5, kAttrGraph = 6, kAttrGraphs = 11;
constexpr uint32_t kTensorDims = 1, kTensorDataType = 2, kTensorFloatData = 4, kTensorName = 8,
                   kTensorRawData = 9;
constexpr uint64_t kTypeFloat = 1;
constexpr int kMaxDepth = 16;  // nested subgraphs; a deeper file is refused, not followed

enum Wire : uint32_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t varint = 0;     // kVarint, kFixed64, kFixed32
  std::string_view bytes;  // kBytes
};

// One message's fields in order; any malformed byte ends it with ok() false.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  std::optional<Field> next() {
    if (pos_ >= data_.size() || !ok_) return std::nullopt;
    auto key = varint();
    if (!key) return fail();
    Field f;
    f.number = static_cast<uint32_t>(*key >> 3);
    f.wire = static_cast<uint32_t>(*key & 7);
    switch (f.wire) {
      case kVarint: {
        auto v = varint();
        if (!v) return fail();
        f.varint = *v;
        break;
      }
      case kFixed64:
      case kFixed32: {
        const size_t n = f.wire == kFixed64 ? 8 : 4;
        if (data_.size() - pos_ < n) return fail();
        std::memcpy(&f.varint, data_.data() + pos_, n);  // little-endian host
        pos_ += n;
        break;
      }
      case kBytes: {
        auto n = varint();
        if (!n || *n > data_.size() - pos_) return fail();
        f.bytes = data_.substr(pos_, *n);
        pos_ += *n;
        break;
      }
      default:
        return fail();
    }
    return f;
  }

  bool ok() const { return ok_; }

  std::optional<uint64_t> varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      const auto b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return std::nullopt;
  }

 private:
  std::nullopt_t fail() {
    ok_ = false;
    return std::nullopt;
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

struct Walk {
  std::map<std::string, FloatTensor> out;
  bool ok = true;

  void tensor(std::string_view bytes, std::string name) {
    Reader r(bytes);
    FloatTensor t;
    uint64_t type = 0;
    std::string_view raw;
    std::vector<float> listed;
    while (auto f = r.next()) {
      if (f->number == kTensorDims && f->wire == kVarint) {
        t.dims.push_back(static_cast<int64_t>(f->varint));
      } else if (f->number == kTensorDims && f->wire == kBytes) {  // packed
        Reader p(f->bytes);
        while (auto d = p.varint()) t.dims.push_back(static_cast<int64_t>(*d));
      } else if (f->number == kTensorDataType && f->wire == kVarint) {
        type = f->varint;
      } else if (f->number == kTensorFloatData && f->wire == kBytes) {  // packed
        const size_t n = f->bytes.size() / sizeof(float);
        const size_t at = listed.size();
        listed.resize(at + n);
        if (n > 0) std::memcpy(listed.data() + at, f->bytes.data(), n * sizeof(float));
      } else if (f->number == kTensorFloatData && f->wire == kFixed32) {
        float v;
        std::memcpy(&v, &f->varint, sizeof v);
        listed.push_back(v);
      } else if (f->number == kTensorName && f->wire == kBytes && name.empty()) {
        name = std::string(f->bytes);
      } else if (f->number == kTensorRawData && f->wire == kBytes) {
        raw = f->bytes;
      }
    }
    if (!r.ok()) {
      ok = false;
      return;
    }
    if (type != kTypeFloat || name.empty()) return;
    if (!raw.empty()) {
      t.values.resize(raw.size() / sizeof(float));
      if (!t.values.empty()) std::memcpy(t.values.data(), raw.data(), t.values.size() * sizeof(float));
    } else {
      t.values = std::move(listed);
    }
    out[std::move(name)] = std::move(t);
  }

  void node(std::string_view bytes, int depth) {
    Reader r(bytes);
    std::string output, op;
    std::vector<std::string_view> attributes;
    while (auto f = r.next()) {
      if (f->wire != kBytes) continue;
      if (f->number == kNodeOutput && output.empty()) output = std::string(f->bytes);
      if (f->number == kNodeOpType) op = std::string(f->bytes);
      if (f->number == kNodeAttribute) attributes.push_back(f->bytes);
    }
    if (!r.ok()) {
      ok = false;
      return;
    }
    for (auto a : attributes) {
      Reader ar(a);
      while (auto f = ar.next()) {
        if (f->wire != kBytes) continue;
        if (f->number == kAttrTensor && op == "Constant") tensor(f->bytes, output);
        if (f->number == kAttrGraph || f->number == kAttrGraphs) graph(f->bytes, depth + 1);
      }
      if (!ar.ok()) ok = false;
    }
  }

  void graph(std::string_view bytes, int depth) {
    if (depth > kMaxDepth) {
      ok = false;
      return;
    }
    Reader r(bytes);
    while (auto f = r.next()) {
      if (f->wire != kBytes) continue;
      if (f->number == kGraphNode) node(f->bytes, depth);
      if (f->number == kGraphInitializer) tensor(f->bytes, "");
    }
    if (!r.ok()) ok = false;
  }
};

}  // namespace

core::Result<std::map<std::string, FloatTensor>> onnx_float_constants(std::string_view bytes) {
  Walk w;
  Reader r(bytes);
  bool graph_seen = false;
  while (auto f = r.next()) {
    if (f->number == kModelGraph && f->wire == kBytes) {
      graph_seen = true;
      w.graph(f->bytes, 0);
    }
  }
  if (!r.ok() || !w.ok) return core::invalid_argument("not a well-formed ONNX model (protocol buffer damaged)");
  if (!graph_seen) return core::invalid_argument("not an ONNX model: it has no graph");
  return std::move(w.out);
}

}  // namespace parley::engines::vad

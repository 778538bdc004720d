// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/qr.h"

#include <qrencode.h>

#include <memory>

namespace parley::transport {

core::Result<std::string> qr_svg(const std::string& text) {
  if (text.empty() || text.size() > 1024) return core::invalid_argument("QR text must be 1–1024 bytes");
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeData(static_cast<int>(text.size()), reinterpret_cast<const unsigned char*>(text.data()), 0,
                        QR_ECLEVEL_M),
      &QRcode_free);
  if (!qr) return core::internal_error("QR encoding failed");
  const int w = qr->width, margin = 4, size = w + 2 * margin;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(size) + " " +
                    std::to_string(size) + "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
                    "fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < w; ++y) {
    for (int x = 0; x < w; ++x) {
      if (qr->data[y * w + x] & 1) {
        svg += "M" + std::to_string(x + margin) + " " + std::to_string(y + margin) + "h1v1h-1z";
      }
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace parley::transport

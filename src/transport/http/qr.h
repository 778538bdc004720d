// SPDX-License-Identifier: GPL-3.0-or-later
// QR codes as SVG (libqrencode), for the listener link on the speaker page.
#pragma once

#include <string>

#include "core/status.h"

namespace parley::transport {

core::Result<std::string> qr_svg(const std::string& text);

}  // namespace parley::transport

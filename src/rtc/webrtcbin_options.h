// SPDX-License-Identifier: GPL-3.0-or-later
// Settings every webrtcbin of parley's gets, the server's peers and the
// load tool's alike. Header-only, so the tool needs GStreamer but not the
// server's WebRTC library.
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

namespace parley::rtc {

// libnice would look for a UPnP gateway (SSDP multicast) on every interface
// for every peer; neither a server nor a test peer has any use for port
// mappings. Reaches libnice's agent through webrtcbin's ICE object, where
// this GStreamer has one.
inline void disable_upnp(GstElement* webrtc) {
  GstWebRTCICE* ice = nullptr;
  g_object_get(webrtc, "ice-agent", &ice, nullptr);
  if (ice == nullptr) return;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent") != nullptr) {
    GObject* agent = nullptr;
    g_object_get(ice, "agent", &agent, nullptr);
    if (agent != nullptr) {
      g_object_set(agent, "upnp", FALSE, nullptr);
      g_object_unref(agent);
    }
  }
  gst_object_unref(ice);
}

}  // namespace parley::rtc

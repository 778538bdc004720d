// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/rtc_routes.h"

#include "session/session.h"

namespace parley::transport {
namespace {

void allow_cross_origin(Response& res) {
  res.set(http::field::access_control_allow_origin, "*");
  res.set(http::field::access_control_expose_headers, "Location, Link");
}

Response error(const Request& req, const core::Status& st) {
  Response res = error_response(req, st);
  if (st.code() == core::Code::resource_exhausted && st.retry_after_s() == 0) res.set(http::field::retry_after, "10");
  allow_cross_origin(res);
  return res;
}

Response empty(const Request& req, http::status st) {
  Response res{st, req.version()};
  res.set(http::field::server, "parley");
  res.keep_alive(req.keep_alive());
  allow_cross_origin(res);
  res.prepare_payload();
  return res;
}

bool has_type(const Request& req, std::string_view type) {
  auto ct = req[http::field::content_type];
  return ct.substr(0, type.size()) == type;
}

}  // namespace

bool is_rtc_target(std::string_view path) {
  return path.rfind("/whip/", 0) == 0 || path.rfind("/whep/", 0) == 0;
}

void handle_rtc(const ApiContext& ctx, const Request& req, const Client& client, std::function<void(Response)> reply) {
  const Target t = parse_target(req.target());
  const auto parts = split_path(t.path);
  const bool whip = parts.at(0) == "whip";
  const rtc::PeerKind kind = whip ? rtc::PeerKind::publisher : rtc::PeerKind::player;
  // whip/<code>[/<id>], whep/<code>/<lang>[/<id>]
  const size_t base_parts = whip ? 2 : 3;
  if (parts.size() != base_parts && parts.size() != base_parts + 1) {
    return reply(error(req, core::not_found(whip ? "WHIP endpoints look like /whip/<code>"
                                                 : "WHEP endpoints look like /whep/<code>/<language>")));
  }
  const bool resource = parts.size() == base_parts + 1;
  const auto method = req.method();
  if (method == http::verb::options) {
    Response res = empty(req, http::status::no_content);
    res.set(http::field::allow, resource ? "PATCH, DELETE, OPTIONS" : "POST, OPTIONS");
    if (!resource) res.set("Accept-Post", "application/sdp");
    res.set(http::field::access_control_allow_methods, "POST, PATCH, DELETE, OPTIONS");
    res.set(http::field::access_control_allow_headers, "Authorization, Content-Type, If-Match");
    if (ctx.rtc) {
      for (const auto& link : ctx.rtc->ice_server_links()) res.insert(http::field::link, link);
    }
    return reply(std::move(res));
  }
  if (!ctx.rtc) {
    return reply(error(req, core::unavailable("WebRTC is off on this server (started with --rtc off); "
                                              "send audio over the WebSocket")));
  }
  const std::string& code = parts[1];
  if (resource) {
    const rtc::ResourceRef ref{kind, code, whip ? std::string() : parts[2], parts.back()};
    if (method == http::verb::delete_) {
      if (auto st = ctx.rtc->end(ref); !st) return reply(error(req, st));
      return reply(empty(req, http::status::ok));
    }
    if (method == http::verb::patch) {
      if (!has_type(req, "application/trickle-ice-sdpfrag")) {
        return reply(error(req, core::invalid_argument("PATCH takes application/trickle-ice-sdpfrag")));
      }
      if (auto st = ctx.rtc->trickle(ref, req.body()); !st) return reply(error(req, st));
      return reply(empty(req, http::status::no_content));
    }
    Response res = error(req, core::invalid_argument("a WebRTC resource takes PATCH or DELETE"));
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "PATCH, DELETE, OPTIONS");
    return reply(std::move(res));
  }
  if (method != http::verb::post) {
    Response res = error(req, core::invalid_argument("POST an SDP offer here"));
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "POST, OPTIONS");
    return reply(std::move(res));
  }
  if (!has_type(req, "application/sdp")) {
    Response res = error(req, core::invalid_argument("the offer must be sent as Content-Type: application/sdp"));
    res.result(http::status::unsupported_media_type);
    return reply(std::move(res));
  }
  if (!session::is_valid_code(code)) {
    std::string msg = "'";
    msg.append(code, 0, std::min<size_t>(code.size(), 16)).append("' is not a session code; codes have six digits");
    return reply(error(req, core::not_found(msg)));
  }
  auto found = find_live(ctx, client, code);
  if (!found) return reply(error(req, found.status()));
  auto live = std::move(*found);
  if (live->is_view()) {
    // Several nodes: WebRTC media stays on the node that runs the session
    // (docs/deploy.md). A 503 lets nginx try the next node, and the pages
    // fall back to the WebSocket; a 201 here would publish into nothing or
    // play silence.
    return reply(error(req, core::unavailable("session " + code + " runs on another node of this service, and "
                                              "WebRTC reaches it only there; use the WebSocket, or connect "
                                              "through the front that sends /whip and /whep by session code")
                                .with_retry_after(1)));
  }
  std::string prefix = whip ? "/whip/" : "/whep/";
  prefix.append(code).append("/");
  if (whip) {
    auto token = bearer(req);
    if (!token) {
      Response res = error(req, core::unauthenticated("send the speaker token as 'Authorization: Bearer <token>'"));
      res.set(http::field::www_authenticate, "Bearer");
      return reply(std::move(res));
    }
    if (auto st = peek(ctx, client, guard::Action::bad_credential); !st) return reply(error(req, st));
    if (!live->token_matches(*token)) {
      if (auto st = take(ctx, client, guard::Action::bad_credential); !st) return reply(error(req, st));
      return reply(error(req, core::permission_denied("this token does not speak in session " + code)));
    }
  } else {
    prefix.append(parts[2]).append("/");
  }
  auto links = ctx.rtc->ice_server_links();
  auto respond = [req_version = req.version(), keep = req.keep_alive(), prefix, links, reply,
                  head = Request(req.method(), req.target(), req.version())](core::Result<rtc::Answer> a) {
    Request r = head;
    r.keep_alive(keep);
    if (!a) return reply(error(r, a.status()));
    Response res{http::status::created, req_version};
    res.set(http::field::server, "parley");
    res.set(http::field::content_type, "application/sdp");
    res.set(http::field::location, prefix + a->id);
    res.set(http::field::cache_control, "no-store");
    for (const auto& link : links) res.insert(http::field::link, link);
    allow_cross_origin(res);
    res.keep_alive(keep);
    res.body() = std::move(a->sdp);
    res.prepare_payload();
    reply(std::move(res));
  };
  if (whip) {
    ctx.rtc->publish(std::move(live), req.body(), std::move(respond));
  } else {
    ctx.rtc->play(std::move(live), parts[2], req.body(), std::move(respond));
  }
}

}  // namespace parley::transport

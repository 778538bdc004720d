// SPDX-License-Identifier: GPL-3.0-or-later
// A stand-in for libgupnp-igd-1.0.so.4, loaded only into Debian's
// `whip-client` during tests (LD_LIBRARY_PATH).
//
// Why: whip-client links libsoup 2.4, while libnice (which its webrtcbin
// loads) links gupnp-igd → gupnp 1.6 → libsoup 3. libsoup 3 aborts a process
// that already holds libsoup 2 ("libsoup2 symbols detected…"), so on Debian 12
// whip-client dies as soon as it builds its pipeline. libnice only uses
// gupnp-igd for UPnP port mapping and carries on without it when
// gupnp_simple_igd_thread_new() returns NULL — which is all this does.
#include <glib-object.h>

void* gupnp_simple_igd_thread_new(void);
GType gupnp_simple_igd_get_type(void);
void gupnp_simple_igd_add_port(void* self, const char* protocol, guint external_port, const char* local_ip,
                               guint local_port, guint lease_duration, const char* description);
void gupnp_simple_igd_remove_port_local(void* self, const char* protocol, const char* local_ip, guint local_port);

void* gupnp_simple_igd_thread_new(void) { return NULL; }
GType gupnp_simple_igd_get_type(void) { return G_TYPE_OBJECT; }
void gupnp_simple_igd_add_port(void* self, const char* protocol, guint external_port, const char* local_ip,
                               guint local_port, guint lease_duration, const char* description) {
  (void)self, (void)protocol, (void)external_port, (void)local_ip, (void)local_port, (void)lease_duration,
      (void)description;
}
void gupnp_simple_igd_remove_port_local(void* self, const char* protocol, const char* local_ip, guint local_port) {
  (void)self, (void)protocol, (void)local_ip, (void)local_port;
}

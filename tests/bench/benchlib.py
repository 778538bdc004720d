# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the Python benches (soak, many_connections, attacks):
a parley server started for one run, HTTP calls, a minimal WebSocket client
and the server's memory. Only the standard library; only 127.0.0.0/8."""
import base64, json, os, socket, struct, subprocess, tempfile, threading, urllib.error, urllib.request


class Server:
    """`parley serve` on 127.0.0.1:port with a fresh database; a context manager."""
    def __init__(self, binary, port, *args, preexec=None):
        self.work = tempfile.mkdtemp(prefix="parley-bench-")
        self.db = f"{self.work}/bench.db"
        self.port = port
        self.proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", self.db,
                                      "--log", "warn", *args],
                                     stdout=subprocess.PIPE, stderr=open(f"{self.work}/server.log", "w"),
                                     preexec_fn=preexec)
        line = self.proc.stdout.readline().decode()
        if "serving" not in line:
            raise RuntimeError("the server did not start: " + open(f"{self.work}/server.log").read()[-2000:])
        self.pid = self.proc.pid

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def stats(self):
        """RSS in MB, threads and open files of the server process."""
        st = dict(line.split(":", 1) for line in open(f"/proc/{self.pid}/status") if ":" in line)
        return {"rss_mb": int(st["VmRSS"].split()[0]) / 1024, "threads": int(st["Threads"]),
                "fds": len(os.listdir(f"/proc/{self.pid}/fd"))}

    def metric(self, series):
        _, body, _ = http(self.port, "GET", "/metrics")
        for line in body.splitlines():
            if line.startswith(series + " "):
                return float(line.split()[1])
        return None


def http(port, method, path, body=None, token=None, raw=None, timeout=60):
    """(status, body, headers); HTTP errors are answers, not exceptions."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=data)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), dict(e.headers)


class Ws:
    """A minimal WebSocket client on a real socket: masked frames out; in, the
    caller reads raw bytes (or nothing: a listener that never reads)."""
    def __init__(self, port, source="127.0.0.1", receive_buffer=0):
        self.s = socket.socket()
        if receive_buffer:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.s.bind((source, 0))
        self.s.settimeout(10)
        self.s.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(head.split(b"\r\n")[0].decode())
        self.lock = threading.Lock()

    def send(self, payload, opcode):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = bytes([0x80 | opcode, 0x80 | n])
        elif n < 65536:
            hdr = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", n)
        with self.lock:
            self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def text(self, obj):
        self.send(json.dumps(obj).encode(), 1)

    def read_some(self, timeout=5):
        """Bytes that arrived (b"" when the server closed, None on timeout)."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1 << 16)
        except socket.timeout:
            return None
        except OSError:
            return b""

    def closed_within(self, seconds):
        """True when the server closes the connection within `seconds` (data is skipped)."""
        import time
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            got = self.read_some(max(0.05, end - time.monotonic()))
            if got == b"":
                return True
        return False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def join_listener(ws, code, language="en", since=0, speech="none"):
    ws.text({"type": "join", "role": "listener", "code": code, "language": language, "since": since, "speech": speech})


def create_session(port, name="Bench", targets=(), key=None):
    status, body, _ = http(port, "POST", "/api/sessions", {"name": name, "sourceLanguage": "en", "targets": list(targets)},
                           token=key)
    if status != 201:
        raise RuntimeError(f"create: HTTP {status} {body}")
    return json.loads(body)

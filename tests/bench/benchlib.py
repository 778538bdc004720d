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

    def message(self, timeout=5):
        """The next text message as JSON (binary ones are skipped); None on
        timeout; raises ConnectionError when the connection is closed."""
        import time
        end = time.monotonic() + timeout
        buf = getattr(self, "_buf", b"")
        while True:
            if len(buf) >= 2:
                op, n, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
                if n == 126:
                    n, at = (struct.unpack(">H", buf[2:4])[0], 4) if len(buf) >= 4 else (None, 4)
                elif n == 127:
                    n, at = (struct.unpack(">Q", buf[2:10])[0], 10) if len(buf) >= 10 else (None, 10)
                if n is not None and len(buf) >= at + n:
                    payload, buf = buf[at:at + n], buf[at + n:]
                    self._buf = buf
                    if op == 8:
                        raise ConnectionError("closed by the server")
                    if op == 1:
                        return json.loads(payload)
                    continue
            left = end - time.monotonic()
            if left <= 0:
                self._buf = buf
                return None
            got = self.read_some(left)
            if got is None:
                self._buf = buf
                return None
            if got == b"":
                raise ConnectionError("connection lost")
            buf += got


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds=20):
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class Cluster:
    """Several `parley serve` nodes on loopback with a Redis (append-only,
    fsync every second) and a PostgreSQL of their own in a temporary
    folder (initdb as the `postgres` user when run as root); a context
    manager. Nodes can be killed and started again."""
    def __init__(self, binary, nodes=3, *args):
        import glob, pwd, shutil
        self.binary, self.args = binary, list(args)
        self.work = tempfile.mkdtemp(prefix="parley-cluster-")
        self.procs = []
        self.redis_port = free_port()
        self.redis = subprocess.Popen(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                       "--dir", self.work, "--save", "", "--appendonly", "yes",
                                       "--appendfsync", "everysec", "--loglevel", "warning"],
                                      stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/redis.log", "w"))
        wait_for_port(self.redis_port)
        pg_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        run_as = []
        if os.geteuid() == 0:
            shutil.chown(self.work, "postgres")
            run_as = ["runuser", "-u", "postgres", "--"]
        data = f"{self.work}/pg"
        subprocess.run(run_as + [f"{pg_bin}/initdb", "-D", data, "-U", "parley", "-A", "trust"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pg_port = free_port()
        self.pg = subprocess.Popen(run_as + [f"{pg_bin}/postgres", "-D", data, "-p", str(self.pg_port),
                                             "-h", "127.0.0.1", "-k", self.work],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.pg_port)
        self.ports = [free_port() for _ in range(nodes)]
        self.procs = [None] * nodes
        for i in range(nodes):
            self.start(i)

    def start(self, i):
        """Starts node i (again) on its port; returns once it serves."""
        proc = subprocess.Popen([self.binary, "serve", "--host", "127.0.0.1", "--port", str(self.ports[i]),
                                 "--db", f"postgresql://parley@127.0.0.1:{self.pg_port}/postgres",
                                 "--redis", f"127.0.0.1:{self.redis_port}", "--node-id", f"node{i}",
                                 "--log", "warn", *self.args],
                                stdout=subprocess.PIPE, stderr=open(f"{self.work}/node{i}.log", "a"))
        line = proc.stdout.readline().decode()
        if "serving" not in line:
            raise RuntimeError(f"node {i} did not start: " + open(f"{self.work}/node{i}.log").read()[-2000:])
        self.procs[i] = proc

    def kill(self, i):
        """kill -9 of node i."""
        self.procs[i].kill()
        self.procs[i].wait()

    def pid(self, i):
        return self.procs[i].pid

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p and p.poll() is None:
                p.terminate()
        for p in self.procs:
            if p:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        for p in (self.redis, self.pg):
            p.terminate()
            p.wait(timeout=20)


def join_listener(ws, code, language="en", since=0, speech="none"):
    ws.text({"type": "join", "role": "listener", "code": code, "language": language, "since": since, "speech": speech})


def create_session(port, name="Bench", targets=(), key=None):
    status, body, _ = http(port, "POST", "/api/sessions", {"name": name, "sourceLanguage": "en", "targets": list(targets)},
                           token=key)
    if status != 201:
        raise RuntimeError(f"create: HTTP {status} {body}")
    return json.loads(body)

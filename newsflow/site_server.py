"""A static site on 127.0.0.1: the bundled demo portal, and fixture sites in the tests.

Serves a folder. ``manifest.json`` in it may give each path its ``content_type``
(so a page can carry a missing or wrong HTTP charset, as real servers do).
Answers conditional requests (ETag, Last-Modified) with 304, unknown paths with
404, and ``redirects`` (path → location) with 302; ``delays`` (path → seconds)
hold a response back, as a slow server would; ``hiccups`` (path → (status, headers))
are answered once before the real page, as a throttling server would; ``responders``
(path → function of the request handler) write a whole response themselves, as a
misbehaving server would (an endless body, a compression bomb). Binds to loopback only.
``requests`` and ``request_times`` record what was asked, and when.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit


class QuietServer(ThreadingHTTPServer):
    """A client that hangs up early (a crawler refusing an oversized page) is not a server error."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return


class SiteServer:
    def __init__(
        self,
        root: Path,
        *,
        redirects: Mapping[str, str] | None = None,
        delays: Mapping[str, float] | None = None,
        hiccups: Mapping[str, tuple[int, Mapping[str, str]]] | None = None,
        responders: Mapping[str, Callable[[BaseHTTPRequestHandler], None]] | None = None,
        port: int = 0,
    ) -> None:
        self.root = Path(root)
        manifest = self.root / "manifest.json"
        entries = json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else {}
        self.content_types = {path: entry.get("content_type") for path, entry in entries.items()}
        self.redirects = dict(redirects or {})
        self.delays = dict(delays or {})
        self.hiccups = dict(hiccups or {})
        self.responders = dict(responders or {})
        self.request_times: list[tuple[str, float]] = []
        self.requests: list[str] = []  # every path asked for, in order
        self._server = QuietServer(("127.0.0.1", port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet: tests read site.requests
                return

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                site.requests.append(path)
                site.request_times.append((path, time.monotonic()))
                if path in site.hiccups:
                    status, headers = site.hiccups.pop(path)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path in site.responders:
                    site.responders[path](self)
                    return
                if path in site.delays:
                    time.sleep(site.delays[path])
                if path in site.redirects:
                    self.send_response(302)
                    self.send_header("Location", site.redirects[path])
                    self.end_headers()
                    return
                file = site.file_for(path)
                if file is None:
                    body = b"<html><body><h1>404 Not Found</h1></body></html>"
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                body = file.read_bytes()
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                modified = file.stat().st_mtime
                if self.headers.get("If-None-Match") == etag or site.not_modified_since(self.headers, modified):
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", site.content_type(path, file))
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", formatdate(modified, usegmt=True))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def file_for(self, path: str) -> Path | None:
        if path.endswith("/"):
            path += "index.html"
        relative = Path(os.path.normpath(path.lstrip("/")))
        if relative.is_absolute() or ".." in relative.parts:
            return None
        file = self.root / relative
        if not file.is_file() or file.name == "manifest.json":
            return None
        return file

    def content_type(self, path: str, file: Path) -> str:
        if self.content_types.get(path):
            return str(self.content_types[path])
        guessed = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return "text/plain" if file.name == "robots.txt" else guessed

    @staticmethod
    def not_modified_since(headers: Mapping[str, str], modified: float) -> bool:
        since = headers.get("If-Modified-Since")
        if not since:
            return False
        try:
            return int(modified) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False

    def start(self) -> SiteServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="site-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def main() -> None:
    """``python -m newsflow.site_server FOLDER PORT``: serve a folder on 127.0.0.1 until interrupted."""
    import sys

    server = SiteServer(Path(sys.argv[1]), port=int(sys.argv[2])).start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()

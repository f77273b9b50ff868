"""Helpers several test packages share (fixtures live in the conftest.py files)."""
import collections
import contextlib
import http.server
import importlib.util
import socket
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Iterator, Sequence

REPO = Path(__file__).resolve().parents[1]

# A real clip decoded into the tiny model's inputs: audio [1, 64, 32], video [3, 2, 32, 32].
TINY_PIPELINE = [
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=dict(num_frames=2, fps=2.0)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=32),
    dict(type='AudioPadCrop', target_length=64),
    dict(type='AudioNormalize'),
    dict(type='VideoResize', short_side=32),
    dict(type='VideoCenterCrop', size=32),
    dict(type='PackAVInputs'),
]


def load_script(relative_path: str) -> ModuleType:
    """Import the script ``REPO/relative_path`` (e.g. ``tools/train.py``) as a module, once
    per session."""
    name = 'script_' + relative_path.replace('/', '_').replace('.py', '')
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / relative_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@contextlib.contextmanager
def serve(routes: dict[str, bytes], truncate: Sequence[str] = ()) -> Iterator[dict]:
    """An HTTP server on 127.0.0.1 for the duration of the block, serving ``routes``
    (path -> body; other paths: 404). A path in ``truncate`` declares its full length but
    sends half the body, then closes the connection. Yields ``{'url': base URL, 'hits':
    {path: requests}}``."""
    hits = collections.Counter()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits[self.path] += 1
            body = routes.get(self.path)
            if body is None:
                self.send_error(404, 'Not Found')
                return
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2] if self.path in truncate else body)
            self.close_connection = True

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {'url': f'http://127.0.0.1:{server.server_address[1]}', 'hits': hits}
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

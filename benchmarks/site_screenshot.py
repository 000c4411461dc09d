#!/usr/bin/env python3
"""Screenshot pages of the built podlab site in headless Chromium.

Evidence, not a test: serves the built site (default: _build/html, from
`make site`) on 127.0.0.1 with `python -m http.server` on a free port, asks
Debian's Chromium (apt-get install -y chromium) for one PNG per page, stops
the server, and prints one line per page.

    python benchmarks/site_screenshot.py                       # every content page
    python benchmarks/site_screenshot.py labs/01-downward-api.html --out /tmp/shots

Look at the PNGs to see that pages render offline, with code cells and their
stored outputs, and with hidden solutions collapsed.
"""

from __future__ import annotations

import argparse
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]
SKIP = {"genindex.html", "search.html", "index.html"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"http.server did not start on 127.0.0.1:{port}")


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pages", nargs="*",
                    help="pages relative to the site root (default: every content page)")
    ap.add_argument("--html", type=Path, default=REPO / "_build" / "html",
                    help="built site folder (default: _build/html)")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "podlab-site-shots",
                    help="folder for the PNGs (default: $TMPDIR/podlab-site-shots)")
    ap.add_argument("--window-size", default="1280,2000")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()

    html = args.html.resolve()
    if not (html / "index.html").is_file():
        print(f"no built site in {html}: run `make site` first", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"{args.chromium} not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    pages = args.pages or sorted(
        p.relative_to(html).as_posix() for p in html.rglob("*.html")
        if "_static" not in p.parts and p.name not in SKIP
    )
    args.out.mkdir(parents=True, exist_ok=True)

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(html)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    failures = 0
    try:
        wait_for(port)
        for page in pages:
            url = f"http://127.0.0.1:{port}/{page}"
            png = args.out / (page.replace("/", "__").removesuffix(".html") + ".png")
            png.unlink(missing_ok=True)
            with tempfile.TemporaryDirectory(prefix="podlab-chromium-") as profile:
                started = time.monotonic()
                proc = subprocess.run(
                    [args.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                     f"--window-size={args.window_size}", f"--screenshot={png}", url],
                    capture_output=True, text=True, timeout=180,
                )
                took = time.monotonic() - started
            if proc.returncode != 0 or not png.is_file():
                failures += 1
                print(f"FAIL {page}: chromium rc={proc.returncode}\n{proc.stderr[-2000:]}")
                continue
            w, h = png_size(png)
            print(f"{page}: {png} {w}x{h} px, {png.stat().st_size} bytes, {took:.1f}s")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

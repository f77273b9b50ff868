"""Headless Chromium for page screenshots (tests only; no network, fresh profile)."""
import shutil
import subprocess
from pathlib import Path
from typing import Optional

FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run',
         '--hide-scrollbars')


def chromium_binary() -> Optional[str]:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(binary: str, page: str, out_png: str, profile_dir: Path,
               size: str = '1200,900', timeout: float = 60.0) -> str:
    """Render ``page`` (a local HTML file) to ``out_png``; raises with Chromium's output."""
    profile_dir.mkdir(parents=True, exist_ok=True)
    cmd = [binary, *FLAGS, f'--user-data-dir={profile_dir}', f'--window-size={size}',
           f'--screenshot={out_png}', Path(page).resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not Path(out_png).is_file():
        raise RuntimeError(f'chromium wrote no screenshot (exit {proc.returncode}): '
                           f'{proc.stderr[-2000:]}')
    return out_png

"""README's command-line section, followed literally in a fresh copy of the repository (issue 20).

The copy holds the tracked and new files (as a clone would, plus the change under test) with the virtualenv
and the npm tools linked in, as ``make venv`` and ``make azurite`` would have made them. The blocks run as
written in bash; the one deviation is the API block's port, a free one instead of 7071, which another
process on this machine may hold. README's exit-code table is the CLI's, and it links only inside the repo.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from devtools.ports import free_port
from sync_core.cli._errors import MEANINGS
from tests.cli.conftest import ROOT, bare_env

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section() -> str:
    text = README[README.index("## Command line"):]
    return text[:text.index("\n## ", 1)]


def _blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", _section(), re.DOTALL)


def _fresh_copy(dest: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    for tool in (".venv", ".tools"):
        (dest / tool).symlink_to((ROOT / tool).resolve())
    return dest


def test_the_command_line_section_works_as_written(tmp_path: Path) -> None:
    up_block, cli_block, api_block = _blocks()
    clone = _fresh_copy(tmp_path / "clone")
    env = bare_env(tmp_path)
    env.pop("SYNC_LOCAL_SETTINGS")  # the default, .local/settings.json in the copy, as README says
    up = subprocess.Popen(["bash", "-c", "exec " + up_block.strip()], cwd=clone, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while not (clone / ".local" / "settings.json").exists():
            assert up.poll() is None, up.communicate()[0]
            assert time.monotonic() < deadline, "local up did not start in time"
            time.sleep(0.5)
        cli = subprocess.run(["bash", "-e", "-c", cli_block], cwd=clone, env=env, capture_output=True, text=True,
                             timeout=600)
        assert cli.returncode == 0 and "Traceback" not in cli.stderr, cli.stderr
        assert "applied demo" in cli.stdout and '"passes"' in cli.stdout and "connection demo" in cli.stdout
        api = subprocess.run(["bash", "-e", "-c", api_block.replace("7071", str(free_port()))], cwd=clone, env=env,
                             capture_output=True, text=True, timeout=300)
        assert api.returncode == 0, api.stderr
        assert '"status":"ok"' in api.stdout and '"connection_id":"demo"' in api.stdout, api.stdout
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
        out = up.communicate(timeout=60)[0]
    assert "stopped" in out and not (clone / ".local" / "settings.json").exists(), out


def test_the_exit_code_table_is_the_command_lines() -> None:
    rows = [line for line in _section().splitlines() if re.match(r"^\| \d+ \|", line)]
    assert rows == [f"| {int(code)} | {meaning} |" for code, meaning in MEANINGS.items()]


def test_readme_links_only_to_files_in_the_repository() -> None:
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README) + re.findall(r"`(\.\./[^`]+)`", README)
    outside = [t for t in targets if not t.startswith(("http://", "https://"))
               and not (ROOT / t).resolve().is_relative_to(ROOT)]
    missing = [t for t in targets if not t.startswith(("http://", "https://")) and not (ROOT / t).exists()]
    assert outside == [] and missing == [], (outside, missing)
    assert "../" not in README

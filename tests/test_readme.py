"""Every example in the README runs as written, from a directory outside the checkout."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
CONSOLE_BLOCKS = [
    [line[2:] for line in block.splitlines() if line.startswith("$ ")]
    for block in re.findall(r"```console\n(.*?)```", README, re.S)
]


def test_readme_has_the_two_setup_commands():
    assert "make run" in README and "make test" in README


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_example(index, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # what a user has after pip install: no checkout around
    exec(compile(PYTHON_BLOCKS[index], f"README python block {index}", "exec"), {"__name__": "__readme__"})


@pytest.mark.parametrize("index", range(len(CONSOLE_BLOCKS)))
def test_console_example(index, tmp_path):
    """The lines of a block run in order in one fresh directory (a later line may read what an earlier wrote)."""
    exe = Path(sys.executable).parent / "epl-sysbio"
    for line in CONSOLE_BLOCKS[index]:
        argv = shlex.split(line)
        assert argv[0] == "epl-sysbio"
        proc = subprocess.run([str(exe), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{line}: {proc.stderr}"

"""Every example in the README runs as written."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
CONSOLE_LINES = [
    line[2:] for block in re.findall(r"```console\n(.*?)```", README, re.S)
    for line in block.splitlines() if line.startswith("$ ")
]


def test_readme_has_the_two_setup_commands():
    assert "make run" in README and "make test" in README


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_example(index, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(PYTHON_BLOCKS[index], f"README python block {index}", "exec"), {"__name__": "__readme__"})


@pytest.mark.parametrize("line", CONSOLE_LINES)
def test_console_example(line, tmp_path):
    argv = shlex.split(line)
    assert argv[0] == "epl-sysbio"
    exe = Path(sys.executable).parent / "epl-sysbio"
    # Run where a user would (model paths relative to the checkout), without leaving run directories behind.
    (tmp_path / "sbml_models").symlink_to(ROOT / "sbml_models")
    proc = subprocess.run([str(exe), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr

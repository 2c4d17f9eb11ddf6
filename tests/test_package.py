import subprocess
import sys


def test_import_does_not_pull_tellurium_or_matplotlib():
    code = "import sys, epl_sysbio; print('tellurium' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_root_reexports_public_names():
    import epl_sysbio

    for name in epl_sysbio.__all__:
        assert hasattr(epl_sysbio, name), name

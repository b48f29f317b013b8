"""Every binary in build/bin answers --help and --version, and refuses a bad
setting with a clear message instead of starting."""

import os
import subprocess

import pytest

from conftest import BIN

BINARIES = sorted(p.name for p in BIN.glob("attune-*"))


def test_the_platform_binaries_are_built():
    assert {"attune-ingest", "attune-enrich", "attune-admin"} <= set(BINARIES)


@pytest.mark.parametrize("name", BINARIES)
def test_help_and_version(name):
    for flag in ("--help", "--version"):
        res = subprocess.run([str(BIN / name), flag], capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, (flag, res.stderr)
        assert name in res.stdout
    assert "0." in subprocess.run([str(BIN / name), "--version"], capture_output=True,
                                  text=True, timeout=30).stdout


@pytest.mark.parametrize("name", ["attune-ingest", "attune-enrich"])
def test_bad_setting_is_refused_with_its_name(name):
    env = dict(os.environ, ATTUNE_BATCH_SIZE="lots", ATTUNE_API_KEYS="k" * 20)
    res = subprocess.run([str(BIN / name)], env=env, capture_output=True, text=True, timeout=30)
    assert res.returncode == 2
    assert "ATTUNE_BATCH_SIZE" in res.stderr and "not an integer" in res.stderr

"""Pins agree everywhere; the Makefile and CI run what the README says."""

import re
import tomllib

import yaml

from notebook_checks import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)$")


def _pins(lines):
    return dict(PIN.match(s.strip()).groups() for s in lines
                if PIN.match(s.strip()))


# make bench's extra (PyTorch): never installed by make env, never locked.
BENCH_ONLY = ("bench",)


def _pyproject_pins(extras=None):
    """The pins of the dependencies and of ``extras`` (default: the
    extras make env installs, all but ``BENCH_ONLY``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    lines = list(project["dependencies"])
    for name in extras or [e for e in optional if e not in BENCH_ONLY]:
        lines += optional[name]
    pins = _pins(lines)
    assert len(pins) == len(lines), "every dependency must be pinned (==)"
    return pins


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def test_environment_yml_lists_the_same_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip) == _pyproject_pins()
    assert "python=3.11" in env["dependencies"]


def test_lock_agrees_with_the_pins():
    lock = {_norm(k): v for k, v in _pins(
        (ROOT / "requirements.lock").read_text().splitlines()).items()}
    for name, version in _pyproject_pins().items():
        assert lock.get(_norm(name)) == version, name


def test_make_test_needs_no_bench_extra():
    """PyTorch is pinned (the bench extra) but neither locked nor
    installed by make env; make bench installs that pin when missing."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bench = _pins(project["optional-dependencies"]["bench"])
    assert set(bench) == {"torch"}
    lock = {_norm(k) for k in _pins(
        (ROOT / "requirements.lock").read_text().splitlines())}
    assert not lock & {_norm(name) for name in bench}
    makefile = (ROOT / "Makefile").read_text()
    env_install = re.search(r"pip install .*-e '\.\[([a-z,]+)\]'$",
                            makefile, re.M).group(1).split(",")
    assert "bench" not in env_install
    bench_target = makefile.split("\nbench: env\n")[1].split("\n\n")[0]
    assert "-e '.[bench]'" in bench_target
    assert "import torch" in bench_target  # only when missing


OLDEST = "3.11.0"  # Debian 12 and Ubuntu ship 3.11.2: any 3.11 must do


def _refuses_oldest(requires_python):
    from packaging.specifiers import SpecifierSet

    return bool(requires_python) and not SpecifierSet(
        requires_python).contains(OLDEST)


def test_every_locked_package_installs_on_any_python_311():
    # soupsieve 4.1.2 (Requires-Python >=3.11.5) made `make env` fail on
    # Debian's python3.11 (3.11.2) after its version check had passed.
    import importlib.metadata as metadata

    lock = _pins((ROOT / "requirements.lock").read_text().splitlines())
    refused = {}
    for name, version in lock.items():
        dist = metadata.distribution(name)
        assert dist.version == version, f"{name} installed is not the lock's"
        if _refuses_oldest(dist.metadata.get("Requires-Python")):
            refused[name] = dist.metadata["Requires-Python"]
    assert refused == {}
    assert _refuses_oldest(">=3.11.5") and not _refuses_oldest(">=3.8")


def test_the_pins_of_design_md():
    pins = _pyproject_pins()
    assert pins["mxnet"] == "1.9.1" and pins["numpy"] == "1.23.5"
    assert pins["d2l"] == "1.0.3"
    assert pins["jupyter-book"].startswith("1.")


def test_make_test_runs_every_part():
    makefile = (ROOT / "Makefile").read_text()
    test_line = re.search(r"^test: (.*)$", makefile, re.M).group(1).split()
    for part in ("lint", "test-package", "test-notebooks", "test-book"):
        assert part in test_line
    assert "--nbval " in makefile and "-n -W --keep-going" in makefile
    assert "OMP_NUM_THREADS" in makefile


def test_ci_runs_the_readme_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", ci, re.M)
    assert "make test" in readme and "make book" in readme

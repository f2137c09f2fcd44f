"""The layers of ARCHITECTURE.md, as checked rules: a wrong-way import fails here (and so in CI).

The contracts themselves are in pyproject.toml ([tool.importlinter]); import-linter reads every
import, those inside functions too, so a dependency cannot hide in a function body."""

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_every_layer_imports_only_the_layers_below_it_and_no_package_has_a_cycle():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint_imports), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_no_module_reaches_back_into_the_package_root():
    # digitlab/__init__.py wires the layers together (it imports from all of them), so a module
    # importing it would import every layer: a cycle the layers contract cannot see.
    graph = grimp.build_graph("digitlab")
    assert graph.find_modules_that_directly_import("digitlab") == set()


def test_the_hooks_where_the_layers_meet_are_installed():
    import digitlab
    from digitlab.doctor.watch import TrainingWatcher
    from digitlab.nn.base import Network
    from digitlab.train import Trainer

    assert Trainer.make_watcher is TrainingWatcher
    assert Network.model_files is digitlab.modelfile

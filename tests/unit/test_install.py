"""The hardware library and the presets are found wherever the package is imported from."""

from pathlib import Path

import estimator
from estimator.specs.hardware import hardware_dir, list_devices, list_systems
from estimator.specs.model import list_presets, load_model

PACKAGE = Path(estimator.__file__).resolve().parent
CHECKOUT_SPECS = PACKAGE.parent / "hardware_specs"


def test_hardware_library_is_found():
    root = hardware_dir()
    assert (root / "devices" / "h100.yaml").is_file()
    assert {device.name for device in list_devices()} >= {"k80", "v100", "a100", "h100", "tpu-v4"}
    assert {system.name for system in list_systems()} >= {"v100x8", "a100x8", "dgx-h100", "tpu-v3-8"}


def test_installed_copy_ships_its_own_hardware_library():
    """From a `pip install .` copy (not a checkout) the specs come from package data."""
    if CHECKOUT_SPECS.is_dir():
        assert hardware_dir() == CHECKOUT_SPECS  # a checkout edits the top-level folder
    else:
        assert hardware_dir() == PACKAGE / "hardware_specs"
        assert (PACKAGE / "lowering" / "presets" / "gpt2.yaml").is_file()


def test_presets_load_from_the_package():
    assert {"gpt2", "bert-large", "resnet50", "gpt3-175b", "llama2-7b"} <= set(list_presets())
    assert load_model("resnet50").name == "resnet50"


def test_the_type_stub_lists_every_binding() -> None:
    """estimator/_core.pyi is regenerated after a binding change (README, Development)."""
    import ast

    from estimator import _core

    stub = (Path(_core.__file__).parent / "_core.pyi").read_text()
    listed = next(ast.literal_eval(line.split("=", 1)[1]) for line in stub.splitlines()
                  if line.startswith("__all__"))
    public = sorted(name for name in dir(_core) if not name.startswith("_"))
    assert listed == public

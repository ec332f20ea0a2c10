"""Config validation: defaults, and one clear line for every kind of mistake."""

from __future__ import annotations

import pytest

from ivit_gemmini.config import load_schema, validate_config
from ivit_gemmini.errors import UserError


@pytest.fixture(scope="module")
def schema(repo):
    return load_schema(repo / "workflow/schemas/config.schema.yaml")


def test_defaults_fill_every_key(schema, repo):
    import yaml

    config: dict = {}
    validate_config(config, schema)
    assert config["checkpoint"] == "demo" and config["images"] == "demo"
    assert config["backends"] == ["torch-int", "torch-fakequant", "tvm-cpu", "spike"]
    assert config["agreement"] == {"on_mismatch": "fail"}
    assert config["gemmini"]["dim"] == 16 and config["verilator"]["simulator"] is None
    # the shipped config is exactly the defaults, spelled out
    shipped = yaml.safe_load((repo / "config/config.yaml").read_text())
    validate_config(shipped, schema)
    assert shipped == config


def test_every_key_has_description_and_default(schema):
    def walk(node, where):
        for key, sub in node.get("properties", {}).items():
            assert "description" in sub, f"{where}{key} has no description"
            assert "default" in sub, f"{where}{key} has no default"
            walk(sub, f"{where}{key}.")
        if "properties" in node:
            assert node.get("additionalProperties") is False, f"{where or 'top'} allows extras"

    walk(schema, "")


def test_config_readme_documents_every_key(schema, repo):
    readme = (repo / "config/README.md").read_text()

    def walk(node, prefix):
        for key, sub in node.get("properties", {}).items():
            yield prefix + key
            yield from walk(sub, f"{prefix}{key}.")

    missing = [k for k in walk(schema, "") if f"`{k}`" not in readme]
    assert not missing


@pytest.mark.parametrize("config,expected", [
    ({"checkpiont": "x.pth"}, "config: unknown key 'checkpiont' in top level"),
    ({"gemmini": {"dimm": 8}}, "config: unknown key 'dimm' in gemmini"),
    ({"num_heads": "three"}, "config 'num_heads': 'three' has the wrong type, expected integer"),
    ({"gemmini": {"dim": "16"}}, "config 'gemmini.dim': '16' has the wrong type"),
    ({"backends": ["torch-int", "cuda"]}, "config 'backends.1': 'cuda' is not one of"),
    ({"agreement": {"on_mismatch": "ignore"}}, "config 'agreement.on_mismatch': 'ignore'"),
    ({"images": 3}, "config 'images': 3 has the wrong type"),
    ({"backends": []}, "config 'backends'"),
])
def test_bad_config_is_one_line(schema, config, expected):
    with pytest.raises(UserError) as err:
        validate_config(config, schema)
    message = str(err.value)
    assert message.startswith(expected)
    assert "\n" not in message and message.endswith("see config/README.md")

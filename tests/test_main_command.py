"""timesformer/cli/main.py (the ``timesformer`` command, ``python -m timesformer``) and the
packaged configs it finds (timesformer/config/packaged.py, timesformer/cli/list_configs.py)."""

import importlib
import os
import subprocess
import sys

import pytest

from helpers import REPO_ROOT
from timesformer.cli import demo, list_configs
from timesformer.cli import main as command
from timesformer.config.check_rules import ConfigError
from timesformer.config.defaults import get_cfg
from timesformer.config.merge import merge_yaml_file
from timesformer.config.packaged import list_packaged_configs, packaged_configs_dir

KINETICS = "Kinetics/TimeSformer_divST_8x32_224.yaml"
TOOL_COMMANDS = sorted(name for name, spec in command.COMMANDS.items() if spec.script)


def _status(argv: list[str]) -> int:
    """The exit status of ``timesformer ARGV`` run in this process (argparse's exit included)."""
    try:
        return command.main(argv)
    except SystemExit as exit_info:
        return int(exit_info.code or 0)


@pytest.mark.parametrize("name", TOOL_COMMANDS)
def test_each_subcommand_runs_its_tools_main_with_the_same_arguments(name, monkeypatch):
    spec = command.COMMANDS[name]
    seen = []
    monkeypatch.setattr(
        f"timesformer.cli.{spec.module}.main", lambda argv: seen.append((sys.argv[0], argv)) or 3
    )
    assert command.main([name, "--cfg", "X.yaml", "A.B", "1"]) == 3
    assert seen == [(f"timesformer {name}", ["--cfg", "X.yaml", "A.B", "1"])]
    with open(os.path.join(REPO_ROOT, "tools", spec.script), encoding="utf-8") as stream:
        assert f"from timesformer.cli.{spec.module} import main\n" in stream.read()


def test_every_tool_is_a_subcommand():
    """Each script of tools/ over a module of timesformer.cli has its subcommand."""
    scripts = {spec.script for spec in command.COMMANDS.values()}
    tools = {
        name
        for name in os.listdir(os.path.join(REPO_ROOT, "tools"))
        if os.path.isfile(os.path.join(REPO_ROOT, "timesformer", "cli", name))
    }
    assert tools - scripts == set()


def test_a_subcommands_help_is_its_tools_usage(capsys):
    assert _status(["stats", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: timesformer stats [-h] [--cfg CFG_FILE] [--json]")
    assert "Print a model's parameters, FLOPs per view and per video" in out
    assert sys.argv[0] != "timesformer stats"  # put back


def test_an_error_names_the_subcommand(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert _status(["train", "--cfg", "nowhere.yaml"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("timesformer train: error: Config file nowhere")


def test_an_unknown_subcommand_is_one_line_naming_the_known_ones(capsys):
    assert command.main(["trian"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [command.unknown_command("trian")]
    assert "unknown command 'trian' (did you mean train?)" in err[0]
    assert all(name in err[0] for name in command.COMMANDS)


def test_no_subcommand_prints_the_usage_and_fails(capsys):
    assert command.main([]) == 2
    assert "commands:" in capsys.readouterr().err


def test_help_and_configs_run_without_torch(tmp_path):
    """``python -m timesformer --help`` and ``timesformer configs``, from another folder, list
    every subcommand (one line each) and the configs, and never import torch."""
    code = (
        "import sys\nfrom timesformer.cli.main import main\n"
        "assert main(['configs']) == 0\nassert 'torch' not in sys.modules, 'torch imported'\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert KINETICS.split("/")[1] in run.stdout
    help_run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "timesformer", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert not [line for line in help_run.stderr.splitlines() if line.endswith("| torch")]
    lines = help_run.stdout.splitlines()
    for name, spec in command.COMMANDS.items():
        assert [line for line in lines if line.split()[:1] == [name]] == [
            f"  {name:<19}  {spec.summary}"
        ]


def test_every_subcommand_module_has_a_main():
    for spec in command.COMMANDS.values():
        assert callable(importlib.import_module(f"timesformer.cli.{spec.module}").main)


@pytest.mark.parametrize("given", [KINETICS, f"configs/{KINETICS}", f"./configs/{KINETICS}"])
def test_a_packaged_config_is_found_from_another_folder(given, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = merge_yaml_file(get_cfg(), given)
    assert cfg.TIMESFORMER.ATTENTION_TYPE == "divided_space_time" and cfg.DATA.NUM_FRAMES == 8


def test_a_config_that_exists_as_given_comes_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Kinetics").mkdir()
    (tmp_path / KINETICS).write_text("DATA:\n  NUM_FRAMES: 4\n")
    assert merge_yaml_file(get_cfg(), KINETICS).DATA.NUM_FRAMES == 4


def test_packaged_configs_with_a_base_read_it(tmp_path, monkeypatch):
    """A packaged config's ``_BASE_`` is read relative to the packaged file, from any folder."""
    monkeypatch.chdir(tmp_path)
    with_base = [
        f"{folder}/{name}"
        for folder, name, _ in list_packaged_configs()
        if "_BASE_:" in (packaged_configs_dir() / folder / name).read_text(encoding="utf-8")
    ]
    if not with_base:
        pytest.skip("no packaged config has a _BASE_")
    for name in with_base:
        merge_yaml_file(get_cfg(), name)


@pytest.mark.parametrize("given", ["Kinetics/nope.yaml", "../Kinetics/nope.yaml"])
def test_a_missing_config_names_both_places_looked(given, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as error:
        merge_yaml_file(get_cfg(), given)
    message = str(error.value)
    assert message.startswith(f"Config file {given} does not exist (given with --cfg), ")
    assert "`timesformer configs` lists the packaged ones." in message
    if not given.startswith(".."):
        assert str(packaged_configs_dir() / "Kinetics" / "nope.yaml") in message


def test_configs_lists_folder_file_and_first_comment(capsys):
    assert command.main(["configs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Packaged configs (") and "Kinetics/" in lines
    kinetics = next(line for line in lines if line.startswith("  TimeSformer_divST_8x32_224.yaml"))
    assert kinetics.split(None, 1)[1].startswith("TimeSformer (base), divided space-time")
    shipped = {
        f"{folder}/{name}"
        for folder in os.listdir(os.path.join(REPO_ROOT, "configs"))
        for name in os.listdir(os.path.join(REPO_ROOT, "configs", folder))
        if name.endswith(".yaml")
    }
    assert {f"{folder}/{name}" for folder, name, _ in list_packaged_configs()} == shipped


def test_configs_of_one_folder_and_an_unknown_folder(capsys):
    assert list_configs.main(["Demo"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1:] == list_configs.format_listing(
        [config for config in list_packaged_configs() if config[0] == "Demo"]
    )
    with pytest.raises(SystemExit) as exit_info:
        list_configs.main(["Nope"])
    assert exit_info.value.code == 2
    assert "no packaged folder 'Nope'; the folders are: Charades, " in capsys.readouterr().err


def test_the_demo_reads_the_packaged_configs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = demo.build_parser().parse_args(["--data-dir", str(tmp_path / "data"), "--epochs", "1"])
    cfg = demo._demo_config("space_only", args)
    assert cfg.TIMESFORMER.ATTENTION_TYPE == "space_only" and cfg.SOLVER.MAX_EPOCH == 1


def test_the_console_script_is_the_dispatcher():
    """pyproject.toml's ``timesformer`` script names :func:`timesformer.cli.main.main` (the wheel
    check, ``make test-wheel``, runs the installed script)."""
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(REPO_ROOT, "pyproject.toml"), "rb") as stream:
        scripts = tomllib.load(stream)["project"]["scripts"]
    module, function = scripts["timesformer"].split(":")
    assert getattr(importlib.import_module(module), function) is command.main

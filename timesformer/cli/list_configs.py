"""List the packaged configs: folder, file and the first comment line of each.

    timesformer configs [FOLDER...]

Any of them is a ``--cfg`` value as listed, from any folder (``--cfg
Kinetics/TimeSformer_divST_8x32_224.yaml``); a path that exists as given is read instead.
"""

import argparse

from timesformer.config.packaged import list_packaged_configs, packaged_configs_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "folders", nargs="*", metavar="FOLDER", help="Only these folders (e.g. Kinetics Demo)."
    )
    return parser


def format_listing(configs: list[tuple[str, str, str]]) -> list[str]:
    """One line per folder (``Kinetics/``), then one per file: its name and description."""
    width = max((len(name) for _, name, _ in configs), default=0)
    lines, folder = [], None
    for config_folder, name, description in configs:
        if config_folder != folder:
            folder = config_folder
            lines.append(f"{folder}/")
        lines.append(f"  {name:<{width}}  {description}".rstrip())
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the listing; 2 when a FOLDER names no packaged folder."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configs = list_packaged_configs()
    known = sorted({folder for folder, _, _ in configs})
    unknown = [folder for folder in args.folders if folder.strip("/") not in known]
    if unknown:
        parser.error(f"no packaged folder {unknown[0]!r}; the folders are: {', '.join(known)}.")
    if args.folders:
        wanted = {folder.strip("/") for folder in args.folders}
        configs = [config for config in configs if config[0] in wanted]
    print(f"Packaged configs ({packaged_configs_dir()}); give one as --cfg FOLDER/FILE:")
    print("\n".join(format_listing(configs)))
    return 0

"""The ``lrlab`` command."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    import lrlab

    parser = argparse.ArgumentParser(prog="lrlab", description="The learning-rate experiment book's command.")
    parser.add_argument("--version", action="version", version=f"lrlab {lrlab.__version__}")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    parser.parse_args(sys.argv[1:] if argv is None else argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())

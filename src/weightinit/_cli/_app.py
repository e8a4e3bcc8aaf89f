"""The ``weightinit`` command: argparse wiring, output, and one-line errors.

Exit codes: 0 success, 1 input that cannot be used (unknown initializer, bad
shape or argument, unwritable file), 2 a malformed command line, 130 on Ctrl-C.
Errors are a single line on stderr; set ``WEIGHTINIT_DEBUG=1`` to get the
traceback of an unexpected failure instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from .._errors import WeightinitError
from ._errors import EXIT_BAD_INPUT, EXIT_USAGE, CliError, UsageError

__all__ = ["build_parser", "main"]

PROG = "weightinit"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (raised, so ``main`` reports it).

    One-paragraph descriptions are wrapped here; epilogs (examples) keep their lines.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        description = kwargs.get("description")
        if isinstance(description, str) and "\n" not in description:
            kwargs["description"] = textwrap.fill(description, 88)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')", prog=self.prog)


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)


# ----------------------------------------------------------------------------- help texts

MAIN_DESCRIPTION = """\
Look at weight initializers: their formulas, real draws, goodness of fit, and what
they do to signals in a deep network. Every Keras 3 initializer and alias works."""

MAIN_EPILOG = """\
examples:
  weightinit list
  weightinit show he_normal --shape 3 3 64 128
  weightinit compare glorot_uniform he_normal lecun_normal --shape 784 256 --plot cmp.png
  weightinit advise --activation gelu --layer dense
  weightinit propagate he_normal "RandomNormal(stddev=1.0)" --activation relu --plot prop.png
  weightinit inspect model.keras --stats

Run 'weightinit COMMAND --help' for the options of each command."""

SPEC_HELP = """\
initializers are written as a name or alias (he_normal, HeNormal, uniform), a call with
literal arguments ("VarianceScaling(scale=2.0, mode='fan_out')"), a Keras JSON config
('{"class_name": "HeNormal", "config": {"seed": 1}}') or @file.json."""

LIST_EPILOG = """\
examples:
  weightinit list
  weightinit list --json | jq '.[].class_name'
  weightinit list --names"""

SHOW_EPILOG = f"""\
examples:
  weightinit show he_normal --shape 3 3 64 128
  weightinit show glorot_uniform --shape 784x256 --dtype bfloat16
  weightinit show variance_scaling --shape 512 512 --arg scale=2.0 --arg mode=fan_out
  weightinit show "TruncatedNormal(stddev=0.02)" --shape 768 3072 --plot tn.png
  weightinit show orthogonal --shape 256 256 --plot sv.png   # singular values
  weightinit show '{{"class_name": "HeUniform", "config": {{"seed": 7}}}}' --shape 64 10 --json

{SPEC_HELP}
Random initializers use --seed (default: the config's seed, else 0), so output is reproducible.
"expected" figures come from the formula, "sample" ones from the drawn tensor; "beyond 2 std" is
the share of values farther than 2 expected std from the expected mean."""

COMPARE_EPILOG = f"""\
examples:
  weightinit compare glorot_uniform he_normal lecun_normal --shape 784 256
  weightinit compare he_normal he_uniform "RandomNormal(stddev=0.05)" --shape 3 3 64 128 --plot cmp.png

{SPEC_HELP}
--arg applies to every initializer; use the call form for per-initializer arguments."""

ADVISE_EPILOG = """\
examples:
  weightinit advise --activation relu --layer conv
  weightinit advise --activation tanh --layer rnn
  weightinit advise --activation leaky_relu --negative-slope 0.1 --layer dense --shape 512 256
  weightinit advise --activation selu --layer dense --json"""

PROPAGATE_EPILOG = f"""\
examples:
  weightinit propagate he_normal --activation relu
  weightinit propagate he_normal glorot_uniform "RandomNormal(stddev=1.0)" --activation relu --plot p.png
  weightinit propagate lecun_normal --activation selu --depth 100
  weightinit propagate orthogonal glorot_normal --activation tanh --width 256 --every 1

{SPEC_HELP}
The verdicts compare the std at the last layer with the first: exploding (x10 or more),
growing (x2), stable, shrinking (x0.5), vanishing (x0.1 or less)."""


# ----------------------------------------------------------------------------- parser


def _common(parser: argparse.ArgumentParser, json_help: str) -> None:
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")
    parser.add_argument("--ascii", action="store_true", help="ASCII bars instead of Unicode blocks")


def _draw_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shape",
        nargs="+",
        required=True,
        metavar="DIM",
        help="the weight shape, Keras layout (..., in, out): 3 3 64 128, 3x3x64x128 or 3,3,64,128",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of random initializers (default: 0)")
    parser.add_argument("--dtype", default=None, help="float16, bfloat16, float32 (default) or float64")
    parser.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="initializer argument, VALUE parsed as JSON (scale=2.0, mode=fan_out); repeatable",
    )
    parser.add_argument("--plot", metavar="FILE.png", help="write a figure (needs matplotlib)")
    parser.add_argument("--bins", type=int, default=24, help="histogram bins in the terminal (default 24)")
    parser.add_argument(
        "--max-sample",
        type=int,
        default=1 << 22,
        metavar="N",
        help="draw at most N values for the statistics (a leading block of a larger tensor; default 4194304)",
    )


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from ._activations import ACTIVATIONS
    from ._advise import LAYERS

    parser = _Parser(prog=PROG, description=MAIN_DESCRIPTION, epilog=MAIN_EPILOG, formatter_class=_formatter)
    from .._info import engine_summary

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__} ({engine_summary()})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = commands.add_parser(
        "list",
        help="every initializer with its aliases, description and formula",
        description="Every initializer of the Keras 3 catalog: aliases, a one-line description, the formula.",
        epilog=LIST_EPILOG,
        formatter_class=_formatter,
    )
    _common(p, "print the catalog as JSON")
    p.add_argument("--names", action="store_true", help="only the accepted names, one per line")

    p = commands.add_parser(
        "show",
        help="fans, expected vs sampled statistics, goodness of fit, histogram",
        description="Draw one tensor and set it against the formula: fans, expected mean/std/bounds, "
        "sample statistics, a Kolmogorov-Smirnov test and a histogram.",
        epilog=SHOW_EPILOG,
        formatter_class=_formatter,
    )
    p.add_argument("spec", metavar="INITIALIZER", help="name, call or JSON config (see below)")
    _draw_options(p)
    _common(p, "print the report as JSON")

    p = commands.add_parser(
        "compare",
        help="several initializers side by side on one shape",
        description="The statistics of several initializers side by side; --plot overlays their densities.",
        epilog=COMPARE_EPILOG,
        formatter_class=_formatter,
    )
    p.add_argument("specs", nargs="+", metavar="INITIALIZER", help="two or more names, calls or JSON configs")
    _draw_options(p)
    _common(p, "print the reports as JSON")

    p = commands.add_parser(
        "advise",
        help="the recommended initializer for an activation and a layer",
        description="The initializer the usual guidance recommends, with the reason (fan mode, gain) "
        "and the Keras config.",
        epilog=ADVISE_EPILOG,
        formatter_class=_formatter,
    )
    p.add_argument(
        "--activation",
        required=True,
        choices=ACTIVATIONS,
        metavar="ACT",
        help=f"one of: {', '.join(ACTIVATIONS)}",
    )
    p.add_argument(
        "--layer",
        default="dense",
        choices=LAYERS,
        metavar="LAYER",
        help=f"one of: {', '.join(LAYERS)} (default dense)",
    )
    p.add_argument(
        "--negative-slope",
        type=float,
        default=0.2,
        metavar="A",
        help="leaky_relu's negative slope (default 0.2, Keras's)",
    )
    p.add_argument("--shape", nargs="+", metavar="DIM", help="also give std and bounds for this weight shape")
    _common(p, "print the advice as JSON")

    p = commands.add_parser(
        "propagate",
        help="activation and gradient std through a deep stack of dense layers",
        description="Push unit-variance inputs forward and a unit-variance gradient backward through "
        "DEPTH dense layers of WIDTH units initialized with each INITIALIZER, and report the std at "
        "every depth: vanishing, stable or exploding.",
        epilog=PROPAGATE_EPILOG,
        formatter_class=_formatter,
    )
    p.add_argument("specs", nargs="+", metavar="INITIALIZER", help="one or more names, calls or JSON configs")
    p.add_argument(
        "--activation",
        default="relu",
        choices=ACTIVATIONS,
        metavar="ACT",
        help=f"one of: {', '.join(ACTIVATIONS)} (default relu)",
    )
    p.add_argument("--width", type=int, default=512, help="units per layer (default 512)")
    p.add_argument("--depth", type=int, default=50, help="number of layers (default 50)")
    p.add_argument("--batch", type=int, default=256, help="inputs in the batch (default 256)")
    p.add_argument("--seed", type=int, default=None, help="seed of the weights and signals (default 0)")
    p.add_argument(
        "--negative-slope",
        type=float,
        default=0.2,
        metavar="A",
        help="leaky_relu's negative slope (default 0.2)",
    )
    p.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="argument for every initializer, VALUE parsed as JSON; repeatable",
    )
    p.add_argument(
        "--every", type=int, default=None, metavar="K", help="print every K-th depth (default: about 10 rows)"
    )
    p.add_argument("--plot", metavar="FILE.png", help="write the curves (needs matplotlib)")
    _common(p, "print the traces as JSON")

    from ._inspect_cmd import add_inspect_parser

    add_inspect_parser(commands, _formatter)
    return parser


# ----------------------------------------------------------------------------- commands


def _emit(lines: list[str]) -> None:
    sys.stdout.write("\n".join(lines) + "\n")


def _emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")


def _glyphs(args: argparse.Namespace) -> Any:
    from ._text import glyphs_for

    return glyphs_for(sys.stdout, force_ascii=args.ascii)


def _check_draw_options(args: argparse.Namespace) -> None:
    if not 1 <= args.bins <= 200:
        raise UsageError(f"--bins must be between 1 and 200, got {args.bins}")
    if args.max_sample < 1:
        raise UsageError(f"--max-sample must be at least 1, got {args.max_sample}")


def _plot_note(path: str, kind: str) -> str:
    from ._plot import DPI, SIZES

    w, h = SIZES[kind]
    return f"  plot   wrote {path} ({int(w * DPI)} x {int(h * DPI)} px)"


def _cmd_list(args: argparse.Namespace) -> None:
    from .._registry import BUILTIN_KEYS, FRAMEWORK_CLASSES
    from ._catalog import FANS_NOTE, entries
    from ._resolve import CLI_FRAMEWORK_NAMES

    items = entries()
    if args.names:
        keras_names = [k for k, cls in BUILTIN_KEYS.items() if cls.__name__ != "Initializer"]
        _emit(sorted([*keras_names, *CLI_FRAMEWORK_NAMES]))
        return
    if args.json:
        _emit_json([e.to_json() for e in items])
        return
    lines = [
        f"{len(items)} initializers ({len(items) - len(FRAMEWORK_CLASSES)} of the Keras 3 catalog, "
        f"{len(FRAMEWORK_CLASSES)} with torch / jax / timm semantics named 'weightinit>Name' in configs); "
        "any name or alias works in the other commands",
        "",
    ]
    for e in items:
        aliases = ", ".join(e.aliases)
        lines.append(f"{e.name}" + (f"   aliases: {aliases}" if aliases else ""))
        lines.append(f"    {e.description}")
        lines.append(f"    formula: {e.formula}")
        arguments = ", ".join(f"{k}={v!r}" for k, v in e.arguments.items())
        lines.append(f"    arguments: {arguments or '(none)'}")
        lines.append("")
    lines.append(FANS_NOTE)
    _emit(lines)


def _cmd_show(args: argparse.Namespace) -> None:
    from ._plot import plot_show
    from ._progress import Progress
    from ._resolve import parse_arg_pairs, parse_shape, resolve
    from ._show import analyze, report_json, show_lines

    _check_draw_options(args)
    shape = parse_shape(args.shape)
    resolved = resolve(args.spec, parse_arg_pairs(args.arg), args.seed)
    with Progress(f"{PROG} show", total=4 + bool(args.plot), enabled=not args.quiet) as progress:
        report = analyze(
            resolved, shape, args.dtype, max_sample=args.max_sample, bins=args.bins, progress=progress
        )
        if args.plot:
            progress.step("plotting")
            plot_show(report, args.plot)
    _emit_result(args, "show", lambda: report_json(report), lambda: show_lines(report, _glyphs(args)))


def _emit_result(
    args: argparse.Namespace,
    command: str,
    document: Callable[[], dict[str, Any]],
    lines: Callable[[], list[str]],
) -> None:
    """Print the JSON document (``--json``) or the text lines, noting the plot file if any."""
    if args.json:
        payload = document()
        payload["plot"] = args.plot
        _emit_json(payload)
        return
    text = lines()
    if args.plot:
        text += ["", _plot_note(args.plot, command)]
    _emit(text)


def _cmd_compare(args: argparse.Namespace) -> None:
    from ._plot import plot_compare
    from ._progress import Progress
    from ._resolve import parse_arg_pairs, parse_shape, resolve
    from ._show import analyze, compare_json, compare_lines

    _check_draw_options(args)
    if len(args.specs) < 2:
        raise UsageError("compare needs at least two initializers (use 'weightinit show' for one)")
    shape = parse_shape(args.shape)
    extra = parse_arg_pairs(args.arg)
    resolved = [resolve(spec, extra, args.seed) for spec in args.specs]
    total = 3 * len(resolved) + bool(args.plot)
    with Progress(f"{PROG} compare", total=total, enabled=not args.quiet) as progress:
        reports = [
            analyze(
                r,
                shape,
                args.dtype,
                max_sample=args.max_sample,
                bins=args.bins,
                singular=False,
                progress=progress,
            )
            for r in resolved
        ]
        if args.plot:
            progress.step("plotting")
            plot_compare(reports, args.plot)
    _emit_result(
        args, "compare", lambda: compare_json(reports), lambda: compare_lines(reports, _glyphs(args))
    )


def _cmd_advise(args: argparse.Namespace) -> None:
    from ._advise import advice_json, advice_lines, advise
    from ._resolve import parse_shape

    shape = parse_shape(args.shape) if args.shape else None
    if not args.negative_slope >= 0 or args.negative_slope != args.negative_slope:
        raise CliError(f"--negative-slope must be a finite number >= 0, got {args.negative_slope}")
    advice = advise(args.activation, args.layer, args.negative_slope, shape)
    if args.json:
        _emit_json(advice_json(advice))
    else:
        _emit(advice_lines(advice))


def _cmd_propagate(args: argparse.Namespace) -> None:
    import math

    from ._plot import plot_propagate
    from ._progress import Progress
    from ._propagate import propagate, propagate_json, propagate_lines
    from ._resolve import DEFAULT_SEED, parse_arg_pairs, resolve

    if args.every is not None and args.every < 1:
        raise UsageError(f"--every must be at least 1, got {args.every}")
    if not math.isfinite(args.negative_slope):
        raise CliError(f"--negative-slope must be finite, got {args.negative_slope}")
    extra = parse_arg_pairs(args.arg)
    resolved = [resolve(spec, extra, args.seed) for spec in args.specs]
    seed = DEFAULT_SEED if args.seed is None else args.seed
    if not 0 <= seed < 2**64:
        raise CliError(f"--seed must be in [0, 2**64), got {seed}")
    total = 2 * args.depth * len(resolved) + 1
    with Progress(f"{PROG} propagate", total=total, enabled=not args.quiet) as progress:
        result = propagate(
            resolved,
            activation_name=args.activation,
            width=args.width,
            depth=args.depth,
            batch=args.batch,
            seed=seed,
            negative_slope=args.negative_slope,
            progress=progress,
        )
        if args.plot:
            progress.step("plotting")
            plot_propagate(result, args.plot)
    if args.json:
        document = propagate_json(result)
        document["plot"] = args.plot
        _emit_json(document)
        return
    lines = propagate_lines(result, _glyphs(args), args.every)
    if args.plot:
        lines += ["", _plot_note(args.plot, "propagate")]
    _emit(lines)


def _cmd_inspect(args: argparse.Namespace) -> int:
    from ._inspect_cmd import run_inspect

    return run_inspect(args, _emit, _emit_json)


COMMANDS = {
    "inspect": _cmd_inspect,
    "list": _cmd_list,
    "show": _cmd_show,
    "compare": _cmd_compare,
    "advise": _cmd_advise,
    "propagate": _cmd_propagate,
}


# ----------------------------------------------------------------------------- entry point


def _one_line(message: str) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= 2000 else text[:1997] + "..."


def _fail(prefix: str, message: str, code: int) -> int:
    try:
        sys.stderr.write(f"{prefix}: error: {_one_line(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    debug = os.environ.get("WEIGHTINIT_DEBUG", "") not in ("", "0")
    prefix = PROG
    try:
        parser = build_parser()
        args = parser.parse_args(None if argv is None else list(argv))
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        prefix = f"{PROG} {args.command}"
        if sys.stdout is None:  # started with standard output closed (`>&-`)
            return _fail(prefix, "standard output is closed; nothing to write to", EXIT_BAD_INPUT)
        # extreme but valid parameters may overflow intermediate statistics: the report says what
        # it can, and stderr stays one line (no numpy RuntimeWarnings before it)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            status = COMMANDS[args.command](args)
        sys.stdout.flush()
        return status or 0
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    except UsageError as exc:
        if debug:
            raise
        return _fail(exc.prog or prefix, str(exc), EXIT_USAGE)
    except CliError as exc:
        if debug:
            raise
        return _fail(prefix, str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail(prefix, "interrupted", 130)
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); silence the flush at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BAD_INPUT
    except MemoryError:
        return _fail(prefix, "out of memory: use a smaller --shape, --width or --max-sample", EXIT_BAD_INPUT)
    except (WeightinitError, ValueError, TypeError, OSError) as exc:
        if debug:
            raise
        return _fail(prefix, str(exc) or type(exc).__name__, EXIT_BAD_INPUT)
    except Exception as exc:
        if debug:
            raise
        return _fail(
            prefix,
            f"unexpected {type(exc).__name__}: {exc} "
            "(set WEIGHTINIT_DEBUG=1 for the traceback, and please report it)",
            EXIT_BAD_INPUT,
        )

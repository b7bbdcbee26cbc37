"""`python -m bench [--quick] [--out docs/benchmarks.md]`: runs every phase and writes the report.

`make bench` calls this. Run it on an otherwise quiet machine: everything it starts
shares the machine's cores with whatever else is running.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent


def parse(argv: Optional[List[str]]) -> argparse.Namespace:
    from bench.runner import Config

    default = Config()
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny counts: a smoke run, the numbers mean nothing")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="report file (Markdown)")
    p.add_argument("--json", type=Path, help="also write the raw results as JSON here")
    p.add_argument("--model", type=Path, help="our model (default models/assistant.tar.gz)")
    p.add_argument("--sequential", type=int, help=f"messages, one at a time (default {default.sequential})")
    p.add_argument("--concurrent", type=int, help=f"messages in the concurrent run (default {default.concurrent})")
    p.add_argument("--concurrency", type=int, help=f"conversations at a time (default {default.concurrency})")
    p.add_argument("--throughput", type=int, help=f"messages per throughput run (default {default.throughput})")
    p.add_argument("--throughput-concurrency", type=int,
                   help=f"conversations at a time in the throughput runs (default {default.throughput_concurrency})")
    p.add_argument("--warmup", type=int, help=f"warm-up messages per instance (default {default.warmup})")
    p.add_argument("--skip-train", action="store_true",
                   help="do not time training ours; with --work-dir, reuse its stock model if there is one")
    p.add_argument("--work-dir", type=Path,
                   help="keep the stock project, logs and databases here (default: a temporary directory, "
                        "removed after a run without failures)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def command_line(argv: List[str]) -> str:
    """The command as the reader would type it; `make bench` when make started us."""
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable
    direct = " ".join([python, "-m", "bench", *map(shlex.quote, argv)])
    if os.environ.get("MAKELEVEL") and not argv:
        return f"make bench    # runs: {direct}"
    return direct


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")
    work = args.work_dir.resolve() if args.work_dir else Path(tempfile.mkdtemp(prefix="bench-"))
    work.mkdir(parents=True, exist_ok=True)
    # Server logs and endpoint files go to the work directory, not tests/artifacts
    # (read by bot.servers at import, so before it is imported).
    os.environ["BOT_ARTIFACTS"] = str(work / "logs")
    for variable, value in (("RASA_TELEMETRY_ENABLED", "false"), ("TF_CPP_MIN_LOG_LEVEL", "2"),
                            ("SQLALCHEMY_SILENCE_UBER_WARNING", "1")):
        os.environ.setdefault(variable, value)

    from bench import report
    from bench.runner import QUICK, Bench, Config

    config = dataclasses.replace(QUICK if args.quick else Config(), train=not args.skip_train)
    overrides = {name: getattr(args, name) for name in
                 ("sequential", "concurrent", "concurrency", "throughput", "throughput_concurrency", "warmup")
                 if getattr(args, name) is not None}
    config = dataclasses.replace(config, **overrides)
    from bot.servers import MODEL

    model = (args.model or MODEL).resolve()
    if not model.exists():
        print(f"no model at {model}: run `make train` first", file=sys.stderr)
        return 2
    logging.getLogger("bench").info("work directory: %s", work)
    results = Bench(config, work, model, reuse_stock=args.skip_train and args.work_dir is not None).run()
    results["command"] = command_line(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.render(results, results["command"], quick=args.quick), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    for target in report.targets(results):
        print(f"{target['status']:>14}  {target['target']}: {target['measured']}")
    print(f"report: {args.out}")
    if results["failures"]:
        print(f"{len(results['failures'])} part(s) failed; logs kept in {work / 'logs'}", file=sys.stderr)
        return 1
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `modelwire` command.

modelwire serve [--host H] [--port P] [--http-port Q] [--api-key K] [--user-id U]
                [--db PATH] [--clavata-policies FILE] [--content-dir DIR ...]
modelwire migrate [--in-place] FILE...

`migrate` applies the documented import rewrite (`modelwire.migrate.REWRITES`) to Python files:
it prints the rewritten source (`-` reads stdin), or with --in-place rewrites the files. What to
check by hand (a dotted `import` whose name changed, a published import with no equivalent) goes to
stderr.

A key passed with --api-key is never printed (the `export` lines show *** in its place); a
generated key is printed once, since the user has no other way to learn it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from modelwire._version import __version__


def _serve(args: argparse.Namespace) -> int:
    try:
        from modelwire._core.errors import ConfigurationError
        from modelwire.emulator import Emulator
        from modelwire.emulator.clavata.policy import PolicyError
    except ImportError as exc:  # the emulator extra is not installed
        print(
            f"modelwire serve needs the emulator extra: pip install 'modelwire[emulator]' ({exc})",
            file=sys.stderr,
        )
        return 2
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            http_port=args.http_port,
            api_key=args.api_key,
            user_id=args.user_id,
            db=args.db,
            clavata_policies=args.clavata_policies,
            content_dirs=args.content_dir,
        )
    except (PolicyError, ConfigurationError) as exc:
        print(f"modelwire serve: {exc}", file=sys.stderr)
        return 2
    try:
        emulator.start()
    except OSError as exc:  # PortInUseError says which port and what to do
        print(f"modelwire serve: {exc}", file=sys.stderr)
        emulator.stop()
        return 2
    print(
        f"modelwire {__version__} emulator listening on {emulator.address} (gRPC: Clavata, Clarifai)",
        flush=True,
    )
    if emulator.decthings.running:
        print(
            f"  Decthings (HTTP + WebSocket): {emulator.decthings_url}  {emulator.decthings_ws_url}",
            flush=True,
        )
    print(f"  Clarifai hosted content and exports (HTTP, key required): {emulator.files_url}", flush=True)
    if emulator.key_generated:
        print(f"  generated API key: {emulator.api_key}", flush=True)
    else:
        print("  API key: the one you passed with --api-key (not shown)", flush=True)
    for name, value in emulator.client_env().items():
        if value == emulator.api_key and not emulator.key_generated:
            value = "***"
        print(f"  export {name}={value}", flush=True)
    if emulator.content_dirs:
        print("  file:// content is read under: " + ", ".join(map(str, emulator.content_dirs)), flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        emulator.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    emulator.wait()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from modelwire.migrate import migration_notes, rewrite_imports

    failed = False
    for name in args.files:
        label = "<stdin>" if name == "-" else name
        try:
            source = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"modelwire migrate: cannot read {label}: {reason}", file=sys.stderr)
            failed = True
            continue
        rewritten = rewrite_imports(source)
        for note in migration_notes(source):
            print(f"{label}: {note}", file=sys.stderr)
        if not args.in_place or name == "-":
            if len(args.files) > 1:
                print(f"# --- {label}")
            sys.stdout.write(rewritten)
            continue
        if rewritten == source:
            print(f"{label}: no imports to rewrite", file=sys.stderr)
            continue
        try:
            Path(name).write_text(rewritten, encoding="utf-8")
        except OSError as exc:
            print(f"modelwire migrate: cannot write {label}: {exc.strerror or exc}", file=sys.stderr)
            failed = True
            continue
        print(f"{label}: imports rewritten", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelwire", description="modelwire SDK tools")
    parser.add_argument("--version", action="version", version=f"modelwire {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the local emulator of the providers' APIs")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=50051, help="gRPC port, 0 for any free port (default 50051)"
    )
    serve.add_argument(
        "--http-port",
        type=int,
        default=None,
        help="Decthings HTTP/WebSocket port, 0 for any free port (default: Decthings is not served)",
    )
    serve.add_argument(
        "--api-key", default=None, help="the key clients must send (generated and printed if omitted)"
    )
    serve.add_argument("--user-id", default="demo", help="user the key belongs to (Clarifai; default demo)")
    serve.add_argument("--db", default=":memory:", help="SQLite file to persist to (default: in memory)")
    serve.add_argument(
        "--clavata-policies", default=None, help="YAML file of Clavata policies (default: demo set)"
    )
    serve.add_argument(
        "--content-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="directory whose files content URLs may name as file:// (repeatable; default: none, "
        "file:// is refused so a served emulator never reads the machine's files)",
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="log every emulator event")
    serve.set_defaults(func=_serve)
    migrate = sub.add_parser(
        "migrate",
        help="rewrite the imports of code written for the published clients to modelwire's",
        description="Apply the documented import rewrite (clavata_sdk, clarifai.client.*, "
        "clarifai.rest, clarifai_grpc, decthings_api -> modelwire) to Python files. Only import "
        "statements change.",
    )
    migrate.add_argument("files", nargs="+", metavar="FILE", help="Python file to rewrite (- for stdin)")
    migrate.add_argument(
        "--in-place", action="store_true", help="rewrite the files instead of printing the result"
    )
    migrate.set_defaults(func=_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

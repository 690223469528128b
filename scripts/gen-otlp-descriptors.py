#!/usr/bin/env python3
"""Generates shared/src/otlp/otlp.binpb, the OTLP schema as a binary google.protobuf.FileDescriptorSet.

Why: npm has no decoder for the current OTLP protocol (SPEC §12), and we do not hand-copy .proto files. The
PyPI package `opentelemetry-proto` ships protoc's output for the official OTLP protos; each `*_pb2.py` module
holds its file's serialized FileDescriptorProto. We import those modules, collect the collector
metrics/logs/trace v1 files and everything they import (common, resource, the signal files), plus
`google/rpc/status.proto` (from `googleapis-common-protos`) and its import `google/protobuf/any.proto`, so the
receiver can encode `google.rpc.Status` error bodies. `@bufbuild/protobuf` reads the set at runtime
(shared/src/otlp/registry.ts). It then runs scripts/gen-otlp-descriptors.types.mjs, which derives
shared/src/otlp/schema.ts (TypeScript types of every message) from the new set.

Usage (from the repository root; needs python3 >= 3.10 and network access to PyPI):

    python3 scripts/gen-otlp-descriptors.py            # writes shared/src/otlp/otlp.binpb and schema.ts
    python3 scripts/gen-otlp-descriptors.py --check    # exits 1 if a committed file differs

The script installs the pinned packages into a throw-away venv and re-runs itself there, so it neither needs
nor touches a global protobuf installation. Bump the versions below to follow a new OTLP release, then run
the shared/src/otlp tests.
"""
import os
import subprocess
import sys
import tempfile

OTLP_PROTO_VERSION = "1.45.2"  # opentelemetry-proto on PyPI; OTLP protocol files as released with it
COMMON_PROTOS_VERSION = "1.76.0"  # googleapis-common-protos on PyPI, for google/rpc/status.proto
PROTOBUF_VERSION = ">=5,<8"  # google.protobuf runtime; any version opentelemetry-proto accepts reads descriptors alike

ROOT_MODULES = [
    "opentelemetry.proto.collector.metrics.v1.metrics_service_pb2",
    "opentelemetry.proto.collector.logs.v1.logs_service_pb2",
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
    "google.rpc.status_pb2",
]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(REPO_ROOT, "shared", "src", "otlp", "otlp.binpb")
TYPES_SCRIPT = os.path.join(REPO_ROOT, "scripts", "gen-otlp-descriptors.types.mjs")
IN_VENV_FLAG = "--in-venv"


def add_json_names(message_proto, message) -> None:
    """Sets json_name on every field, as protoc does in the descriptor sets it writes.

    The descriptors embedded in *_pb2.py leave it out, and readers of descriptor sets (@bufbuild/protobuf's
    createFileRegistry) take it as given: without it every field's JSON name would be "".
    """
    fields = {field.name: field for field in message.fields}
    for field_proto in message_proto.field:
        field_proto.json_name = fields[field_proto.name].json_name
    nested = {nested.name: nested for nested in message.nested_types}
    for nested_proto in message_proto.nested_type:
        add_json_names(nested_proto, nested[nested_proto.name])


def build_descriptor_set() -> bytes:
    import importlib

    from google.protobuf import descriptor_pb2

    files = []  # dependencies before dependents, as protoc writes sets
    seen = set()

    def add(file_descriptor) -> None:
        if file_descriptor.name in seen:
            return
        seen.add(file_descriptor.name)
        for dependency in file_descriptor.dependencies:
            add(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        file_descriptor.CopyToProto(proto)
        for message_proto in proto.message_type:
            add_json_names(message_proto, file_descriptor.message_types_by_name[message_proto.name])
        files.append(proto)

    for module_name in ROOT_MODULES:
        add(importlib.import_module(module_name).DESCRIPTOR)

    descriptor_set = descriptor_pb2.FileDescriptorSet(file=files)
    # Deterministic so that regenerating with the same versions gives the same bytes (clean diffs, --check).
    return descriptor_set.SerializeToString(deterministic=True)


def run_in_venv(args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="otlp-descriptors-") as venv:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        python = os.path.join(venv, "bin", "python")
        subprocess.run(
            [
                python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                f"opentelemetry-proto=={OTLP_PROTO_VERSION}",
                f"googleapis-common-protos=={COMMON_PROTOS_VERSION}",
                f"protobuf{PROTOBUF_VERSION}",
            ],
            check=True,
        )
        return subprocess.run([python, os.path.abspath(__file__), IN_VENV_FLAG, *args]).returncode


def main() -> int:
    args = sys.argv[1:]
    if IN_VENV_FLAG not in args:
        return run_in_venv(args)
    data = build_descriptor_set()
    if "--check" in args:
        with open(OUTPUT, "rb") as committed:
            if committed.read() != data:
                print(f"{OUTPUT} is out of date; run scripts/gen-otlp-descriptors.py", file=sys.stderr)
                return 1
        print(f"{OUTPUT} is up to date")
        return subprocess.run(["node", TYPES_SCRIPT, "--check"]).returncode
    with open(OUTPUT, "wb") as out:
        out.write(data)
    print(f"wrote {OUTPUT} ({len(data)} bytes, opentelemetry-proto {OTLP_PROTO_VERSION})")
    # The TypeScript types are derived from the descriptors just written, so they always change together.
    return subprocess.run(["node", TYPES_SCRIPT]).returncode


if __name__ == "__main__":
    sys.exit(main())

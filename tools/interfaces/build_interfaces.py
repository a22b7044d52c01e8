"""Build a ROS 2 message package from its .msg files into a pip-only ROS 2 venv.

The PyPI ROS 2 wheels ship the rosidl generators and the type-support runtimes but not every
message package (no tf2_msgs). This builds one from a folder holding `package.xml` and
`msg/*.msg` without CMake, colcon or ament_cmake:

1. `.msg` -> `.idl` with rosidl_adapter, then C, Python, type-hash JSON and the typesupport_c,
   typesupport_fastrtps_c and typesupport_introspection_c sources with the rosidl generators
   (called as Python APIs: the `rosidl generate` CLI trips over the wheels' duplicated entry
   points and needs catkin_pkg).
2. gcc/g++ compile them into the same shared libraries a colcon build makes
   (`lib<pkg>__rosidl_generator_c.so`, `..._typesupport_{c,fastrtps_c,introspection_c}.so`,
   `..._generator_py.so`) plus the Python extension `<pkg>_s__rosidl_typesupport_c`.
3. Install into the venv: libraries into `$VENV/lib` (on LD_LIBRARY_PATH through
   ros-wheels-bootstrapper, where rosidl_typesupport_c's dispatch finds them), the Python package
   into site-packages, headers into `include/<pkg>/<pkg>`, `.msg/.idl/.json` and `package.xml`
   into `share/<pkg>`, and the ament index markers. The Python package goes last, so
   `import <pkg>` only succeeds once everything else is in place.

Run it with the venv's own interpreter:
    .venv/bin/python tools/interfaces/build_interfaces.py tools/interfaces/tf2_msgs
The build tree is a temporary directory, removed afterwards unless --keep-build is given.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "humanoid_teleop_installed_files.txt"


class InterfaceBuildError(RuntimeError):
    """The interface package could not be generated, compiled or installed."""


@dataclass(frozen=True)
class InterfacePackage:
    """A message package to build: its name, message files and message dependencies."""

    name: str
    source_dir: Path
    msg_files: tuple[Path, ...]
    depends: tuple[str, ...]

    @classmethod
    def from_dir(cls, source_dir: Path) -> InterfacePackage:
        """Read `package.xml` and `msg/*.msg` from `source_dir`."""
        source_dir = source_dir.resolve()
        manifest = source_dir / "package.xml"
        try:
            root = ET.parse(manifest).getroot()
        except (OSError, ET.ParseError) as err:
            raise InterfaceBuildError(f"{manifest}: cannot read package manifest: {err}") from err
        name = (root.findtext("name") or "").strip()
        if not name:
            raise InterfaceBuildError(f"{manifest}: <name> is missing or empty")
        depends = tuple((e.text or "").strip() for e in root.findall("depend"))
        msg_files = tuple(sorted((source_dir / "msg").glob("*.msg")))
        if not msg_files:
            raise InterfaceBuildError(f"{source_dir / 'msg'}: no .msg files to build")
        return cls(name, source_dir, msg_files, depends)


@dataclass(frozen=True)
class Toolchain:
    """Compilers, flags and the prefix (venv) the package builds against and installs into."""

    prefix: Path
    build_dir: Path
    cc: str
    cxx: str

    @property
    def site_packages(self) -> Path:
        return Path(sysconfig.get_path("purelib", vars={"base": str(self.prefix)}))

    def include_dirs(self) -> list[Path]:
        """Generated, `prefix/include` and each package dir in it (ROS 2 nests), Python, numpy."""
        import numpy  # the generated Python support includes numpy's C API header

        python_include = Path(sysconfig.get_paths()["include"])
        if not (python_include / "Python.h").is_file():
            raise InterfaceBuildError(
                f"{python_include}/Python.h not found: install the Python {sys.version_info.major}"
                f".{sys.version_info.minor} development headers (e.g. python3.11-dev)"
            )
        generated = [
            self.build_dir / "gen" / kind for kind in ("c", "fastrtps_c", "introspection_c")
        ]
        installed = sorted(p for p in (self.prefix / "include").iterdir() if p.is_dir())
        return [
            *generated,
            self.prefix / "include",
            *installed,
            python_include,
            Path(numpy.get_include()),
        ]

    def compile_shared(
        self,
        output: Path,
        sources: list[Path],
        libraries: list[str],
        *,
        rpath: str = "$ORIGIN",
        allow_undefined: bool = False,
        defines: tuple[str, ...] = (),
    ) -> Path:
        """Compile and link `sources` into the shared object `output`; return it."""
        is_cxx = any(s.suffix == ".cpp" for s in sources)
        command = [self.cxx, "-std=c++17"] if is_cxx else [self.cc, "-std=gnu11"]
        command += ["-O2", "-fPIC", "-shared", "-w", *(f"-D{d}" for d in defines)]
        command += [f"-I{d}" for d in self.include_dirs()]
        command += [str(s) for s in sources]
        command += [f"-L{self.build_dir / 'lib'}", f"-L{self.prefix / 'lib'}"]
        command += [f"-l{lib}" for lib in libraries]
        command += [f"-Wl,-rpath,{rpath}"]
        if not allow_undefined:
            command.append("-Wl,--no-undefined")
        command += ["-o", str(output)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError as err:
            raise InterfaceBuildError(
                f"compiler {command[0]!r} not found (set CC/CXX, or install gcc and g++): {err}"
            ) from err
        if result.returncode != 0:
            raise InterfaceBuildError(
                f"building {output.name} failed:\n$ {' '.join(command)}\n{result.stderr[-4000:]}"
            )
        return output


def generate_sources(package: InterfacePackage, prefix: Path, build_dir: Path) -> Path:
    """Run the rosidl generators; return the directory holding `.msg`-converted `.idl` files."""
    os.environ["AMENT_PREFIX_PATH"] = os.pathsep.join(
        p for p in (str(prefix), os.environ.get("AMENT_PREFIX_PATH", "")) if p
    )
    # The wheels install each rosidl package with both an egg-info and a dist-info, so every
    # rosidl_cli entry point is seen twice; that warning is noise here.
    logging.getLogger("rosidl_cli.entry_points").setLevel(logging.ERROR)
    from rosidl_adapter.msg import convert_msg_to_idl
    from rosidl_generator_c.cli import GenerateC
    from rosidl_generator_py.cli import GeneratePython
    from rosidl_typesupport_c.cli import GenerateCTypesupport
    from rosidl_typesupport_fastrtps_c.cli import GenerateFastRTPSCTypesupport
    from rosidl_typesupport_introspection_c.cli import GenerateIntrospectionCTypesupport

    idl_root = build_dir / "idl"
    (idl_root / "msg").mkdir(parents=True)
    idl_files = []
    for msg in package.msg_files:
        idl = convert_msg_to_idl(
            package.source_dir, package.name, msg.relative_to(package.source_dir), idl_root / "msg"
        )
        idl_files.append(f"{idl_root}:msg/{idl.name}")

    include_paths = []
    for dep in package.depends:
        share = prefix / "share" / dep
        if not (share / "msg").is_dir():
            raise InterfaceBuildError(
                f"{package.source_dir / 'package.xml'}: dependency {dep!r} has no messages under "
                f"{share}; is its ROS 2 wheel installed?"
            )
        include_paths.append(str(share))

    generators = {
        "c": GenerateC("c"),
        "typesupport_c": GenerateCTypesupport("typesupport_c"),
        "fastrtps_c": GenerateFastRTPSCTypesupport("fastrtps_c"),
        "introspection_c": GenerateIntrospectionCTypesupport("introspection_c"),
        # Only the rosidl_typesupport_c extension: it is the one rosidl_generator_py imports.
        "py": GeneratePython("py", typesupport_implementations=["rosidl_typesupport_c"]),
    }
    for kind, generator in generators.items():
        generator.generate(
            package.name, idl_files, include_paths, build_dir / "gen" / kind / package.name
        )
    return idl_root


def compile_libraries(package: InterfacePackage, tools: Toolchain) -> dict[str, Path]:
    """Compile the five libraries and the Python extension; return them by role."""
    name, deps = package.name, package.depends
    gen, lib = tools.build_dir / "gen", tools.build_dir / "lib"
    lib.mkdir()

    def dep_libs(kind: str) -> list[str]:
        return [f"{d}__{kind}" for d in deps]

    def sources(kind: str, pattern: str) -> list[Path]:
        return sorted((gen / kind / name).glob(pattern))

    built: dict[str, Path] = {}
    built["generator_c"] = tools.compile_shared(
        lib / f"lib{name}__rosidl_generator_c.so",
        sources("c", "msg/detail/*.c"),
        [*dep_libs("rosidl_generator_c"), "rosidl_runtime_c", "rcutils"],
        defines=(f"ROSIDL_GENERATOR_C_BUILDING_DLL_{name}",),
    )
    own_c = f"{name}__rosidl_generator_c"
    typesupports = {
        "typesupport_introspection_c": (
            sources("introspection_c", "msg/detail/*.c"),
            [
                own_c,
                *dep_libs("rosidl_typesupport_introspection_c"),
                *dep_libs("rosidl_generator_c"),
                "rosidl_typesupport_introspection_c",
                "rosidl_runtime_c",
                "rcutils",
            ],
            f"ROSIDL_TYPESUPPORT_INTROSPECTION_C_BUILDING_DLL_{name}",
        ),
        "typesupport_fastrtps_c": (
            sources("fastrtps_c", "msg/detail/*.cpp"),
            [
                own_c,
                *dep_libs("rosidl_typesupport_fastrtps_c"),
                *dep_libs("rosidl_generator_c"),
                "rosidl_typesupport_fastrtps_c",
                "rosidl_typesupport_fastrtps_cpp",
                "rmw",
                "fastcdr",
                "rosidl_runtime_c",
                "rcutils",
            ],
            f"ROSIDL_TYPESUPPORT_FASTRTPS_C_BUILDING_DLL_{name}",
        ),
        "typesupport_c": (
            sources("typesupport_c", "msg/*.cpp"),
            [own_c, "rosidl_typesupport_c", "rosidl_runtime_c", "rcpputils", "rcutils"],
            "ROSIDL_TYPESUPPORT_C_BUILDING_DLL",
        ),
    }
    workers = min(len(typesupports), os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            role: pool.submit(
                tools.compile_shared,
                lib / f"lib{name}__rosidl_{role}.so",
                srcs,
                libs,
                defines=(define,),
            )
            for role, (srcs, libs, define) in typesupports.items()
        }
        for role, future in futures.items():
            built[role] = future.result()

    py_deps = [
        *dep_libs("rosidl_generator_py"),
        *dep_libs("rosidl_typesupport_c"),
        *dep_libs("rosidl_generator_c"),
    ]
    # Python C-API symbols resolve against the interpreter at import time: no libpython link.
    built["generator_py"] = tools.compile_shared(
        lib / f"lib{name}__rosidl_generator_py.so",
        sources("py", "msg/*_s.c"),
        [own_c, f"{name}__rosidl_typesupport_c", *py_deps, "rosidl_runtime_c", "rcutils"],
        allow_undefined=True,
    )
    extension = f"{name}_s__rosidl_typesupport_c{sysconfig.get_config_var('EXT_SUFFIX')}"
    ext_dir = tools.site_packages / name
    built["extension"] = tools.compile_shared(
        lib / extension,
        sources("py", f"_{name}_s.ep.rosidl_typesupport_c.c"),
        [
            f"{name}__rosidl_generator_py",
            f"{name}__rosidl_typesupport_c",
            own_c,
            *py_deps,
            "rosidl_typesupport_c",
            "rosidl_runtime_c",
            "rcutils",
        ],
        rpath="$ORIGIN/" + os.path.relpath(tools.prefix / "lib", ext_dir),
        allow_undefined=True,
    )
    return built


def install(
    package: InterfacePackage, tools: Toolchain, idl_root: Path, built: dict[str, Path]
) -> list[Path]:
    """Copy everything into the prefix, the Python package last; return the installed files."""
    name, prefix, gen = package.name, tools.prefix, tools.build_dir / "gen"
    installed: list[Path] = []

    def put(src: Path, dst: Path) -> None:
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".tmp")
        shutil.copy2(src, tmp)
        tmp.replace(dst)  # atomic: a running process never sees half a library
        installed.append(dst)

    def write(dst: Path, text: str) -> None:
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text, encoding="utf-8")
        installed.append(dst)

    for role, path in built.items():
        if role != "extension":
            put(path, prefix / "lib" / path.name)

    include = prefix / "include" / name / name
    for kind in ("c", "fastrtps_c", "introspection_c"):
        for header in sorted((gen / kind / name).rglob("*.h*")):
            put(header, include / header.relative_to(gen / kind / name))

    share = prefix / "share" / name
    put(package.source_dir / "package.xml", share / "package.xml")
    interfaces = []
    for msg in package.msg_files:
        put(msg, share / "msg" / msg.name)
        put(idl_root / "msg" / f"{msg.stem}.idl", share / "msg" / f"{msg.stem}.idl")
        put(gen / "c" / name / "msg" / f"{msg.stem}.json", share / "msg" / f"{msg.stem}.json")
        interfaces += [f"msg/{msg.stem}.idl", f"msg/{msg.stem}.msg"]

    index = prefix / "share" / "ament_index" / "resource_index"
    write(index / "packages" / name, "")
    write(index / "rosidl_interfaces" / name, "\n".join(interfaces) + "\n")
    write(index / "package_run_dependencies" / name, ";".join(package.depends))

    python_pkg = tools.site_packages / name
    staging = tools.build_dir / "python" / name
    shutil.copytree(
        gen / "py" / name / "msg", staging / "msg", ignore=shutil.ignore_patterns("*.c")
    )
    (staging / "__init__.py").write_text("", encoding="utf-8")
    shutil.copy2(built["extension"], staging / built["extension"].name)
    if python_pkg.exists():
        shutil.rmtree(python_pkg)
    shutil.copytree(staging, python_pkg)
    installed += sorted(p for p in python_pkg.rglob("*") if p.is_file())

    manifest = share / MANIFEST
    installed.append(manifest)
    manifest.write_text("\n".join(str(p) for p in installed) + "\n", encoding="utf-8")
    return installed


def check_installed(package: InterfacePackage, prefix: Path) -> None:
    """Run `report_installed` in a fresh venv interpreter (as rclpy would load the package)."""
    env = {k: v for k, v in os.environ.items() if k != "_ROS_WHEELS_BOOTSTRAP_COMPLETE"}
    result = subprocess.run(
        [str(prefix / "bin" / "python"), __file__, "--check", str(package.source_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise InterfaceBuildError(
            f"{package.name} was installed into {prefix} but does not load:\n{result.stderr}"
        )
    print(result.stdout, end="")


def report_installed(package: InterfacePackage) -> None:
    """Load each message's Python typesupport and C libraries; print its type hash.

    Runs in the target venv without rclpy (no DDS participant, so no network wrapper needed).
    """
    import ctypes
    import importlib

    lib = Path(sys.prefix) / "lib"
    module = importlib.import_module(f"{package.name}.msg")
    for stem in (m.stem for m in package.msg_files):
        cls = getattr(module, stem)
        cls.__class__.__import_type_support__()
        if cls.__class__._TYPE_SUPPORT is None:
            raise InterfaceBuildError(f"{package.name}.msg.{stem}: Python typesupport not loaded")
        symbol = f"{package.name}__msg__{stem}"
        for kind in ("fastrtps_c", "introspection_c"):
            ts = ctypes.CDLL(str(lib / f"lib{package.name}__rosidl_typesupport_{kind}.so"))
            getattr(ts, f"rosidl_typesupport_{kind}__get_message_type_support_handle__{symbol}")
        generator_c = ctypes.CDLL(str(lib / f"lib{package.name}__rosidl_generator_c.so"))
        get_hash = getattr(generator_c, f"{symbol}__get_type_hash")
        get_hash.argtypes = [ctypes.c_void_p]
        get_hash.restype = ctypes.POINTER(ctypes.c_uint8 * 33)  # rosidl_type_hash_t
        version, *value = get_hash(None).contents
        print(f"{package.name}/msg/{stem}: RIHS{version:02}_{bytes(value).hex()}")


def build(source_dir: Path, prefix: Path, keep_build: Path | None) -> list[Path]:
    """Generate, compile, install and check one package; return the installed files."""
    package = InterfacePackage.from_dir(source_dir)
    build_dir = Path(tempfile.mkdtemp(prefix=f"build-{package.name}-"))
    try:
        tools = Toolchain(
            prefix=prefix,
            build_dir=build_dir,
            cc=os.environ.get("CC", "cc"),
            cxx=os.environ.get("CXX", "c++"),
        )
        idl_root = generate_sources(package, prefix, build_dir)
        built = compile_libraries(package, tools)
        installed = install(package, tools, idl_root, built)
        check_installed(package, prefix)
        return installed
    finally:
        if keep_build is not None:
            shutil.rmtree(keep_build, ignore_errors=True)
            shutil.move(str(build_dir), keep_build)
        else:
            shutil.rmtree(build_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package_dir", type=Path, help="folder with package.xml and msg/*.msg")
    parser.add_argument(
        "--prefix",
        type=Path,
        help="venv to build against and install into (default: the running venv)",
    )
    parser.add_argument("--keep-build", type=Path, help="keep the build tree in this folder")
    parser.add_argument(
        "--check", action="store_true", help="only load the installed package, print type hashes"
    )
    args = parser.parse_args(argv)
    if args.check:
        report_installed(InterfacePackage.from_dir(args.package_dir))
        return 0
    if args.prefix is None:
        if sys.prefix == sys.base_prefix:
            parser.error(
                f"{sys.executable} is not a venv's Python: run the venv's, or give --prefix"
            )
        args.prefix = Path(sys.prefix)
    started = time.monotonic()
    try:
        installed = build(args.package_dir, args.prefix.resolve(), args.keep_build)
    except InterfaceBuildError as err:
        print(f"build_interfaces: error: {err}", file=sys.stderr)
        return 1
    print(
        f"build_interfaces: installed {args.package_dir.name} into {args.prefix} "
        f"({len(installed)} files, {time.monotonic() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

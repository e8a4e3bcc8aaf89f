"""Build script for the optional compiled kernel; the metadata lives in pyproject.toml.

``weightinit._engine._fast`` is optional: without a C compiler the install still
succeeds and the engine uses its numpy reference (same bits, slower).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# Bitwise reproducibility: no fused multiply-add contraction, no value-changing
# float optimisations, no excess precision. -fno-math-errno only lets sqrt
# compile to the (correctly rounded) instruction.
GCC_LIKE_FLAGS = [
    "-O3",
    "-ffp-contract=off",
    "-fno-fast-math",
    "-fno-math-errno",
    "-fexcess-precision=standard",
    "-pthread",
]
MSVC_FLAGS = ["/O2", "/fp:precise"]

# The kernel's units and the headers they share (see kernel.h for which file holds what);
# tools/sanitize.py reads these lists too.
KERNEL_SOURCES = [
    "src/weightinit/_engine/_fast_src/module.c",
    "src/weightinit/_engine/_fast_src/dispatch.c",
    "src/weightinit/_engine/_fast_src/isa_default.c",
    "src/weightinit/_engine/_fast_src/isa_avx2.c",
    "src/weightinit/_engine/_fast_src/isa_avx512.c",
]
KERNEL_HEADERS = [
    "src/weightinit/_engine/_fast_src/kernel.h",
    "src/weightinit/_engine/_fast_src/threefry.h",
    "src/weightinit/_engine/_fast_src/transforms.h",
    "src/weightinit/_engine/_fast_src/pipeline.h",
]


class BuildExt(build_ext):
    def build_extensions(self) -> None:
        msvc = self.compiler.compiler_type == "msvc"
        for ext in self.extensions:
            if msvc:
                ext.extra_compile_args = [*MSVC_FLAGS]
            else:
                ext.extra_compile_args = [*GCC_LIKE_FLAGS]
                ext.extra_link_args = ["-pthread"]
        super().build_extensions()


setup(
    ext_modules=[
        Extension(
            "weightinit._engine._fast",
            sources=KERNEL_SOURCES,
            depends=KERNEL_HEADERS,
            optional=True,
        )
    ],
    cmdclass={"build_ext": BuildExt},
)

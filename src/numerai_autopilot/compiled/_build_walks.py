"""Compiling the walks into native objects, once per machine (in the preparation child).

numba turns each walk of ``_walks`` into a C-callable function per row type (int8, float32,
float64 rows: 9 functions); llvmlite compiles their LLVM IR for this CPU into object code,
stored in the ``jit`` folder with a manifest (symbols, sha256s, key). Runs load those objects
with llvmlite alone (``_kernel``): 0.2 s instead of numba's 3 s of import and first dispatch,
measured here. numba is needed only here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..fileio import write_atomic
from . import _walks

ROW_TYPES = ("int8", "float32", "float64")
MANIFEST = "walks.json"


def build(jit: Path, key: dict[str, Any]) -> dict[str, Any]:
    """Compile every walk for every row type into ``jit``; returns the manifest written."""
    import llvmlite.binding as llvm
    import numba
    from numba import carray, types

    jit.mkdir(mode=0o700, parents=True, exist_ok=True)
    jit_inline = numba.njit(inline="always")
    inline = {n: jit_inline(getattr(_walks, n)) for n in ("heap", "fast", "general")}
    p, i64, f64 = types.CPointer, types.int64, types.float64
    i32, b1, u32 = types.int32, types.boolean, types.uint32
    heap_body, fast_body, general_body = inline["heap"], inline["fast"], inline["general"]
    made: dict[str, Any] = {}
    for row in ROW_TYPES:
        rt = getattr(types, row)
        heap_args = (p(rt), i64, i64, p(i32), p(f64), p(b1), p(f64), i64, i64)
        heap_sig = types.void(*heap_args, p(i64), p(f64), p(f64))

        def heap(xp, n, width, fp, tp, nlp, lp, trees, depth, ip, ap, op):  # type: ignore[no-untyped-def]  # noqa: PLR0917
            inner = (1 << depth) - 1
            heap_body(
                carray(xp, (n, width)), carray(fp, (trees * inner,)),
                carray(tp, (trees * inner,)), carray(nlp, (trees * inner,)),
                carray(lp, (trees * (inner + 1),)), depth, carray(ip, (_walks.BLOCK,)),
                carray(ap, (_walks.BLOCK,)), carray(op, (n,)),
            )  # fmt: skip

        node = (p(i32), p(f64), p(b1), p(i32), p(f64), p(i32), p(i32))
        fast_sig = types.void(p(rt), i64, i64, i64, i64, *node, p(i64), p(f64), p(f64))

        def fast(xp, n, width, nodes, trees, fp, tp, nlp, cp, vp, rp, dp, ip, ap, op):  # type: ignore[no-untyped-def]  # noqa: PLR0917
            fast_body(
                carray(xp, (n, width)), carray(fp, (nodes,)), carray(tp, (nodes,)),
                carray(nlp, (nodes,)), carray(cp, (2 * nodes,)), carray(vp, (nodes,)),
                carray(rp, (trees,)), carray(dp, (trees,)), carray(ip, (_walks.BLOCK,)),
                carray(ap, (_walks.BLOCK,)), carray(op, (n,)),
            )  # fmt: skip

        general_args: tuple[Any, ...] = (
            p(rt),
            i64,
            i64,
            i64,
            i64,
            i64,
            p(i32),
            p(f64),
            p(types.int8),
            p(b1),
        )
        general_args += (p(i32), p(f64), p(i32), p(i32), p(u32), p(i32), p(i32))
        general_sig = types.void(*general_args, p(i64), p(f64), p(f64))

        def general(  # type: ignore[no-untyped-def]  # noqa: PLR0917
            xp,
            n,
            width,
            nodes,
            trees,
            nbits,
            fp,
            tp,
            kp,
            dlp,
            cp,
            vp,
            csp,
            clp,
            bp,
            rp,
            dp,
            ip,
            ap,
            op,
        ):
            general_body(
                carray(xp, (n, width)), carray(fp, (nodes,)), carray(tp, (nodes,)),
                carray(kp, (nodes,)), carray(dlp, (nodes,)), carray(cp, (2 * nodes,)),
                carray(vp, (nodes,)), carray(csp, (nodes,)), carray(clp, (nodes,)),
                carray(bp, (nbits,)), carray(rp, (trees,)), carray(dp, (trees,)),
                carray(ip, (_walks.BLOCK,)), carray(ap, (_walks.BLOCK,)), carray(op, (n,)),
            )  # fmt: skip

        variants = [("heap", heap, heap_sig), ("fast", fast, fast_sig)]
        variants.append(("general", general, general_sig))
        for name, fn, sig in variants:
            made[f"{name}_{row}"] = numba.cfunc(sig, nogil=True, error_model="numpy")(fn)
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    machine = _machine(llvm, key["cpu"])
    objects: dict[str, Any] = {}
    for name, cf in made.items():
        module = llvm.parse_assembly(cf._library.get_llvm_str())
        module.verify()
        data = machine.emit_object(module)
        write_atomic(jit / f"{name}.o", data, mode=0o600)
        objects[name] = {"symbol": cf.native_name, "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {"key": key, "objects": objects}
    write_atomic(jit / MANIFEST, json.dumps(manifest, indent=1).encode(), mode=0o600)
    return manifest


def _machine(llvm: Any, cpu: dict[str, str]) -> Any:
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=cpu["name"], features=cpu["features"], opt=3, reloc="pic", codemodel="default"
    )

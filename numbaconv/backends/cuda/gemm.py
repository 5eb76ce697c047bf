"""One tiled shared-memory GEMM, generated per operand kind, for matmul and the three convolution products.

``C[z][m, n] = sum_k A[z][m, k] * B[z][k, n]`` over a (n-tiles, m-tiles, z * ksplit) grid. Each block stages
a BK x BM slice of A and a BK x BN slice of B in shared memory (rows padded by one word against bank
conflicts); every thread accumulates a TM x TN tile in scalar registers (the kernel source is generated, so
nothing is indexed at run time). The operand loads are where the kinds differ:

- ``matmul``: strided matrices (batch strides may be 0 for broadcasting).
- ``conv_fwd``: A = weights, B = the implicit im2col view of x. Each thread decodes its output pixel once;
  the per-k offsets come from a small table, so the K loop does no division.
- ``conv_dx``: A = weights gathered through a per-k table, B = output gradient seen through the
  transposed convolution's geometry.
- ``conv_dw``: A = output gradient, B = im2col view of x, both walked along K with carried counters.
  K (= n * oh * ow) is split across blocks that add their partial sums atomically.

The store fuses a bias and a ReLU epilogue; its address is a row part plus a column part, each computed once.
``p`` is one int tuple: the geometry of the kind's ``SLOTS`` layout, then the ``EPILOGUE`` flags (see
:func:`params`); the generated source reads each slot once into a local of the slot's name.
"""
import numpy as np
from numba import from_dtype

from .launch import cached, cuda, device_empty

# The slots of ``p`` per layout. matmul: batch, row and k strides of A; batch, k and column strides of B;
# batch, row and column strides of C. conv: batch, channels, height, width, output channels, output height
# and width, kernel height and width, strides, top and left padding, dilations, channels and output channels
# per group (all of x and w as given to conv2d).
SLOTS = {
    "matmul": ("sa_z", "sa_m", "sa_k", "sb_z", "sb_k", "sb_n", "sc_z", "sc_m", "sc_n"),
    "conv": ("Nb", "Cin", "H", "W", "O", "OH", "OW", "KH", "KW", "SH", "SW", "PH", "PW", "DH", "DW", "Cg", "Og"),
}
# After the longest layout: the bias flag (0 none; conv 1; matmul 1 per row of C, 2 per column) and ReLU's.
EPILOGUE = ("has_bias", "has_relu")
P_LEN = max(len(names) for names in SLOTS.values()) + len(EPILOGUE)
_CONV_DERIVED = "HW = H * W; OHW = OH * OW; KHKW = KH * KW; Kc = Cg * KHKW"

# Per kind: setup (once per slot; may use mm/kk/nn, m0/n0, kbeg), load (sets v; k is the slot's k), advance.
KINDS = {
    "matmul": dict(
        layout="matmul",
        a_setup="am{r} = m0 + mm{r}; aok{r} = am{r} < M; abase{r} = z * sa_z + am{r} * sa_m",
        a_load="if aok{r} and k < kend:\n    v = A[abase{r} + k * sa_k]",
        b_setup="bn{r} = n0 + nn{r}; bok{r} = bn{r} < N; bbase{r} = z * sb_z + bn{r} * sb_n",
        b_load="if bok{r} and k < kend:\n    v = B[bbase{r} + k * sb_k]",
        store_m="z * sc_z + m * sc_m",
        store_n="n * sc_n",
        bias_index="m if has_bias == 1 else n",
    ),
    "conv_fwd": dict(
        layout="conv",
        a_setup="am{r} = m0 + mm{r}; aok{r} = am{r} < M; abase{r} = (z * Og + am{r}) * Kc",
        a_load="if aok{r} and k < kend:\n    v = A[abase{r} + k]",
        b_setup=(
            "bn{r} = n0 + nn{r}; bok{r} = bn{r} < N; bimg{r} = bn{r} // OHW; bq{r} = bn{r} - bimg{r} * OHW\n"
            "boh{r} = bq{r} // OW; bh{r} = boh{r} * SH - PH; bw{r} = (bq{r} - boh{r} * OW) * SW - PW\n"
            "bbase{r} = (bimg{r} * Cin + z * Cg) * HW + bh{r} * W + bw{r}"
        ),
        b_load=(
            "if bok{r} and k < kend:\n"
            "    hh = bh{r} + tab_b[k]\n"
            "    ww = bw{r} + tab_b[K + k]\n"
            "    if hh >= 0 and hh < H and ww >= 0 and ww < W:\n"
            "        v = B[bbase{r} + tab_b[2 * K + k]]"
        ),
        store_m="(z * Og + m) * OHW",
        store_n="n // OHW * (O - 1) * OHW + n",
        bias_index="z * Og + m",
    ),
    "conv_dx": dict(
        layout="conv",
        a_setup="am{r} = m0 + mm{r}; aok{r} = am{r} < M; abase{r} = z * Og * Kc + am{r} * KHKW",
        a_load="if aok{r} and k < kend:\n    v = A[abase{r} + tab_a[k]]",
        b_setup=(
            "bn{r} = n0 + nn{r}; bok{r} = bn{r} < N; bimg{r} = bn{r} // HW; bq{r} = bn{r} - bimg{r} * HW\n"
            "bhh{r} = bq{r} // W; bww{r} = bq{r} - bhh{r} * W + PW; bhh{r} = bhh{r} + PH\n"
            "bbase{r} = (bimg{r} * O + z * Og) * OHW"
        ),
        b_load=(
            "if bok{r} and k < kend:\n"
            "    th = bhh{r} - tab_b[k]\n"
            "    tw = bww{r} - tab_b[K + k]\n"
            "    if th >= 0 and tw >= 0:\n"
            "        if unit_stride:\n"
            "            oh = th\n"
            "            ow = tw\n"
            "        else:\n"
            "            oh = th // SH\n"
            "            ow = tw // SW\n"
            "            if oh * SH != th or ow * SW != tw:\n"
            "                oh = OH\n"
            "        if oh < OH and ow < OW:\n"
            "            v = B[bbase{r} + tab_b[2 * K + k] + oh * OW + ow]"
        ),
        store_m="(z * Cg + m) * HW",
        store_n="n // HW * (Cin - 1) * HW + n",
        bias_index="m",
    ),
    "conv_dw": dict(
        layout="conv",
        a_setup=(
            "am{r} = m0 + mm{r}; aok{r} = am{r} < M; abase{r} = (z * Og + am{r}) * OHW\n"
            "ak{r} = kbeg + kk{r}; aimg{r} = ak{r} // OHW; aq{r} = ak{r} - aimg{r} * OHW"
        ),
        a_load="if aok{r} and ak{r} < kend:\n    v = A[aimg{r} * O * OHW + abase{r} + aq{r}]",
        a_advance="ak{r} += BK\naq{r} += BK\nwhile aq{r} >= OHW:\n    aq{r} -= OHW\n    aimg{r} += 1",
        b_setup=(
            "bn{r} = n0 + nn{r}; bok{r} = bn{r} < N; bc{r} = bn{r} // KHKW; br{r} = bn{r} - bc{r} * KHKW\n"
            "bi{r} = br{r} // KW; bdi{r} = bi{r} * DH - PH; bdj{r} = (br{r} - bi{r} * KW) * DW - PW\n"
            "bcb{r} = (z * Cg + bc{r}) * HW\n"
            "bk{r} = kbeg + kk{r}; bimg{r} = bk{r} // OHW; bq{r} = bk{r} - bimg{r} * OHW\n"
            "boh{r} = bq{r} // OW; bow{r} = bq{r} - boh{r} * OW"
        ),
        b_load=(
            "if bok{r} and bk{r} < kend:\n"
            "    hh = boh{r} * SH + bdi{r}\n"
            "    ww = bow{r} * SW + bdj{r}\n"
            "    if hh >= 0 and hh < H and ww >= 0 and ww < W:\n"
            "        v = B[bimg{r} * Cin * HW + bcb{r} + hh * W + ww]"
        ),
        b_advance=(
            "bk{r} += BK\nbow{r} += BK\nwhile bow{r} >= OW:\n    bow{r} -= OW\n    boh{r} += 1\n"
            "    if boh{r} >= OH:\n        boh{r} = 0\n        bimg{r} += 1"
        ),
        store_m="(z * Og + m) * Kc",
        store_n="n",
        bias_index="m",
    ),
}

# (BM, BN, BK, TM, TN); SMALL keeps tiny problems (and the CUDA simulator) cheap.
DEFAULT = (64, 64, 8, 4, 4)
SMALL = (16, 16, 8, 2, 2)


def _indent(code, spaces):
    pad = " " * spaces
    return "\n".join(pad + line for line in code.splitlines())


def _read_params(layout):
    """Source lines binding each slot of ``p`` (and the conv layout's derived sizes) to its name."""
    slots = [*enumerate(SLOTS[layout]), *enumerate(EPILOGUE, P_LEN - len(EPILOGUE))]
    lines = [f"{name} = p[{i}]" for i, name in slots]
    return "\n".join(lines + ([_CONV_DERIVED] if layout == "conv" else []))


def _source(kind, tile, a_k_fast, b_k_fast):
    bm, bn, bk, tm, tn = tile
    txn, tym = bn // tn, bm // tm
    nt = txn * tym
    spec = KINDS[kind]
    lines = [
        "def kernel(C, A, B, bias, M, N, K, ksplit, p, tab_a, tab_b, unit_stride):",
        "    t = cuda.threadIdx.x",
        f"    tx = t % {txn}",
        f"    ty = t // {txn}",
        f"    m0 = cuda.blockIdx.y * {bm}",
        f"    n0 = cuda.blockIdx.x * {bn}",
        "    z = cuda.blockIdx.z // ksplit",
        "    s = cuda.blockIdx.z - z * ksplit",
        f"    kchunk = ((K + ksplit - 1) // ksplit + {bk} - 1) // {bk} * {bk}",
        "    kbeg = s * kchunk",
        "    kend = min(K, kbeg + kchunk)",
        f"    BK = {bk}",
        _indent(_read_params(spec["layout"]), 4),
        f"    As = cuda.shared.array(({bk}, {bm + 1}), DT)",
        f"    Bs = cuda.shared.array(({bk}, {bn + 1}), DT)",
    ]
    for r in range(bm * bk // nt):
        e = f"(t + {r * nt})"
        lines.append(f"    kk{r} = {e} % {bk}; mm{r} = {e} // {bk}" if a_k_fast
                     else f"    mm{r} = {e} % {bm}; kk{r} = {e} // {bm}")
        lines.append(_indent(spec["a_setup"].format(r=r), 4))
    a_slots = bm * bk // nt
    b_slots = bn * bk // nt
    for r in range(b_slots):
        e = f"(t + {r * nt})"
        lines.append(f"    bkk{r} = {e} % {bk}; nn{r} = {e} // {bk}" if b_k_fast
                     else f"    nn{r} = {e} % {bn}; bkk{r} = {e} // {bn}")
        lines.append(_indent(spec["b_setup"].format(r=r).replace("kk{r}".format(r=r), f"bkk{r}"), 4))
    for i in range(tm):
        lines.append("    " + "; ".join(f"c{i}_{j} = DT(0)" for j in range(tn)))
    lines.append(f"    for k0 in range(kbeg, kend, {bk}):")
    for r in range(a_slots):
        lines.append(f"        k = k0 + kk{r}")
        lines.append("        v = DT(0)")
        lines.append(_indent(spec["a_load"].format(r=r), 8))
        lines.append(f"        As[kk{r}, mm{r}] = v")
        if "a_advance" in spec:
            lines.append(_indent(spec["a_advance"].format(r=r), 8))
    for r in range(b_slots):
        lines.append(f"        k = k0 + bkk{r}")
        lines.append("        v = DT(0)")
        lines.append(_indent(spec["b_load"].format(r=r), 8))
        lines.append(f"        Bs[bkk{r}, nn{r}] = v")
        if "b_advance" in spec:
            lines.append(_indent(spec["b_advance"].format(r=r), 8))
    lines.append("        cuda.syncthreads()")
    lines.append(f"        for kk in range({bk}):")
    for i in range(tm):
        lines.append(f"            a{i} = As[kk, ty + {i * tym}]")
    for j in range(tn):
        lines.append(f"            b{j} = Bs[kk, tx + {j * txn}]")
    for i in range(tm):
        for j in range(tn):
            lines.append(f"            c{i}_{j} += a{i} * b{j}")
    lines.append("        cuda.syncthreads()")
    for j in range(tn):
        lines.append(f"    ncol{j} = n0 + tx + {j * txn}")
        lines.append(f"    n = ncol{j}")
        lines.append(f"    col{j} = {spec['store_n']}")
    for i in range(tm):
        lines.append(f"    m = m0 + ty + {i * tym}")
        lines.append("    if m < M:")
        lines.append(f"        row = {spec['store_m']}")
        for j in range(tn):
            lines += [
                f"        n = ncol{j}",
                "        if n < N:",
                f"            v = c{i}_{j}",
                f"            index = row + col{j}",
                "            if ksplit > 1:",
                "                cuda.atomic.add(C, index, v)",
                "            else:",
                "                if has_bias != 0:",
                f"                    v += bias[{spec['bias_index']}]",
                "                if has_relu != 0 and v < 0:",
                "                    v = DT(0)",
                "                C[index] = v",
            ]
    return "\n".join(line for line in lines if line.strip()), nt


@cached
def gemm_kernel(kind, dtype_name, tile, a_k_fast, b_k_fast, max_registers=None):
    source, nt = _source(kind, tile, a_k_fast, b_k_fast)
    namespace = {"cuda": cuda, "DT": from_dtype(np.dtype(dtype_name))}
    exec(compile(source, f"<numbaconv gemm {kind} {tile}>", "exec"), namespace)
    options = {"max_registers": max_registers} if max_registers else {}
    return cuda.jit(fastmath=True, **options)(namespace["kernel"]), nt


def pick_tile(M, N, K):
    """The default tile when the problem covers the GPU with it, else the small one."""
    return DEFAULT if M >= 32 and N >= 64 and K >= 16 else SMALL


def launch(kind, C, A, B, bias, M, N, K, batches, p, a_k_fast=True, b_k_fast=False, ksplit=1, tile=None,
           tab_a=None, tab_b=None, unit_stride=True, max_registers=None):
    """Run the GEMM of ``kind`` into the flat output ``C`` (zeroed by the caller when ksplit > 1)."""
    tile = tile or pick_tile(M, N, K)
    kernel, nt = gemm_kernel(kind, C.dtype.name, tile, bool(a_k_fast), bool(b_k_fast), max_registers)
    grid = ((N + tile[1] - 1) // tile[1], (M + tile[0] - 1) // tile[0], batches * ksplit)
    tab_a = tab_a if tab_a is not None else _no_table()
    tab_b = tab_b if tab_b is not None else _no_table()
    kernel[grid, nt](C, A, B, bias, M, N, K, ksplit, tuple(int(v) for v in p), tab_a, tab_b, bool(unit_stride))


_tables = {}


def _no_table():
    return table("none", lambda: np.zeros(1, np.int64))


def table(key, build):
    """A small int64 device table, built and uploaded once per ``key`` (conv geometry), then reused."""
    tab = _tables.get(key)
    if tab is None:
        tab = _tables[key] = cuda.to_device(np.ascontiguousarray(build(), dtype=np.int64))
    return tab


def params(layout, bias=0, relu=0, **values):
    """The P_LEN int tuple ``p`` of ``layout`` ("matmul" or "conv"): each of its SLOTS by name, then the flags."""
    names = SLOTS[layout]
    if set(values) != set(names):
        raise TypeError(f"gemm.params({layout!r}): expected the slots {names}, got {sorted(values)}")
    padding = (0,) * (P_LEN - len(names) - len(EPILOGUE))
    return tuple(int(v) for v in (*(values[name] for name in names), *padding, bias, relu))


_dummy = {}


def dummy(dtype):
    """A one-element device array standing in for an absent operand (no bias)."""
    dtype = np.dtype(dtype)
    if dtype not in _dummy:
        _dummy[dtype] = device_empty((1,), dtype)
    return _dummy[dtype]

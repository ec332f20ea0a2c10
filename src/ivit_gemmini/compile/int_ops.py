"""The integer operators of docs/integer-program.md as TVM tensor expressions (TE).

One function per section of the specification; each returns a `te.Tensor` and uses integer
arithmetic only, at the widths the specification proves sufficient (int64 where it says so).
`graph.py` turns each into a Relax `call_tir` with `BlockBuilder.emit_te`. Scalars that the
params hold as shape-(1,) arrays arrive here as Python ints and become literals in the TIR.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tvm import te, tirx

from ivit_gemmini.spec.constants import (
    GELU_N,
    GELU_SIGMOID_BITS,
    INT31_MAX,
    NEWTON_START,
    NEWTON_STEPS,
    SOFTMAX_N,
)

Expr = tirx.Expr
# A requantization operand: a literal (per tensor) or a 1-D tensor over the last axis.
Operand = int | te.Tensor


def c64(value: int) -> Expr:
    return tirx.const(value, "int64")


def i64(x: Expr) -> Expr:
    return x.astype("int64")  # TVM simplifies a cast of int64 to int64 away


def _dims(t: te.Tensor) -> list[int]:
    return [int(s) for s in t.shape]


def _at(operand: Operand, last_index: Expr) -> Expr:
    """The value of a per-tensor literal or of a per-channel tensor at `last_index`, as int64."""
    if isinstance(operand, int):
        return c64(operand)
    return i64(operand[last_index])


def clamp_bits(x: Expr, bits: int) -> Expr:
    return tirx.max(tirx.min(x, c64(2 ** (bits - 1) - 1)), c64(-(2 ** (bits - 1))))


def let(name: str, value: Expr, body: Callable[[Expr], Expr]) -> Expr:
    """`body(v)` with v bound once to `value` (TVM does not CSE inside an expression; the C
    compiler cannot either across the loads of possibly aliasing buffers)."""
    var = tirx.Var(name, "int64")
    return tirx.Let(var, i64(value), body(var))


def shift_rhe(a: Expr, e: Expr | int, positive: bool = False) -> Expr:
    """rhe(a / 2^e) for int64 a and 0 <= e <= 62 (the specification's branch-free form).
    `positive` promises e >= 1 (known from the params), which drops the e = 0 case."""
    if isinstance(e, int):
        if e == 0:
            return a
        return let("rq_a", a, lambda v: (v + c64(2 ** (e - 1) - 1) + ((v >> e) & c64(1))) >> e)

    def rounded(v: Expr, sh: Expr) -> Expr:
        return (v + ((c64(1) << sh) >> 1) - c64(1) + ((v >> sh) & c64(1))) >> sh

    if positive:
        return let("rq_a", a, lambda v: let("rq_e", e, lambda sh: rounded(v, sh)))
    return let(
        "rq_a", a, lambda v: let("rq_e", e, lambda sh: tirx.Select(sh > c64(0), rounded(v, sh), v))
    )


def requant_expr(z: Expr, m: Expr | int, e: Expr | int, positive: bool = False) -> Expr:
    """rhe(z * m / 2^e) in int64: |z| < 2^31 and |m| < 2^31 keep the product below 2^62."""
    mm = c64(m) if isinstance(m, int) else i64(m)
    return shift_rhe(i64(z) * mm, e if isinstance(e, int) else i64(e), positive)


def _rq(m: Operand, e: Operand, last: Expr) -> tuple[Expr | int, Expr | int]:
    return (m if isinstance(m, int) else _at(m, last), e if isinstance(e, int) else _at(e, last))


def requant(
    z: te.Tensor,
    m: Operand,
    e: Operand,
    bits: int | None,
    out_dtype: str,
    name: str = "requant",
    bias: te.Tensor | None = None,
    positive: bool = False,
) -> te.Tensor:
    """requant_b(z [+ bias], m, e) (clamped to `bits`, or unclamped when bits is None), with
    (m, e) and the bias broadcast along the last axis. Adding the int32 bias here (exact: the
    params stage proves |acc| < 2^31) saves a pass over the accumulators."""

    def body(*i: Expr) -> Expr:
        acc = i64(z[i]) if bias is None else i64(z[i]) + i64(bias[i[-1]])
        r = requant_expr(acc, *_rq(m, e, i[-1]), positive)
        return (r if bits is None else clamp_bits(r, bits)).astype(out_dtype)

    return te.compute(z.shape, body, name=name)


def rhe_div(a: Expr, b: int) -> Expr:
    """rhe(a / b) for a positive literal b."""
    q = tirx.floordiv(a, c64(b))
    r2 = c64(2) * (a - q * c64(b))
    up = tirx.Or(r2 > c64(b), tirx.And(r2 == c64(b), tirx.floormod(q, c64(2)) == c64(1)))
    return q + up.astype("int64")


def _newton_step(k: Expr, var: Expr) -> Expr:
    return tirx.floordiv(k + tirx.floordiv(var, k), c64(2))


def _newton_rows(prev: te.Tensor, var: te.Tensor, name: str) -> te.Tensor:
    return te.compute(prev.shape, lambda r: _newton_step(prev[r], var[r]), name=name)


def _normalized(x: te.Tensor) -> Callable[[Expr, Expr], Expr]:
    """u(r, c) = (y * f) >> 1 of I-LayerNorm over the last axis of int16 rows (R, C), int64,
    |u| <= 2^30; the row statistics are computed once per row."""
    rows, channels = _dims(x)
    k = te.reduce_axis((0, channels), "k")
    total = te.compute((rows,), lambda r: te.sum(i64(x[r, k]), axis=k), name="ln_sum")
    mean = te.compute((rows,), lambda r: rhe_div(total[r], channels), name="ln_mean")
    k2 = te.reduce_axis((0, channels), "k2")

    def centred(r: Expr, c: Expr) -> Expr:
        return i64(x[r, c]) - mean[r]

    var = te.compute(
        (rows,),
        lambda r: te.sum(let("ln_y", centred(r, k2), lambda y: y * y), axis=k2),
        name="ln_var",
    )
    root = te.compute((rows,), lambda r: _newton_step(c64(NEWTON_START), var[r]), name="ln_k1")
    for step in range(1, NEWTON_STEPS):  # unrolled: ten row vectors, fused into one kernel
        root = _newton_rows(root, var, f"ln_k{step + 1}")
    factor = te.compute((rows,), lambda r: tirx.floordiv(c64(INT31_MAX), root[r]), name="ln_f")
    return lambda r, c: (centred(r, c) * factor[r]) >> 1


def layernorm(x: te.Tensor, bias: te.Tensor) -> te.Tensor:
    """I-LayerNorm over the last axis of int16 rows (R, C) plus the bias -> int64 (R, C)."""
    u = _normalized(x)
    return te.compute(x.shape, lambda r, c: u(r, c) + i64(bias[c]), name="layernorm")


def layernorm_requant8(
    x: te.Tensor,
    folded: tuple[te.Tensor, te.Tensor, te.Tensor, te.Tensor],
    positive: bool = False,
) -> te.Tensor:
    """requant_8(I-LayerNorm(x)) per channel in one pass, from the folded (q, m, r, e) of
    spec/fold.py: clamp_8(q + rhe((u * m + r) / 2^e)), every term proven inside int64."""
    q, m, r, e = folded
    u = _normalized(x)

    def body(row: Expr, c: Expr) -> Expr:
        w = u(row, c) * i64(m[c]) + i64(r[c])
        return clamp_bits(i64(q[c]) + shift_rhe(w, i64(e[c]), positive), 8).astype("int8")

    return te.compute(x.shape, body, name="layernorm")


def shift_exp(x: Expr, x0: int, n: int) -> Expr:
    """E_n(x; x0) in int64, saturated at 2^31 - 1 (x0 < 0 a literal)."""

    def from_q(t: Expr, q: Expr) -> Expr:
        v = t - c64(x0) * q - c64(2 * x0)
        shift = c64(n) - q
        big = shift >= c64(32)
        exact = (v << tirx.Select(big, c64(0), shift)) >> 1
        return tirx.Select(big, c64(INT31_MAX), tirx.min(exact, c64(INT31_MAX)))

    # floor(t / x0) as floor(-t / |x0|): TVM 0.27's simplifier fails on a negative constant
    # divisor (x0 = -1 raises an InternalError), a positive one is also cheaper in C.
    return let(
        "ex_x",
        x,
        lambda xv: let(
            "ex_t",
            tirx.max(xv + (xv >> 1) - (xv >> 4), c64(n * x0)),
            lambda t: let("ex_q", tirx.floordiv(-t, c64(-x0)), lambda q: from_q(t, q)),
        ),
    )


# Tables of E_n over the whole input domain: an int8 row gives x - max(x) in [-255, 0], and
# ShiftGELU's E(-max) needs -max in [-127, 128]. Same integers as the formula, one load each.
LUT_LOW = -255
SOFTMAX_LUT_HIGH = 0
GELU_LUT_HIGH = 128


def shift_exp_int(x: int, x0: int, n: int) -> int:
    """E_n(x; x0) on Python integers (the specification's formula, used to fill the tables)."""
    t = max(x + (x >> 1) - (x >> 4), n * x0)
    q = t // x0
    v = t - x0 * q - 2 * x0
    shift = n - q
    return INT31_MAX if shift >= 32 else min((v << shift) >> 1, INT31_MAX)


def exp_table(x0: int, n: int, high: int) -> list[int]:
    """[E_n(d; x0) for d in LUT_LOW..high] (int32 values)."""
    return [shift_exp_int(d, x0, n) for d in range(LUT_LOW, high + 1)]


def _lut(table: te.Tensor, d: Expr) -> Expr:
    return i64(table[(d - c64(LUT_LOW)).astype("int32")])


def _row_max(x: te.Tensor, name: str) -> te.Tensor:
    """Row maxima as int32: an int8 accumulator costs two sign-extensions per element in C."""
    *lead, length = _dims(x)
    k = te.reduce_axis((0, length), "k")
    return te.compute(
        tuple(lead), lambda *i: te.max(x[(*i, k)].astype("int32"), axis=k), name=name
    )


def shiftmax(x: te.Tensor, x0: int, out_bits: int, lut: te.Tensor | None = None) -> te.Tensor:
    """Shiftmax over the last axis of int8 scores -> int16 in [0, 2^(out_bits-1) - 1]. With
    `lut` = exp_table(x0, 15, SOFTMAX_LUT_HIGH) the exponential is one table load."""
    *lead, length = _dims(x)
    mx = _row_max(x, "sm_max")

    def exp(d: Expr) -> Expr:
        return shift_exp(d, x0, SOFTMAX_N) if lut is None else _lut(lut, d)

    e = te.compute(
        x.shape, lambda *i: exp(i64(x[i]) - i64(mx[i[:-1]])).astype("int32"), name="sm_exp"
    )
    k = te.reduce_axis((0, length), "k")
    total = te.compute(tuple(lead), lambda *i: te.sum(i64(e[(*i, k)]), axis=k), name="sm_sum")
    factor = te.compute(
        tuple(lead),
        lambda *i: tirx.floordiv(c64(INT31_MAX), tirx.min(total[i], c64(INT31_MAX))),
        name="sm_factor",
    )
    return te.compute(
        x.shape,
        lambda *i: ((i64(e[i]) * factor[i[:-1]]) >> (32 - out_bits)).astype("int16"),
        name="shiftmax",
    )


def shiftgelu(
    x: te.Tensor, x0: int, lut: te.Tensor | None = None, out_rq: tuple[int, int] | None = None
) -> te.Tensor:
    """ShiftGELU over the last axis of int8 rows -> x * sigmoid as int16 (|g| <= 128 * 127),
    or requant_8(x * sigmoid, out_rq) as int8 in the same pass when `out_rq` is given.
    With `lut` = exp_table(x0, 23, GELU_LUT_HIGH) each exponential is one table load."""
    *lead, _ = _dims(x)
    mx = _row_max(x, "gelu_max")

    def exp(d: Expr) -> Expr:
        return shift_exp(d, x0, GELU_N) if lut is None else _lut(lut, d)

    # E(-max) once per row, not once per element.
    e_max = te.compute(tuple(lead), lambda *r: exp(-i64(mx[r])), name="gelu_emax")

    def sigmoid_times(xi: Expr, e: Expr, em: Expr) -> Expr:
        total = tirx.min(e + em, c64(INT31_MAX))
        # Both operands are positive (total >= 1), so C division (truncating) is the floor.
        sigmoid = (e * tirx.truncdiv(c64(INT31_MAX), total)) >> (32 - GELU_SIGMOID_BITS)
        return xi * sigmoid

    def finish(g: Expr) -> Expr:
        if out_rq is None:
            return g.astype("int16")
        return clamp_bits(requant_expr(g, *out_rq), 8).astype("int8")

    def body(*i: Expr) -> Expr:
        xi = i64(x[i])
        if lut is not None:  # a table load is cheap to repeat (and a Let here trips TVM)
            return finish(sigmoid_times(xi, exp(xi - i64(mx[i[:-1]])), e_max[i[:-1]]))
        return finish(
            let("g_e", exp(xi - i64(mx[i[:-1]])), lambda e: sigmoid_times(xi, e, e_max[i[:-1]]))
        )

    return te.compute(x.shape, body, name="shiftgelu")


def gelu_table(x0: int, out_rq: tuple[int, int]) -> list[list[int]]:
    """requant_8(ShiftGELU(x), out_rq) of an int8 row as a table over (row max, element):
    entry [mx + 128][x + 128] for x <= mx (others 0). Within a row the result depends on the
    element and the row max only, so one load replaces the whole per-element formula."""
    m, e = out_rq
    exp = exp_table(x0, GELU_N, GELU_LUT_HIGH)
    table = [[0] * 256 for _ in range(256)]
    for mx in range(-128, 128):
        em = exp[-mx - LUT_LOW]
        for xv in range(-128, mx + 1):
            ej = exp[xv - mx - LUT_LOW]
            sigmoid = (ej * (INT31_MAX // min(ej + em, INT31_MAX))) >> (32 - GELU_SIGMOID_BITS)
            g = xv * sigmoid * m
            r = g if e == 0 else (g + 2 ** (e - 1) - 1 + ((g >> e) & 1)) >> e
            table[mx + 128][xv + 128] = max(min(r, 127), -128)
    return table


def shiftgelu_by_table(x: te.Tensor, table: te.Tensor) -> te.Tensor:
    """requant_8(ShiftGELU(x)) over the last axis of int8 rows with `gelu_table` (256, 256)."""
    *lead, _ = _dims(x)
    mx = _row_max(x, "gelu_max")

    def body(*i: Expr) -> Expr:
        row = mx[i[:-1]].astype("int32") + 128
        return table[row, x[i].astype("int32") + 128]

    return te.compute(x.shape, body, name="shiftgelu")


def residual_add(
    branch: te.Tensor,
    rq_branch: tuple[Operand, Operand],
    skip: te.Tensor,
    rq_skip: tuple[Operand, Operand],
) -> te.Tensor:
    """clamp_16(requant(branch) + requant(skip)), each side rounded separately -> int16."""

    def body(*i: Expr) -> Expr:
        a = requant_expr(branch[i], *_rq(*rq_branch, i[-1]))
        b = requant_expr(skip[i], *_rq(*rq_skip, i[-1]))
        return clamp_bits(a + b, 16).astype("int16")

    return te.compute(branch.shape, body, name="residual_add")


def project_residual(
    acc: te.Tensor,
    bias: te.Tensor | None,
    rq: tuple[Operand, Operand],
    positive: bool,
    rq_branch: tuple[Operand, Operand],
    skip: te.Tensor,
    rq_skip: tuple[Operand, Operand],
) -> te.Tensor:
    """The end of a branch and the residual add in one pass:
    clamp_16(requant(requant_16(acc + bias, rq), rq_branch) + requant(skip, rq_skip)); `bias`
    None when acc has it already."""

    def body(*i: Expr) -> Expr:
        z = i64(acc[i]) if bias is None else i64(acc[i]) + i64(bias[i[-1]])
        branch = clamp_bits(requant_expr(z, *_rq(*rq, i[-1]), positive), 16)
        a = requant_expr(branch, *_rq(*rq_branch, i[-1]))
        b = requant_expr(skip[i], *_rq(*rq_skip, i[-1]))
        return clamp_bits(a + b, 16).astype("int16")

    return te.compute(acc.shape, body, name="project_residual")


def patch_tokens(image: te.Tensor, patch: int) -> te.Tensor:
    """im2col of a (c, H, W) image -> (patches, c * patch^2), cols in (c, ky, kx) order."""
    chans, height, width = _dims(image)
    grid = width // patch
    area = patch * patch

    def body(t: Expr, col: Expr) -> Expr:
        c, rem = col // area, col % area
        py, px = t // grid, t % grid
        return image[c, py * patch + rem // patch, px * patch + rem % patch]

    return te.compute(((height // patch) * grid, chans * area), body, name="patch_tokens")


def assemble_tokens(
    x: te.Tensor, cls: te.Tensor, pos: te.Tensor, rq_x: tuple[int, int], rq_pos: tuple[int, int]
) -> te.Tensor:
    """X0 = clamp_16(requant([cls; x], rq_x) + requant(pos, rq_pos)) -> int16 (N, C)."""
    tokens, _ = _dims(pos)

    def body(t: Expr, c: Expr) -> Expr:
        # Index patch row max(t - 1, 0) so that no branch ever reads out of bounds.
        row = tirx.max(t - 1, 0)
        token = tirx.Select(t == 0, i64(cls[c]), i64(x[row, c]))
        total = requant_expr(token, *rq_x) + requant_expr(pos[t, c], *rq_pos)
        return clamp_bits(total, 16).astype("int16")

    return te.compute((tokens, _dims(x)[1]), body, name="assemble_tokens")


def split_heads(
    qkv: te.Tensor, which: int, heads: int, transpose: bool, rows: int | None = None
) -> te.Tensor:
    """q, k or v (which = 0, 1, 2) of (N, 3C) as (H, N, d), or (H, d, N) when transposed;
    only the first `rows` tokens when given."""
    tokens, three_c = _dims(qkv)
    tokens = tokens if rows is None else rows
    d = three_c // 3 // heads
    base = which * heads * d
    if transpose:
        return te.compute(
            (heads, d, tokens), lambda h, j, n: qkv[n, base + h * d + j], name=f"heads{which}_t"
        )
    return te.compute(
        (heads, tokens, d), lambda h, n, j: qkv[n, base + h * d + j], name=f"heads{which}"
    )


def merge_heads_requant(ctx: te.Tensor, m: int, e: int, bits: int) -> te.Tensor:
    """(H, N, d) int32 -> requant_b over (N, H * d) with the heads concatenated on channels."""
    heads, tokens, d = _dims(ctx)
    return te.compute(
        (tokens, heads * d),
        lambda n, c: clamp_bits(requant_expr(ctx[c // d, n, c % d], m, e), bits).astype("int8"),
        name="merge_heads",
    )


def take_rows(x: te.Tensor, start: int, count: int) -> te.Tensor:
    rows, cols = _dims(x)
    return te.compute((count, cols), lambda r, c: x[r + start, c], name="take_rows")


def elementwise(
    x: te.Tensor,
    fn: Callable[[Expr], Expr],
    out_dtype: str,
    name: str,
    shape: Sequence[int] | None = None,
) -> te.Tensor:
    return te.compute(shape or x.shape, lambda *i: fn(x[i]).astype(out_dtype), name=name)

"""Exact products for walks: balanced product trees of integer matrices (gmpy2 entries in
row-major tuples, Strassen-Winograd for large 2 x 2 products) and products of a polynomial's
values over a run of steps in closed form where the polynomial is a power of k + b.

A walk's time goes to its few largest products (4 x 2 entries of tens of thousands of bits at
depth 1,000 on the zeta3 diagonal): Winograd's 7 multiplications in place of 8 take 10 % off
each of them above a few thousand bits (measured in this module's test run), and the walk's
scalar factor, (k + 1)^3 on that diagonal, is a rising factorial cubed (FLINT's binary splitting)
rather than a thousand values multiplied out.
"""

from __future__ import annotations

from typing import Sequence

from flint import fmpz
from gmpy2 import fac, mpz

# Above this many bits in an entry, a 2 x 2 product takes Winograd's variant of Strassen's
# scheme: measured with gmpy2, the same at 2,000 bits, 6 % faster at 4,000, 10 % at 15,000.
_WINOGRAD_BITS = 3000


def matmul(a: tuple, b: tuple, r: int) -> tuple:
    """The product of two r x r matrices held as row-major tuples of r * r integers."""
    if r == 2:
        a11, a12, a21, a22 = a
        b11, b12, b21, b22 = b
        if a22.bit_length() > _WINOGRAD_BITS:
            # Strassen-Winograd: 7 multiplications and 15 additions.
            s1 = a21 + a22
            s2 = s1 - a11
            t1 = b12 - b11
            t2 = b22 - t1
            m1 = a11 * b11
            m5 = s1 * t1
            u2 = m1 + s2 * t2
            u3 = u2 + (a11 - a21) * (b22 - b12)
            return (m1 + a12 * b21, u2 + m5 + (a12 - s2) * b22, u3 - a22 * (t2 - b21), u3 + m5)
        return (a11 * b11 + a12 * b21, a11 * b12 + a12 * b22, a21 * b11 + a22 * b21, a21 * b12 + a22 * b22)
    return tuple(sum(a[i * r + m] * b[m * r + c] for m in range(1, r)) + a[i * r] * b[c]
                 for i in range(r) for c in range(r))


def tree(leaves: Sequence[tuple], r: int) -> tuple:
    """leaves[0] leaves[1] ... leaves[-1] by a balanced product tree (integers of balanced sizes
    meet in every product, which fast multiplication rewards); at least one leaf."""
    nodes = list(leaves)
    while len(nodes) > 1:
        paired = [matmul(nodes[j], nodes[j + 1], r) for j in range(0, len(nodes) - 1, 2)]
        if len(nodes) % 2:
            paired.append(nodes[-1])
        nodes = paired
    return nodes[0]


def scalar_tree(values: Sequence) -> mpz:
    """The product of integers by a balanced tree; 1 for none."""
    nodes = list(values)
    if not nodes:
        return mpz(1)
    while len(nodes) > 1:
        paired = [nodes[j] * nodes[j + 1] for j in range(0, len(nodes) - 1, 2)]
        if len(nodes) % 2:
            paired.append(nodes[-1])
        nodes = paired
    return mpz(nodes[0])


def linear_product(b: int, first: int, depth: int) -> mpz:
    """(first + b)(first + 1 + b) ... (first + depth - 1 + b): the values of k + b over a run of
    ``depth`` steps from ``first``, as a rising factorial (zero when the run crosses k = -b)."""
    lo = first + b
    hi = lo + depth - 1
    if depth <= 0:
        return mpz(1)
    if lo == 1:  # GMP's factorial: twice as fast as a rising factorial converted from FLINT
        return fac(depth)
    if lo > 0:
        return mpz(int(fmpz(lo).rising(depth)))
    if hi < 0:
        magnitude = mpz(int(fmpz(-hi).rising(depth)))
        return -magnitude if depth % 2 else magnitude
    return mpz(0)

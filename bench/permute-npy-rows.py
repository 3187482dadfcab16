#!/usr/bin/env python3
"""Writes a copy of a 2-D .npy table with its rows permuted: row r takes row (7919 r + SHIFT) mod n
(7919 is prime, so for any n it does not divide this is a permutation; the suite's
IrllrecRef test applies the same one). Text tables that disagree with the interactions while keeping
every statistic of the table itself (the irllrec-ref reproducer, plugins/enhancers/irllrec/README.md).
Standard library only: reads the .npy v1/v2 header, moves rows.

usage: permute-npy-rows.py IN.npy OUT.npy SHIFT
"""
import ast
import struct
import sys


def main(src, dst, seed):
    with open(src, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"{src}: not a .npy file")
    major = data[6]
    if major == 1:
        (hlen,), start = struct.unpack("<H", data[8:10]), 10
    else:
        (hlen,), start = struct.unpack("<I", data[8:12]), 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    if header["fortran_order"] or len(header["shape"]) != 2:
        sys.exit(f"{src}: expected a C-order 2-D array, found {header}")
    rows, cols = header["shape"]
    body = data[start + hlen:]
    width = len(body) // rows
    if rows % 7919 == 0:
        sys.exit(f"{src}: {rows} rows: 7919 divides it, not a permutation")
    order = [(7919 * r + seed) % rows for r in range(rows)]
    with open(dst, "wb") as f:
        f.write(data[:start + hlen])
        f.write(b"".join(body[i * width:(i + 1) * width] for i in order))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))

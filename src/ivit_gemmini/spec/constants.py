"""The constants of the integer specification (docs/integer-program.md), in one place.

Torch-free so that every backend's implementation (spec/ops.py, compile/int_ops.py) imports the
same numbers.
"""

INT31_MAX = 2**31 - 1
NEWTON_STEPS = 10
NEWTON_START = 2**16
SOFTMAX_N = 15
GELU_N = 23
GELU_SIGMOID_BITS = 8

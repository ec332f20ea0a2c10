"""The integer specification (docs/integer-program.md) as code: the `torch-int` backend."""

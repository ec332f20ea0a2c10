"""The integer specification (docs/integer-program.md) in executable form: the `torch-int` backend."""

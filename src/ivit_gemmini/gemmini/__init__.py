"""The Gemmini configuration and ISA tables, and the C headers generated from them."""

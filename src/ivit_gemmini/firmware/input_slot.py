"""One linked firmware ELF for many images: each image's int8 input is written into the ELF's
`ivit_input` bytes instead of linking the ELF again.

Linking an image's ELF runs GCC three times (firmware sources, the input's `.incbin`, the link):
about 0.17 CPU s, more than a simulator shard job may spend per image besides the simulation.
The input is `.incbin`'d between the symbols `ivit_input` and `ivit_input_end` in a loaded,
file-backed section, and every input of a model has the same size, so the ELFs of two images
differ only in those bytes of one loaded segment (tests/test_firmware_input_slot.py checks the
loaded segments against a fresh link). pyelftools reads the symbol table and program headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivit_gemmini.errors import UserError


@dataclass(frozen=True)
class InputSlot:
    """Where the input lives in the ELF file: its file offset and size in bytes."""

    offset: int
    size: int


def find_input_slot(elf: str | Path) -> InputSlot:
    """The file bytes that Spike loads at `ivit_input` .. `ivit_input_end`."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with open(elf, "rb") as fh:
        image = ELFFile(fh)
        symtab = image.get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            raise UserError(f"{elf} has no symbol table: link it without stripping")
        bounds = []
        for name in ("ivit_input", "ivit_input_end"):
            symbols = symtab.get_symbol_by_name(name)
            if not symbols:
                raise UserError(f"{elf} has no symbol {name}: it is not an ivit-gemmini firmware")
            bounds.append(int(symbols[0]["st_value"]))
        start, end = bounds
        for segment in image.iter_segments("PT_LOAD"):
            base = int(segment["p_vaddr"])
            if base <= start <= end <= base + int(segment["p_filesz"]):
                return InputSlot(int(segment["p_offset"]) + start - base, end - start)
    raise UserError(f"{elf}: ivit_input ({start:#x}..{end:#x}) is not in a file-backed loaded "
                    "segment; check firmware/ivit.ld")


def write_input(elf: str | Path, slot: InputSlot, input_bin: str | Path) -> None:
    """Overwrite the ELF's input bytes with the quantized image `input_bin`."""
    try:
        data = Path(input_bin).read_bytes()
    except FileNotFoundError:
        raise UserError(f"input {input_bin} does not exist: run the quantize stage first") from None
    if len(data) != slot.size:
        raise UserError(
            f"input {input_bin} has {len(data)} bytes but the model expects {slot.size} "
            "(in_chans x image_size^2): re-quantize the image with this model's params"
        )
    with open(elf, "r+b") as fh:
        fh.seek(slot.offset)
        fh.write(data)

"""Command line: ``shiftmax verilog shiftmax|argmax ...`` (filled in by the hardware package)."""


def main(argv=None) -> int:
    from shiftmax.hw.cli import main as hw_main  # Amaranth is imported only here

    return hw_main(argv)

"""Tables printed by the preparation verbs: the first column left-aligned, the others (counts)
right-aligned, columns two spaces apart."""

from collections.abc import Sequence


def table_lines(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """The lines of a table of ``header`` then ``rows`` (cells shown with ``str``)."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    return [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]

"""Reads an Excel workbook with openpyxl (PyPI), independently of the library that wrote it,
and prints every sheet's cell values as JSON: {"sheet name": [[row values], ...]}.

Usage: python read_xlsx.py FILE.xlsx
"""

import json
import sys

from openpyxl import load_workbook


def main():
    book = load_workbook(sys.argv[1], read_only=True, data_only=True)
    out = {}
    for sheet in book.worksheets:
        out[sheet.title] = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    json.dump(out, sys.stdout, ensure_ascii=False, default=str)


if __name__ == "__main__":
    main()

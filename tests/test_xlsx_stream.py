"""The streaming XLSX writer (`registry.xlsx_stream`) reads back in openpyxl as the values,
formats and layout it was given: what the portfolio workbook relies on."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl

from registry.xlsx_stream import SheetData
from registry.xlsx_stream import xlsx_bytes


def test_values_read_back_with_their_types_and_formats() -> None:
    rows = [
        ["A & B <c>", Decimal("1234.50"), 7, dt.date(2026, 6, 30), True, None, "=1+1"],
        ["  padded ", Decimal("-0.01"), None, dt.datetime(2026, 7, 1, 12), False, 2.5, "bad\x01"],
    ]
    data = xlsx_bytes(
        [
            SheetData(
                "parcels & more",
                rows,
                header=["name", "cost", "count", "day", "flag", "x", "text"],
                number_formats=[None, "#,##0.00", "#,##0.0"],
                widths=[30, 15],
                freeze_header=True,
            ),
            SheetData("About", [("As of", "2026-06-30")]),
        ]
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["parcels & more", "About"]
    sheet = book["parcels & more"]
    assert [c.value for c in sheet[1]] == ["name", "cost", "count", "day", "flag", "x", "text"]
    assert sheet["A1"].font.bold and not sheet["A2"].font.bold
    assert [c.value for c in sheet[2]] == [
        "A & B <c>",
        1234.5,
        7,
        dt.datetime(2026, 6, 30),
        True,
        None,
        "=1+1",
    ]
    assert sheet["G2"].data_type == "s"  # text, never a formula
    assert [c.value for c in sheet[3]] == [
        "  padded ",
        -0.01,
        None,
        dt.datetime(2026, 7, 1, 12),
        False,
        2.5,
        "bad",
    ]
    assert sheet["B2"].number_format == "#,##0.00" and sheet["C2"].number_format == "#,##0.0"
    assert sheet["D2"].number_format == "yyyy-mm-dd" and sheet["A2"].number_format == "General"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 30
    assert [c.value for c in book["About"][1]] == ["As of", "2026-06-30"]


def test_text_and_decimals_of_every_shape_read_back_exactly() -> None:
    """Values the row writer does not write on its fast path (text with tabs, line breaks,
    outer non-breaking spaces or characters XML cannot hold; Decimals with an exponent, NaN or
    infinity) read back as they would through the general one."""
    texts = ["a\tb", "line\nbreak", "\u00a0nbsp\u00a0", "soft\u00adhyphen", "x\ufffey", "ok é 中"]
    numbers = [Decimal("1E+3"), Decimal("1E-7"), Decimal("-0.00"), Decimal("NaN")]
    data = xlsx_bytes([SheetData("values", [texts, numbers, [Decimal("Infinity")]])])
    sheet = openpyxl.load_workbook(io.BytesIO(data))["values"]
    assert [c.value for c in sheet[1]] == [
        "a\tb",
        "line\nbreak",
        "\u00a0nbsp\u00a0",
        "soft\u00adhyphen",
        "xy",
        "ok é 中",
    ]
    assert [c.value for c in sheet[2]][:4] == [1000, 0.0000001, 0, None]
    assert sheet["A3"].value is None

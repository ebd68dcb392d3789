"""Workbooks written by hand, part by part: cells exactly as a test gives them (formulas
without cached values, error cells...), which neither xlsxwriter nor our writer produce."""

import zipfile

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS = f'xmlns="{MAIN_NS}"'
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def handmade_xlsx(path, rows, *, date1904: bool | str = False):
    """A workbook whose first sheet's rows are the given <c> elements, as written (openpyxl is
    not installed, and xlsxwriter always writes a cached value for a formula). Cell styles:
    s="1" a date (numFmtId 14), s="2" a date-time (numFmtId 22). `date1904`: True writes
    date1904="1"; a text is written as given (the schema's boolean also allows "true")."""
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    sheet_data = "".join(f'<row r="{number}">{cells}</row>' for number, cells in enumerate(rows, 1))
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{main}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{main}.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PKG_NS}"><Relationship Id="rId1" '
            f'Type="{_R_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook {_NS} xmlns:r="{_R_NS}">'
            + (
                f'<workbookPr date1904="{"1" if date1904 is True else date1904}"/>'
                if date1904
                else ""
            )
            + '<sheets><sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PKG_NS}">'
            f'<Relationship Id="rId1" Type="{_R_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_R_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            f'<styleSheet {_NS}><cellXfs count="3"><xf numFmtId="0"/>'
            '<xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="22" applyNumberFormat="1"/>'
            "</cellXfs></styleSheet>"
        ),
        "xl/worksheets/sheet1.xml": (
            f"<worksheet {_NS}><sheetData>{sheet_data}</sheetData></worksheet>"
        ),
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, xml in parts.items():
            archive.writestr(
                name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml
            )
    return path


def inline_cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

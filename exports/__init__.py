"""Excel reports for accountants.

`columns` describes a sheet (typed columns, rows, a chart), `workbook` writes it with openpyxl in
write-only mode, `registry` names every report, `reports/` holds one module per report (queries that
shape rows; no openpyxl), `build` ties a report, its filters and the title block to a file, and
`cli` is `flask reports`. Nothing here writes to the database.
"""

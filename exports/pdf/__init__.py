"""Patient-facing PDFs drawn with reportlab: the client ledger, one-off invoices and payment receipts."""
